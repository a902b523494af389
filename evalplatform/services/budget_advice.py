"""Results applied to the next year's budget (绩效评价结果应用于预算安排).

Evaluation results are "an important basis for arranging budgets, improving policies and
improving management": in principle a result graded 优 or 良 is supported, one graded 中 or
差 calls for the policy and the management to be improved and the budget to be cut as the
case may be (财政部《项目支出绩效评价管理办法》, 财预〔2020〕10号). How much is the finance
department's call, so each grade's adjustment is a percentage it sets (the defaults: 优 and
良 kept, 中 −10 %, 差 −20 %), and the page is advice for the budget round, not a decision.

For the projects of one year (as the budget disclosure lists them: cleared for purchase),
the latest final result that speaks for each one gives its grade: its own — an ex-post
(final-stage) evaluation's if there is one, else the latest final result of a monitoring or
interim round —, or, while it has none, that of the department's project of the year before
in the same catalogue entry (the same service bought the year before, whose ex-post
evaluation usually becomes final in the spring). The grade gives the adjustment; the
adjustment applied to the project's budget gives the suggested amount for the next year,
half-up to the fen. A result graded by a scheme with other grade names is placed by its
total on the usual bounds (90, 80, 60). A project with no result to go by keeps its budget
and is counted apart: nothing has been learnt of it yet. A purchasing department sees its
own projects only.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlmodel import Session, select

from evalplatform.i18n import N_, _
from evalplatform.labels import EVALUATION_STAGE_LABELS
from evalplatform.models import EvaluationStage, Organisation, Project, Role
from evalplatform.services import dashboard, projects, settlements, standing, years
from evalplatform.services.errors import ValidationFailed

#: The grades of the national rule, best first, with the lower bound of each total.
LEVELS = ("优", "良", "中", "差")
BOUNDS = {"优": Decimal(90), "良": Decimal(80), "中": Decimal(60), "差": Decimal(0)}
#: Each grade's adjustment of the next year's budget, in percent (a cut is negative).
DEFAULT_ADJUSTMENTS = {"优": Decimal(0), "良": Decimal(0), "中": Decimal(-10), "差": Decimal(-20)}
#: The grades whose budget is cut (核减), never raised; the others are supported, never cut.
CUT = ("中", "差")
ADVICE = {
    "优": N_("Support: keep the service, give it priority"),
    "良": N_("Support: keep the service"),
    "中": N_("Improve the policy and the management; cut the budget as the case may be"),
    "差": N_("Improve the policy and the management; cut the budget, or arrange it only "
            "once the faults are put right"),
}
NO_RESULT = N_("No final result yet: the budget is kept until one is known")
HUNDRED = Decimal(100)


def field_name(level: str) -> str:
    """The form field of a grade's adjustment (``adjust_优`` …)."""
    return f"adjust_{level}"


@dataclass
class AdviceRow:
    """One project of the year and what the result that speaks for it advises."""

    project: Project
    department: str
    result: standing.FinalResult | None
    level: str | None  # 优 / 良 / 中 / 差, or None without a result to go by
    placed_by_total: bool  # the scheme's grade is not one of the four: placed by its total
    adjustment: Decimal | None  # percent
    suggested_fen: int  # the project's budget where there is no result
    from_last_year: bool = False  # the result is that of last year's project of the service
    #: how many of the year's projects go by that same result of last year (this one
    #: included): one result cutting several budgets, some perhaps with another supplier
    shared_by: int = 1

    @property
    def budget_fen(self) -> int:
        return self.project.budget_fen

    @property
    def change_fen(self) -> int:
        return self.suggested_fen - self.budget_fen

    @property
    def advice(self) -> str:
        return str(ADVICE[self.level]) if self.level else str(NO_RESULT)

    @property
    def stage(self) -> str:
        return str(EVALUATION_STAGE_LABELS[self.result.evaluation.stage]) if self.result else ""


@dataclass
class DepartmentTotal:
    name: str
    projects: int = 0
    budget_fen: int = 0
    suggested_fen: int = 0
    without_result: int = 0
    levels: dict[str, int] = field(default_factory=lambda: {lv: 0 for lv in LEVELS})

    @property
    def change_fen(self) -> int:
        return self.suggested_fen - self.budget_fen


