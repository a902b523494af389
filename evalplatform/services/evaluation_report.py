"""The evaluation report (绩效评价报告): one version of a result written up for people.

``build`` gathers, from the stored result and what it belongs to, everything the report says:
the project, contract and scheme; the total and grade; every indicator's score with the
reasons for each deduction in the engine's words; the survey's figures and their quality;
the panel's agreement; the payment the result earns and the settlements made on it; appeals
and the acceptance. ``docx`` writes that same report as a Word document (python-docx); the
print-friendly page (``templates/results/report.html``) renders it as HTML. Nothing here
computes a score: every figure comes from the stored result, so the report, the result page
and ``python -m scoring evaluate`` on the package all say the same.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from sqlmodel import Session, select

from evalplatform.i18n import _, percent
from evalplatform.labels import EVALUATION_STAGE_LABELS
from evalplatform.models import EvaluationResult, Instalment, Organisation, Settlement
from evalplatform.services import appeals, clock, evaluations, projects, results, settlements
from evalplatform.services.acceptance import CONCLUSION_LABELS

FONT = "SimSun"  # 宋体: the face Chinese official documents are set in


@dataclass
class Deduction:
    """A leaf that scored less than it could, with the engine's explanation."""

    id: str
    name: str
    part: str
    points: str
    score: str
    lost: str
    reasons: list[str]


