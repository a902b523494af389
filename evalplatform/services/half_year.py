"""The half-year statistics report (半年统计报告), due in January and July.

Districts and counties report twice a year: by 31 January for the second half of the year
before, by 31 July for the first half. One period's figures, each from where it is kept:

* the projects of the budget year with their budgets, and the contracts signed in the
  period with their amounts, by catalogue category (level 1) and by procurement method. A
  project counts once it is being bought (``projects.CLEARED_FOR_PURCHASE``: approved, below
  the approval threshold, or contracted), as the budget disclosure lists it; one awaiting
  finance approval or returned may not start procurement and is shown apart, not counted.
  Each project is taken as it stood on the period's last day (``projects.as_they_stood``):
  one registered later is left out, one approved later counts as awaiting approval, and a
  correction made later is undone, so the report made again later says the same;
* evaluations whose result became final in the period, by stage, with the grade
  distribution and the mean total (from the ``evaluation_result`` table);
* settlements approved in the period and not withdrawn by its end (an approval withdrawn
  later still counts, at the figures it was given at): instalments, payable amounts and
  deductions, by grade;
  payments made in the period, and the overdue payments with the interest owed at its end;
* late filings by the end of the period: contract copies, publications and monitoring
  rounds past their deadline (the due-and-late list counted on the period's last day).

Money is summed in integer fen; the page draws the figures with ECharts and the same figures
go to an Excel workbook.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlmodel import Session, select

from evalplatform.i18n import N_, _
from evalplatform.labels import EVALUATION_STAGE_LABELS, METHOD_LABELS
from evalplatform.models import CatalogueEntry, Contract, ProcurementMethod, Project
from evalplatform.services import (
    catalogue,
    contracts,
    projects,
    settlements,
    standing,
    workdays,
    years,
)
from evalplatform.services.errors import ValidationFailed

GRADES = ("优", "良", "中", "差")


def _method_order() -> list[str]:
    """The procurement methods in the order of the law (公开招标, 邀请招标, 竞争性谈判, 竞争性磋商,
    询价, 单一来源), whatever the reader's language sorts their names into."""
    return [str(METHOD_LABELS[m]) for m in ProcurementMethod]