@dataclass
class BudgetAdvice:
    year: int  # the projects' year; the advice is for the budget of year + 1
    adjustments: dict[str, Decimal]
    rows: list[AdviceRow]
    departments: list[DepartmentTotal]
    total: DepartmentTotal
    as_of: date

    @property
    def budget_year(self) -> int:
        return self.year + 1

    def charts(self) -> dict:
        """ECharts options: each department's budget this year against the suggested one."""
        grey, red = "#8c959f", "#a4161a"
        names = [d.name for d in self.departments]
        return {"departments": {
            "grid": {"left": 8, "right": 16, "top": 28, "bottom": 8, "containLabel": True},
            "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
            "xAxis": {"type": "value"},
            "yAxis": {"type": "category", "inverse": True, "data": names},  # as the table
            "series": [
                {"type": "bar", "name": _("Budget %(year)s (¥10,000)", year=self.year),
                 "itemStyle": {"color": grey},
                 "data": [round(d.budget_fen / 1_000_000, 2) for d in self.departments]},
                {"type": "bar", "name": _("Suggested %(year)s (¥10,000)", year=self.budget_year),
                 "itemStyle": {"color": red},
                 "data": [round(d.suggested_fen / 1_000_000, 2) for d in self.departments]}]}}


def level_of(result: standing.FinalResult) -> tuple[str, bool]:
    """The grade of the national rule a result stands at, and whether it was placed by its
    total (its scheme names its grades otherwise)."""
    if result.grade in LEVELS:
        return result.grade, False
    return next(lv for lv in LEVELS if result.total >= BOUNDS[lv]), True