@dataclass
class Report:
    """One version of a result, laid out for a report (plain data, no database objects)."""

    title: str
    subtitle: str
    state_label: str
    final_ready: bool
    total: str
    grade: str
    facts: list[tuple[str, str]]
    conclusion: list[str]
    parts: list[results.PartRow]
    nodes: list[results.NodeRow]
    deductions: list[Deduction]
    missing: list[results.MissingRow]
    survey_facts: list[tuple[str, str]]
    survey_rates: list[str]
    survey_table: dict | None
    panels: list[tuple[str, str]]
    quality_notes: list[str]
    warnings: list[str]
    payment_facts: list[tuple[str, str]]
    payment_notes: list[str]
    settlements: list[list[str]]
    appeals: list[list[str]]
    acceptance: list[tuple[str, str]]
    generated_at: str
    filename: str
    charts: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _local(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    return clock.as_utc(moment).astimezone(clock.LOCAL_TZ).strftime(fmt)


def _three(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def _percent(value, places: int = 1) -> str:
    return "—" if value is None else percent(f"{Decimal(str(value)) * 100:.{places}f}")


def _deductions(view: results.ResultView) -> list[Deduction]:
    found = []
    for node in view.nodes:
        if not node.is_leaf or not node.lost:
            continue
        could = Decimal(node.applicable if node.applicable != "—" else node.points)
        found.append(Deduction(node.id, node.name, node.part, node.applicable, node.score,
                               str(could - Decimal(node.score)), node.trace))
    return found


def _survey(view: results.ResultView) -> tuple[list[tuple[str, str]], list[str]]:
    quality = view.quality
    if not quality.get("responses"):
        return [], []
    facts = [(_("Survey responses"), str(quality.get("responses") or 0)),
             (_("With a counted answer"), str(quality.get("answered") or 0))]
    if quality.get("population"):
        facts.append((_("Service recipients"), str(quality["population"])))
    if quality.get("sample_needed"):
        facts.append((_("Sample needed for ±%(margin)s points at %(level)s percent confidence",
                        margin=5, level=95), str(quality["sample_needed"])))
    if quality.get("margin") is not None:
        facts.append((_("Margin of error"), "±" + _percent(quality["margin"], 2)))
    alpha = quality.get("alpha")
    if alpha:
        facts.append((_("Cronbach's alpha"), _("%(value)s (95 percent interval %(low)s – %(high)s, "
                                               "%(n)s respondents)", value=_three(alpha["statistic"]),
                                               low=_three(alpha.get("ci_low")),
                                               high=_three(alpha.get("ci_high")),
                                               n=alpha.get("n", ""))))
    elif quality.get("alpha_note"):
        facts.append((_("Cronbach's alpha"), str(quality["alpha_note"])))
    names = {n.id: n.name for n in view.nodes}
    rates = []
    for r in quality.get("rates") or []:
        known = dict(leaf=r["leaf"], name=names.get(r["leaf"], ""), rate=_percent(r.get("rate")),
                     n=r.get("n", 0), margin=_percent(r.get("margin"), 2))
        people = r.get("respondents")  # results of engines before evalplatform-scoring/2: none
        if people is None or people == r.get("n"):
            rates.append(_("%(leaf)s %(name)s: satisfaction rate %(rate)s of %(n)s answers "
                           "(±%(margin)s)", **known))
        else:
            rates.append(_("%(leaf)s %(name)s: satisfaction rate %(rate)s of %(n)s answers from "
                           "%(people)s respondents (±%(margin)s, counted over the respondents)",
                           people=people, **known))
    return facts, rates


def _panels(view: results.ResultView) -> list[tuple[str, str]]:
    parts = {p.id: f"{p.id} {p.name}" for p in view.parts}
    rows = []
    for panel in view.quality.get("panels") or []:
        bits = [_("%(n)s sheets", n=panel.get("sheets", 0))]
        if panel.get("kendall_w"):
            w = panel["kendall_w"]
            bits.append(_("Kendall's W = %(w)s (χ² = %(chi2)s, df %(df)s, p = %(p)s)",
                          w=_three(w["statistic"]), chi2=_three(w.get("chi2")),
                          df=w.get("df", ""), p=_three(w.get("pvalue"))))
        if panel.get("icc"):
            icc = panel["icc"]
            bits.append(_("%(kind)s = %(value)s (95 percent interval %(low)s – %(high)s)",
                          kind=icc.get("kind", "ICC"), value=_three(icc["statistic"]),
                          low=_three(icc.get("ci_low")), high=_three(icc.get("ci_high"))))
        if panel.get("note"):
            bits.append(str(panel["note"]))
        rows.append((parts.get(panel.get("part"), str(panel.get("part"))), "; ".join(bits)))
    return rows


def build(session: Session, principal, evaluation, result: EvaluationResult) -> Report:
    """The report of ``result`` (a version the principal may read) of ``evaluation``."""
    view = results.explain(result)
    contract = evaluations.contract_of(session, evaluation)
    project = projects.get(session, contract.project_id)
    supplier = session.get(Organisation, contract.supplier_id)
    department = session.get(Organisation, project.department_id)
    state = results.state(session, result, evaluation)

    facts = [
        (_("Project"), project.name),
        (_("Purchasing department"), department.name),
        (_("Supplier"), supplier.name),
        (_("Contract"), _("no. %(id)s, signed %(day)s, %(months)s months, %(amount)s",
                          id=contract.id, day=contract.signed_on.isoformat(),
                          months=contract.term_months,
                          amount=settlements.money_text(contract.amount_fen))),
        (_("Evaluation"), evaluation.title),
        (_("Stage and period"), f"{EVALUATION_STAGE_LABELS[evaluation.stage]} · "
                                f"{evaluation.period_start} – {evaluation.period_end}"),
        (_("Indicator scheme"), _("%(value)s (%(note)s)", value=view.scheme_name,
                                          note="SHA-256 " + view.scheme_digest[:16] + "…")),
        (_("Missing scores"), view.missing_policy_label),
        (_("Result version"), _("version %(n)s, computed %(at)s by %(who)s", n=result.version,
                                at=_local(result.computed_at),
                                who=results.user_name(session, result.computed_by))),
    ]
    if result.reason:
        facts.append((_("Why recomputed"), result.reason))
    if result.published_at:
        facts.append((_("Publicised on"), _local(result.published_at, "%Y-%m-%d")))
        facts.append((_("Appeal deadline"), str(result.appeal_deadline or "")))
    if result.final_at:
        facts.append((_("Final since"), _local(result.final_at, "%Y-%m-%d")))

    survey_facts, survey_rates = _survey(view)
    table = view.charts.get("survey_table")

    payment_facts: list[tuple[str, str]] = []
    if view.payment:
        payment_facts = [(_("Performance-linked instalment"), view.payment["amount"]),
                         (_("Ratio"), settlements.percent_text(view.payment["ratio"])),
                         (_("Payable"), view.payment["payable"]),
                         (_("Deduction"), view.payment["deduction"])]
    settled = []
    for s in session.exec(select(Settlement).where(Settlement.evaluation_id == evaluation.id)
                          .order_by(Settlement.id)):
        settled.append([f"JS-{s.id:06d}", str(session.get(Instalment, s.instalment_id).seq),
                        settlements.money_text(s.instalment_amount_fen),
                        settlements.percent_text(s.ratio), settlements.money_text(s.payable_fen),
                        settlements.money_text(s.deduction_fen),
                        str(settlements.STATUS_LABELS[s.status]),
                        " ".join(x for x in (s.voucher_no or "", str(s.paid_on or "")) if x)])

    appeal_rows = [[_("Appeal no. %(id)s", id=a.id), _local(a.filed_at, "%Y-%m-%d"),
                    str(appeals.STATUS_LABELS[a.status]), a.reasons, a.decision or (
                        _("Withdrawn on %(when)s by %(who)s", when=_local(a.withdrawn_at),
                          who=results.user_name(session, a.withdrawn_by))
                        if a.withdrawn_at else "")]
                   for a in appeals.for_evaluation(session, evaluation.id)
                   if appeals.can_see(session, principal, a)]

    accepted = settlements.acceptance_of(session, evaluation.id)
    acceptance = []
    if accepted is not None:
        acceptance = [(_("Accepted on"), str(accepted.accepted_on)),
                      (_("Conclusion"), str(CONCLUSION_LABELS[accepted.conclusion])),
                      (_("Recipients taking part"), str(accepted.participants)),
                      (_("How they took part"), accepted.participation),
                      (_("Their opinion"), accepted.opinion)]

    conclusion = [_("Total %(total)s, grade %(grade)s.", total=view.total, grade=view.grade),
                  *view.total_trace, *view.grade_trace]
    if not result.final_ready:
        conclusion.insert(0, _("Missing scores block this result: it can be read, not published."))
    return Report(
        title=_("Performance evaluation report"),
        # a title that already begins with the project's name is not prefixed with it twice
        subtitle=evaluation.title if evaluation.title.startswith(project.name)
        else f"{project.name} · {evaluation.title}",
        state_label=results.state_label(state), final_ready=result.final_ready,
        total=view.total, grade=view.grade, facts=facts, conclusion=conclusion,
        parts=view.parts, nodes=view.nodes, deductions=_deductions(view), missing=view.missing,
        survey_facts=survey_facts, survey_rates=survey_rates, survey_table=table,
        panels=_panels(view), quality_notes=view.quality_trace, warnings=view.warnings,
        payment_facts=payment_facts, payment_notes=view.payment_trace, settlements=settled,
        appeals=appeal_rows, acceptance=acceptance,
        generated_at=_local(clock.now()),
        filename=_("evaluation-report-%(id)s-v%(version)s.docx", id=evaluation.id,
                   version=result.version),
        charts=view.charts,
        notes=[_("Every figure comes from the stored result of this version; the scoring "
                 "package reproduces it: python -m scoring evaluate PACKAGE.json")])


# ---------------------------------------------------------------- Word


def _set_font(run, size: float | None = None, bold: bool = False) -> None:
    run.font.name = FONT
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    if size:
        run.font.size = Pt(size)
    run.bold = bold


def _paragraph(document, text: str, *, size: float = 10.5, bold: bool = False,
               style: str | None = None, grey: bool = False):
    paragraph = document.add_paragraph(style=style)
    run = paragraph.add_run(text)
    _set_font(run, size, bold)
    if grey:
        run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
    return paragraph


def _heading(document, text: str, level: int = 1) -> None:
    heading = document.add_heading(level=level)
    run = heading.add_run(text)
    _set_font(run, 16 if level == 1 else 13, True)
    run.font.color.rgb = RGBColor(0, 0, 0)


def _table(document, header: list[str], rows: list[list[str]], widths: list[float] | None = None,
           numeric: set[int] = frozenset()) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        _set_font(cell.paragraphs[0].add_run(text), 9, True)
    for row in rows:
        cells = table.add_row().cells
        for index, (cell, text) in enumerate(zip(cells, row, strict=True)):
            cell.text = ""
            paragraph = cell.paragraphs[0]
            _set_font(paragraph.add_run(str(text)), 9)
            if index in numeric:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if widths:
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=False):
                cell.width = Cm(width)
    document.add_paragraph()


def _facts(document, facts: list[tuple[str, str]]) -> None:
    _table(document, [_("Item"), _("Value")], [[k, v] for k, v in facts], [4.5, 11.5])


def docx(report: Report) -> bytes:
    """The report as a Word document (.docx)."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.5))
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    normal.font.size = Pt(10.5)
    document.core_properties.title = f"{report.title} · {report.subtitle}"

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_font(title.add_run(report.title), 20, True)
    sub = document.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_font(sub.add_run(report.subtitle), 12)
    _paragraph(document, _("Status: %(state)s · generated %(at)s", state=report.state_label,
                           at=report.generated_at), size=9, grey=True)

    _heading(document, _("1. Basic information"))
    _facts(document, report.facts)

    _heading(document, _("2. Conclusion"))
    _paragraph(document, _("Total %(total)s · grade %(grade)s", total=report.total,
                           grade=report.grade), size=14, bold=True)
    for line in report.conclusion[1:] if report.final_ready else report.conclusion:
        _paragraph(document, line)
    for m in report.missing:
        _paragraph(document, f"{m.where}: {m.what}", style="List Bullet")

    _heading(document, _("3. Scores by evaluating party"))
    _table(document, [_("Part"), _("Evaluating party"), _("Weight"), _("Part score"),
                      _("Weight × score"), _("Sheets combined by")],
           [[f"{p.id} {p.name}", p.party_label, p.weight, p.score_exact, p.weighted,
             p.combine_label + ("\n" + "; ".join(
                 f"{s['scorer']} " + (s.get("total") or "—" if s.get("chosen") else _(
                     "%(value)s (%(note)s)", value=s.get("total") or "—",
                     note=_("not used"))) for s in p.sheets)
                 if p.sheets else "")] for p in report.parts],
           [3.5, 2.2, 1.5, 2.0, 2.2, 4.6], numeric={2, 3, 4})
    for p in report.parts:
        for line in p.trace:
            _paragraph(document, line, size=9, grey=True)

    _heading(document, _("4. Scores by indicator"))
    _table(document, [_("Indicator"), _("Rule"), _("Points"), _("Points scored"), _("Status")],
           [["\u3000" * n.depth + f"{n.id} {n.name}", n.rule_label, n.points, n.score,
             n.status_label] for n in report.nodes],
           [7.0, 3.0, 1.8, 1.8, 2.4], numeric={2, 3})
    _heading(document, _("Reasons for the deductions"), 2)
    if not report.deductions:
        _paragraph(document, _("No indicator lost points."))
    for d in report.deductions:
        _paragraph(document, _("%(id)s %(name)s: %(score)s of %(points)s, %(lost)s points lost",
                               id=d.id, name=d.name, score=d.score, points=d.points, lost=d.lost),
                   bold=True)
        for line in d.reasons:
            _paragraph(document, line, size=9.5)

    _heading(document, _("5. Satisfaction survey"))
    if report.survey_facts:
        _facts(document, report.survey_facts)
        for line in report.survey_rates:
            _paragraph(document, line, style="List Bullet")
        table = report.survey_table
        if table:
            _table(document, [_("Question"), *table["options"], _("No answer")],
                   [[row["question"], *[str(row["counts"][o]) for o in table["options"]],
                     str(row["unanswered"])] for row in table["rows"]],
                   numeric=set(range(1, len(table["options"]) + 2)))
    else:
        _paragraph(document, _("This evaluation has no survey responses."))

    _heading(document, _("6. Panel agreement"))
    if report.panels:
        _facts(document, report.panels)
    else:
        _paragraph(document, _("No part was scored by a panel."))
    for line in report.quality_notes:
        _paragraph(document, line, size=9, grey=True)
    if report.warnings:
        _heading(document, _("Warnings"), 2)
        for line in report.warnings:
            _paragraph(document, line, style="List Bullet")

    _heading(document, _("7. Payment consequence"))
    if report.payment_facts:
        _facts(document, report.payment_facts)
        for line in report.payment_notes:
            _paragraph(document, line)
    else:
        _paragraph(document, _("No performance-linked instalment depends on this evaluation."))
    if report.settlements:
        _table(document, [_("Settlement no."), _("Instalment"), _("Instalment amount"),
                          _("Ratio"), _("Payable amount"), _("Deduction"), _("Status"),
                          _("Voucher and payment date")], report.settlements,
               numeric={2, 3, 4, 5})

    if report.appeals:
        _heading(document, _("8. Appeals"))
        _table(document, [_("Appeal"), _("Filed"), _("Status"), _("Reasons"), _("Decision")],
               report.appeals, [2.5, 2.2, 2.2, 5, 4])
    if report.acceptance:
        _heading(document, _("9. Acceptance with the recipients"))
        _facts(document, report.acceptance)

    for line in report.notes:
        _paragraph(document, line, size=8.5, grey=True)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


__all__ = ["Deduction", "Report", "build", "docx"]