@dataclass(frozen=True)
class Period:
    year: int
    half: int  # 1: January–June, 2: July–December

    @property
    def start(self) -> date:
        return date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def end(self) -> date:
        return date(self.year, 6, 30) if self.half == 1 else date(self.year, 12, 31)

    @property
    def due(self) -> date:
        """The report is due by the end of the month after the half-year; a last day that is a
        day off (31 January 2027 is a Sunday) runs to the next working day."""
        return workdays.period_end(
            date(self.year, 7, 31) if self.half == 1 else date(self.year + 1, 1, 31))

    @property
    def label(self) -> str:
        return _("%(year)s, first half", year=self.year) if self.half == 1 else \
            _("%(year)s, second half", year=self.year)

    def __contains__(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end


def latest_closed(today: date) -> Period:
    """The last half-year that has ended by ``today`` (the one being reported on)."""
    return Period(today.year, 1) if today.month >= 7 else Period(today.year - 1, 2)


def parse(year: str, half: str, today: date) -> Period:
    if not year and not half:
        return latest_closed(today)
    errors = {}
    y = years.parse(year)
    if y is None:
        errors["year"] = years.problem()
    if half not in ("1", "2"):
        errors["half"] = _("Choose the first or the second half of the year.")
    if errors:
        raise ValidationFailed(errors)
    period = Period(y, int(half))
    if period.start > today:
        # nothing of it has happened: figures "as of today" would be the current period's
        field_name = "year" if y > today.year else "half"
        raise ValidationFailed({field_name: _(
            "%(period)s has not begun (it starts on %(start)s): choose a half-year up to the "
            "current one.", period=period.label, start=period.start)})
    return period


@dataclass
class Row:
    """One line of a breakdown: projects and budgets, contracts and amounts."""

    label: str
    projects: int = 0
    budget_fen: int = 0
    contracts: int = 0
    amount_fen: int = 0


@dataclass
class Report:
    period: Period
    by_category: list[Row]
    by_method: list[Row]
    total: Row
    evaluations: dict[str, int]  # stage label → count of final results
    grades: dict[str, int]
    mean_total: Decimal | None
    settled: dict[str, dict[str, int]]  # grade (or "—") → count, instalment, payable, deduction
    settled_total: dict[str, int]
    paid: dict[str, int]
    overdue: dict[str, int]
    late: dict[str, int]  # kind label → count
    notes: list[str] = field(default_factory=list)
    #: projects of the year awaiting finance approval or returned: not counted above
    not_cleared: Row = field(default_factory=lambda: Row(""))
    #: the day the projects are counted as they stood on: the period's last, or today
    as_of: date | None = None

    def charts(self) -> dict:
        """ECharts options for the page."""
        red, green, grey = "#a4161a", "#2f6f4e", "#8c959f"
        return {
            "category": {
                "grid": {"left": 8, "right": 16, "top": 24, "bottom": 8, "containLabel": True},
                "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
                "xAxis": {"type": "value"},
                # top to bottom in the order of the table below
                "yAxis": {"type": "category", "inverse": True,
                          "data": [r.label for r in self.by_category]},
                "series": [
                    {"type": "bar", "name": _("Budget (¥10,000)"), "itemStyle": {"color": grey},
                     "data": [round(r.budget_fen / 1_000_000, 2) for r in self.by_category]},
                    {"type": "bar", "name": _("Contracted (¥10,000)"), "itemStyle": {"color": red},
                     "data": [round(r.amount_fen / 1_000_000, 2) for r in self.by_category]}]},
            "grades": {
                "tooltip": {"trigger": "item"}, "legend": {"bottom": 0},
                "series": [{"type": "pie", "radius": ["40%", "68%"],
                            "data": [{"name": g, "value": n} for g, n in self.grades.items()]}]},
            "settled": {
                "grid": {"left": 8, "right": 16, "top": 24, "bottom": 8, "containLabel": True},
                "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
                "xAxis": {"type": "category", "data": list(self.settled)},
                "yAxis": {"type": "value"},
                "series": [
                    {"type": "bar", "stack": "s", "name": _("Payable (¥10,000)"),
                     "itemStyle": {"color": green},
                     "data": [round(v["payable"] / 1_000_000, 2) for v in self.settled.values()]},
                    {"type": "bar", "stack": "s", "name": _("Deduction (¥10,000)"),
                     "itemStyle": {"color": red},
                     "data": [round(v["deduction"] / 1_000_000, 2)
                              for v in self.settled.values()]}]},
        }


def build(session: Session, period: Period, *, organisation_id: int | None = None) -> Report:
    """The period's figures; a purchaser's report covers its own department only."""
    entries = {e.id: e for e in session.exec(select(CatalogueEntry))}
    top: dict[int, CatalogueEntry] = {}

    def category(entry_id: int) -> str:
        if entry_id not in top:
            top[entry_id] = catalogue.entry_path(session, entries[entry_id])[0]
        entry = top[entry_id]
        return f"{entry.code} {entry.name}"

    statement = select(Project)
    if organisation_id is not None:
        statement = statement.where(Project.department_id == organisation_id)
    all_projects = list(session.exec(statement))
    by_id = {p.id: p for p in all_projects}
    signed = [c for c in session.exec(select(Contract))
              if c.project_id in by_id and c.signed_on in period]
    cat_rows: dict[str, Row] = {}
    method_rows: dict[str, Row] = {}  # label → row; listed in the law's order of methods
    total = Row(_("Total"))
    not_cleared = Row(_("Awaiting finance approval or returned"))
    # A period still running is counted as of today, not projected to its last day: the
    # interest then agrees with the payment-due list and the home page.
    as_of = min(period.end, projects.today())
    # the projects as they stood on that day, so that a report made again later says the same:
    # one registered or approved afterwards, or corrected afterwards, counts as it was then
    for project in projects.as_they_stood(session, all_projects, as_of):
        if project.year != period.year:
            continue
        if not project.cleared:
            not_cleared.projects += 1
            not_cleared.budget_fen += project.budget_fen
            continue
        for rows, key in ((cat_rows, category(project.catalogue_entry_id)),
                          (method_rows, str(METHOD_LABELS[project.procurement_method]))):
            row = rows.setdefault(key, Row(key))
            row.projects += 1
            row.budget_fen += project.budget_fen
        total.projects += 1
        total.budget_fen += project.budget_fen
    for contract in signed:
        project = by_id[contract.project_id]
        for rows, key in ((cat_rows, category(project.catalogue_entry_id)),
                          (method_rows, str(METHOD_LABELS[project.procurement_method]))):
            row = rows.setdefault(key, Row(key))
            row.contracts += 1
            row.amount_fen += contract.amount_fen
        total.contracts += 1
        total.amount_fen += contract.amount_fen

    finals = [r for r in standing.final_results(session, closed_by=projects.today())
              if r.final_on in period and r.project.id in by_id]
    stages = Counter(str(EVALUATION_STAGE_LABELS[r.evaluation.stage]) for r in finals)
    grades = {g: 0 for g in GRADES}
    for r in finals:
        grades[r.grade] = grades.get(r.grade, 0) + 1
    # rounded once, half-up to two decimals, as every total is (DESIGN.md: scoring model)
    mean = (sum(r.total for r in finals) / len(finals)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP) if finals else None

    settled: dict[str, dict[str, int]] = {}
    settled_total = {"count": 0, "instalment": 0, "payable": 0, "deduction": 0}
    # approved in the period and still standing at its end, at the figures approved then
    for s in settlements.approvals_in(session, period.start, period.end, as_of=as_of,
                                      organisation_id=organisation_id):
        key = s.grade or _("not linked")
        bucket = settled.setdefault(key, {"count": 0, "instalment": 0, "payable": 0,
                                          "deduction": 0})
        for target in (bucket, settled_total):
            target["count"] += 1
            target["instalment"] += s.instalment_fen
            target["payable"] += s.payable_fen
            target["deduction"] += s.deduction_fen
    paid = {"count": 0, "amount": 0, "late": 0, "interest": 0}
    overdue = {"count": 0, "amount": 0, "interest": 0}
    for row in settlements.paid_in(session, period.start, as_of,
                                   organisation_id=organisation_id):
        s = row.settlement
        paid["count"] += 1
        paid["amount"] += s.payable_fen
        if (s.late_days or 0) > 0:
            paid["late"] += 1
            paid["interest"] += s.interest_fen or 0
    # overdue: only a small or medium supplier's payment has a statutory due date
    for payment in settlements.payments(session, organisation_id=organisation_id,
                                        today=as_of):
        if payment.state == "overdue":
            overdue["count"] += 1
            overdue["amount"] += payment.payable_fen or 0
            overdue["interest"] += payment.interest_fen or 0

    late = Counter()
    for item in contracts.due_and_late(session, organisation_id=organisation_id,
                                       today=as_of).late:
        late[str(LATE_KINDS.get(item.kind, item.kind))] += 1
    notes = []
    if period.end >= projects.today():
        notes.append(_("The period has not ended yet: the figures are as of today."))
    return Report(period, sorted(cat_rows.values(), key=lambda r: r.label),
                  [method_rows[m] for m in _method_order() if m in method_rows], total,
                  dict(stages), grades, mean, settled, settled_total, paid, overdue, dict(late), notes,
                  not_cleared, as_of)


LATE_KINDS = {
    "approval": N_("Approvals waiting"),
    "ex_ante": N_("Ex-ante assessments missing"),
    "copy": N_("Signed copies not filed in time"),
    "publication": N_("Contracts not published in time"),
    "monitoring": N_("Contract years without a monitoring round"),
    "report": N_("Evaluation reports to file"),
    "evaluation": N_("Evaluations past their window without a result"),
}


def workbook(report: Report) -> bytes:
    """The report as an Excel workbook, one sheet per table, money in yuan."""
    book = Workbook()
    summary = book.active
    summary.title = _("Summary")
    yuan = settlements.yuan
    lines = [
        (_("Report period"), _("%(value)s (%(note)s)", value=report.period.label,
                                       note=" – ".join(map(str, (report.period.start, report.period.end))))),
        (_("Report due by"), report.period.due),
        (_("Projects of the year"), report.total.projects),
        (_("Budget"), yuan(report.total.budget_fen)),
        (_("Not counted: awaiting finance approval or returned"), report.not_cleared.projects),
        (_("Their budget"), yuan(report.not_cleared.budget_fen)),
        (_("Contracts signed"), report.total.contracts),
        (_("Contract amount"), yuan(report.total.amount_fen)),
        (_("Results final in the period"), sum(report.grades.values())),
        (_("Mean total"), report.mean_total),
        (_("Settlements approved"), report.settled_total["count"]),
        (_("Payable amount"), yuan(report.settled_total["payable"])),
        (_("Deduction"), yuan(report.settled_total["deduction"])),
        (_("Payments made"), report.paid["count"]),
        (_("Amount paid"), yuan(report.paid["amount"])),
        (_("Paid late"), report.paid["late"]),
        (_("Interest owed on the late payments"), yuan(report.paid["interest"])),
        (_("Overdue at the end of the period"), report.overdue["count"]),
        (_("Overdue amount"), yuan(report.overdue["amount"])),
        (_("Interest owed on them"), yuan(report.overdue["interest"])),
    ]
    for label, value in lines:
        summary.append([label, value])
        if isinstance(value, Decimal) and label != _("Mean total"):
            summary.cell(summary.max_row, 2).number_format = settlements.YUAN_FORMAT
    summary.column_dimensions["A"].width = 30
    summary.column_dimensions["B"].width = 40

    def breakdown(title: str, rows: list[Row]) -> None:
        sheet = book.create_sheet(title)
        sheet.append([title, _("Projects of the year"), _("Budget"), _("Contracts signed"),
                      _("Contract amount")])
        for row in [*rows, report.total]:
            sheet.append([row.label, row.projects, yuan(row.budget_fen), row.contracts,
                          yuan(row.amount_fen)])
            for column in (3, 5):
                sheet.cell(sheet.max_row, column).number_format = settlements.YUAN_FORMAT
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 36

    breakdown(_("By category"), report.by_category)
    breakdown(_("By procurement method"), report.by_method)
    grades = book.create_sheet(_("Grades"))
    grades.append([_("Grade"), _("Results final in the period")])
    for grade, count in report.grades.items():
        grades.append([grade, count])
    for stage, count in report.evaluations.items():
        grades.append([stage, count])
    settled = book.create_sheet(_("Settlements"))
    settled.append([_("Grade"), _("Settlements approved"), _("Amount of the instalments"),
                    _("Payable amount"), _("Deduction")])
    for grade, v in [*report.settled.items(), (_("Total"), report.settled_total)]:
        settled.append([grade, v["count"], yuan(v["instalment"]), yuan(v["payable"]),
                        yuan(v["deduction"])])
        for column in (3, 4, 5):
            settled.cell(settled.max_row, column).number_format = settlements.YUAN_FORMAT
    late = book.create_sheet(_("Late filings"))
    late.append([_("What"), _("Count")])
    for kind, count in report.late.items():
        late.append([kind, count])
    late.column_dimensions["A"].width = 36
    for sheet in (grades, settled, late):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