def suggested(budget_fen: int, adjustment: Decimal) -> int:
    """The budget adjusted by ``adjustment`` percent, half-up to the fen (never below 0)."""
    amount = Decimal(budget_fen) * (HUNDRED + adjustment) / HUNDRED
    return max(0, int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def parse_adjustments(values: dict) -> dict[str, Decimal]:
    """Each grade's adjustment as typed (percent: 0 to 100 for 优 and 良, which are supported,
    −100 to 0 for 中 and 差, which are cut; a % sign and a typographic or full-width minus
    allowed); an empty or absent field takes the default. A refusal names the grade and the
    rule."""
    adjustments: dict[str, Decimal] = {}
    errors: dict[str, str] = {}
    for level in LEVELS:
        raw = str(values.get(field_name(level)) or "").strip()
        text = raw.rstrip("%％").strip().replace("−", "-").replace("－", "-").replace("＋", "+")
        if not text:
            adjustments[level] = DEFAULT_ADJUSTMENTS[level]
            continue
        try:
            number = Decimal(text)
            if not number.is_finite() or not -HUNDRED <= number <= HUNDRED:
                raise InvalidOperation
        except InvalidOperation:
            errors[field_name(level)] = _(
                "Adjustment for %(grade)s: “%(value)s” is not allowed; enter a percentage from "
                "-100 to 100, e.g. %(example)s (negative: a cut).", grade=level, value=raw,
                example=DEFAULT_ADJUSTMENTS[level] or "-10")
            continue
        if level in CUT and number > 0:
            errors[field_name(level)] = _(
                "Adjustment for %(grade)s: a 中 or 差 result cuts the budget (核减预算, "
                "财预〔2020〕10号); enter a percentage from -100 to 0, e.g. %(example)s.",
                grade=level, example=DEFAULT_ADJUSTMENTS[level])
            continue
        if level not in CUT and number < 0:
            errors[field_name(level)] = _(
                "Adjustment for %(grade)s: an 优 or 良 result is supported (予以支持, "
                "财预〔2020〕10号), not cut; enter a percentage from 0 to 100.", grade=level)
            continue
        adjustments[level] = number
    if errors:
        raise ValidationFailed(errors)
    return adjustments


def parse_year(year: str, default: int) -> int:
    text = (year or "").strip()
    if not text:
        return default
    value = years.parse(text)
    if value is None:
        raise ValidationFailed({"year": years.problem()})
    return value


def _latest(results: list[standing.FinalResult]) -> standing.FinalResult | None:
    """The result that speaks for a project: its latest final ex-post evaluation's, else its
    latest final result of any stage."""
    return max(results, key=_order, default=None)


def build(session: Session, year: int, adjustments: dict[str, Decimal] | None = None, *,
          organisation_id: int | None = None) -> BudgetAdvice:
    """The advice for the projects of ``year`` (a purchaser's: its department's only)."""
    adjustments = adjustments or dict(DEFAULT_ADJUSTMENTS)
    statement = select(Project).where(Project.year.in_((year, year - 1)),
                                      Project.status.in_(projects.CLEARED_FOR_PURCHASE))
    if organisation_id is not None:
        statement = statement.where(Project.department_id == organisation_id)
    both = list(session.exec(statement.order_by(Project.department_id, Project.id)))
    chosen = [p for p in both if p.year == year]
    wanted = {p.id for p in both}
    by_project: dict[int, list[standing.FinalResult]] = {}
    for r in standing.final_results(session, closed_by=projects.today()):  # oldest first
        if r.project.id in wanted:
            by_project.setdefault(r.project.id, []).append(r)
    # last year's result of each department's service (catalogue entry), the latest first
    last_year: dict[tuple[int, int], standing.FinalResult] = {}
    for p in both:
        latest = _latest(by_project.get(p.id, [])) if p.year == year - 1 else None
        key = (p.department_id, p.catalogue_entry_id)
        if latest is not None and (key not in last_year
                                   or _order(latest) > _order(last_year[key])):
            last_year[key] = latest
    names = {o.id: o.name for o in session.exec(select(Organisation).where(
        Organisation.id.in_(sorted({p.department_id for p in chosen}) or [-1])))}
    rows: list[AdviceRow] = []
    departments: dict[int, DepartmentTotal] = {}
    total = DepartmentTotal(_("Total"))
    for project in chosen:
        result = _latest(by_project.get(project.id, []))
        inherited = result is None
        if inherited:
            result = last_year.get((project.department_id, project.catalogue_entry_id))
        level, placed = level_of(result) if result else (None, False)
        adjustment = adjustments[level] if level else None
        amount = suggested(project.budget_fen, adjustment) if level else project.budget_fen
        department = names.get(project.department_id, "")
        row = AdviceRow(project, department, result, level, placed, adjustment, amount,
                        inherited and result is not None)
        rows.append(row)
        dept = departments.setdefault(project.department_id, DepartmentTotal(department))
        for target in (dept, total):
            target.projects += 1
            target.budget_fen += project.budget_fen
            target.suggested_fen += amount
            if level:
                target.levels[level] += 1
            else:
                target.without_result += 1
    inherited_from = Counter(r.result.result.id for r in rows if r.from_last_year)
    for r in rows:
        if r.from_last_year:
            r.shared_by = inherited_from[r.result.result.id]
    return BudgetAdvice(year, adjustments, rows,
                        sorted(departments.values(), key=lambda d: d.name), total,
                        projects.today())


def _order(result: standing.FinalResult) -> tuple:
    """Which of two results speaks later: an ex-post evaluation's before a monitoring
    round's, then the one final later."""
    return (result.evaluation.stage == EvaluationStage.final, result.final_on, result.result.id)


def workbook(advice: BudgetAdvice) -> bytes:
    """The advice as an Excel workbook: the adjustments used, the departments, the projects."""
    yuan = settlements.yuan
    book = Workbook()
    sheet = book.active
    sheet.title = _("Adjustments")
    sheet.append([_("Budget advice from results"),
                  _("Projects of %(year)s, for the budget of %(next)s",
                    year=advice.year, next=advice.budget_year)])
    sheet.append([_("As of"), advice.as_of])
    sheet.append([])
    sheet.append([_("Grade"), _("Adjustment in percent"), _("Advice")])
    for level in LEVELS:
        sheet.append([level, advice.adjustments[level], str(ADVICE[level])])
    departments = book.create_sheet(_("Departments"))
    departments.append([_("Purchasing department"), _("Projects"), _("Without a final result"),
                        _("Budget %(year)s", year=advice.year),
                        _("Suggested %(year)s", year=advice.budget_year), _("Increase or cut")])
    for d in [*advice.departments, advice.total]:
        departments.append([d.name, d.projects, d.without_result, yuan(d.budget_fen),
                            yuan(d.suggested_fen), yuan(d.change_fen)])
    rows = book.create_sheet(_("Projects"))
    rows.append([_("Purchasing department"), _("Project"), _("Budget %(year)s", year=advice.year),
                 _("Evaluation"), _("Of the project"), _("Stage"), _("Total score"),
                 _("Grade"), _("Final on"),
                 _("Adjustment in percent"), _("Suggested %(year)s", year=advice.budget_year),
                 _("Increase or cut"), _("Advice")])
    for r in advice.rows:
        rows.append([r.department, r.project.name, yuan(r.budget_fen),
                     r.result.evaluation.title if r.result else "",
                     r.result.project.name if r.result else "", r.stage,
                     r.result.total if r.result else None, r.result.grade if r.result else "",
                     r.result.final_on if r.result else None, r.adjustment,
                     yuan(r.suggested_fen), yuan(r.change_fen), r.advice])
    for ws in book.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dashboard.provider
def _cards(session: Session, role: Role, organisation_id: int | None) -> list[dashboard.Card]:
    """Finance, and a purchasing department for its own projects: this year's projects whose
    result advises a cut of next year's budget."""
    if role == Role.purchaser and organisation_id is not None:
        scope = organisation_id
    elif role == Role.finance:
        scope = None
    else:
        return []
    advice = build(session, projects.today().year, organisation_id=scope)
    cut = [r for r in advice.rows if r.change_fen < 0]
    if not cut:
        return []
    return [dashboard.Card(
        _("Budget cuts advised for %(year)s", year=advice.budget_year), str(len(cut)),
        _("Their results advise %(amount)s less than this year", amount=settlements.money_text(
            -sum(r.change_fen for r in cut))), "/reports/budget")]
