"""Results applied to the next year's budget (预算安排建议): finance and auditors see every
department, a purchasing department its own."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.models import Role
from evalplatform.services import budget_advice, paging, projects
from evalplatform.services.errors import ValidationFailed
from evalplatform.services.paging import paginate_items
from evalplatform.web.access import Principal, require
from evalplatform.web.api_schema import error_responses
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import ApiPage, ApiPerPage, PageNumber
from evalplatform.web.routes.settlements import XLSX
from evalplatform.web.templating import render

router = APIRouter(route_class=FormRoute)
readers = require(Role.finance, Role.auditor, Role.purchaser)
#: The project table's sort keys.
SORTS = {"department": lambda r: (r.department, r.project.id),
         "project": lambda r: r.project.name,
         "budget": lambda r: r.budget_fen,
         "total": lambda r: (r.result is not None, r.result.total if r.result else 0),
         "change": lambda r: r.change_fen}


def _scope(principal: Principal) -> int | None:
    return principal.organisation_id if principal.role == Role.purchaser else None


def _values(request: Request) -> dict:
    return {key: value for key, value in request.query_params.items()
            if key == "year" or key.startswith("adjust_")}


def _advice(session: Session, principal: Principal, values: dict):
    year = budget_advice.parse_year(values.get("year", ""), projects.today().year)
    adjustments = budget_advice.parse_adjustments(values)
    return budget_advice.build(session, year, adjustments, organisation_id=_scope(principal))


@router.get("/reports/budget")
def budget_report(request: Request, sort: str = "", page: PageNumber = 1, per_page: str = "20",
                  session: Session = Depends(get_session),
                  principal: Principal = Depends(readers)):
    values = _values(request)
    errors: dict = {}
    try:
        advice = _advice(session, principal, values)
    except ValidationFailed as exc:  # shown with the default adjustments, the year if valid
        errors = exc.errors
        year = projects.today().year if "year" in errors else budget_advice.parse_year(
            values.get("year", ""), projects.today().year)
        advice = budget_advice.build(session, year, organisation_id=_scope(principal))
    rows = paginate_items(advice.rows, page=page, per_page=per_page, sort=sort, sort_keys=SORTS)
    context = {"advice": advice, "rows": rows, "errors": errors, "values": values,
               "levels": budget_advice.LEVELS, "advice_texts": budget_advice.ADVICE,
               "field_name": budget_advice.field_name}
    template = "settlements/_budget_table.html" if request.headers.get("hx-request") \
        and not errors else "settlements/budget.html"
    return render(request, template, context, status_code=422 if errors else 200)


@router.get("/reports/budget.xlsx")
def budget_workbook(request: Request, session: Session = Depends(get_session),
                    principal: Principal = Depends(readers)):
    advice = _advice(session, principal, _values(request))
    name = f"budget-advice-{advice.budget_year}.xlsx"
    return Response(budget_advice.workbook(advice), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ---------------------------------------------------------------- the JSON API

api = APIRouter(route_class=FormRoute, prefix="/api", tags=["reports"],
                responses=error_responses(401, 403, 422))


class AdviceRowOut(BaseModel):
    project_id: int
    project: str
    department: str
    budget_fen: int
    evaluation_id: int | None = Field(None, description="The evaluation whose result it goes by")
    evaluation: str | None = None
    stage: str | None = Field(None, description="interim or final")
    total: str | None = None
    grade: str | None = Field(None, description="As the scheme graded it")
    level: str | None = Field(None, description="优, 良, 中 or 差; none without a result")
    placed_by_total: bool = Field(False, description="The scheme's grade has another name: "
                                  "placed by its total on 90 / 80 / 60")
    from_last_year: bool = Field(False, description="The result of last year's project of the "
                                 "same service (department and catalogue entry)")
    adjustment_percent: str | None = None
    suggested_fen: int
    change_fen: int
    advice: str


class DepartmentOut(BaseModel):
    department: str
    projects: int
    without_result: int
    levels: dict[str, int]
    budget_fen: int
    suggested_fen: int
    change_fen: int


class AdviceOut(BaseModel):
    year: int = Field(description="The projects' year")
    budget_year: int = Field(description="The year whose budget the advice is for")
    as_of: str
    adjustments: dict[str, str] = Field(description="Percent by grade, as applied")
    departments: list[DepartmentOut]
    total: DepartmentOut
    items: list[AdviceRowOut]
    page: int
    pages: int
    per_page: int
    sort: str


def _department(d: budget_advice.DepartmentTotal) -> DepartmentOut:
    return DepartmentOut(department=d.name, projects=d.projects, without_result=d.without_result,
                         levels=d.levels, budget_fen=d.budget_fen, suggested_fen=d.suggested_fen,
                         change_fen=d.change_fen)


def _row(r: budget_advice.AdviceRow) -> AdviceRowOut:
    found = r.result
    return AdviceRowOut(
        project_id=r.project.id, project=r.project.name, department=r.department,
        budget_fen=r.budget_fen, evaluation_id=found.evaluation.id if found else None,
        evaluation=found.evaluation.title if found else None,
        stage=found.evaluation.stage.value if found else None,
        total=str(found.total) if found else None, grade=found.grade if found else None,
        level=r.level, placed_by_total=r.placed_by_total, from_last_year=r.from_last_year,
        adjustment_percent=None if r.adjustment is None else str(r.adjustment),
        suggested_fen=r.suggested_fen, change_fen=r.change_fen, advice=r.advice)


@api.get("/reports/budget", summary="Budget advice from results (预算安排建议)", response_model=AdviceOut)
def get_budget_report(request: Request,
                      year: str = Query("", description="The projects' year (default: this "
                                        "year); the advice is for the next year's budget"),
                      sort: str = Query("", description="department, project, budget, total "
                                        "or change; a leading - descending"),
                      page: ApiPage = 1, per_page: ApiPerPage = 20,
                      session: Session = Depends(get_session),
                      principal: Principal = Depends(readers)):
    """The budget advice as its page shows it; each grade's adjustment may be set with
    ``adjust_优``, ``adjust_良``, ``adjust_中``, ``adjust_差`` (percent, -100 to 100)."""
    advice = _advice(session, principal, _values(request))
    rows = paginate_items(advice.rows, page=page, per_page=per_page, sort=sort, sort_keys=SORTS)
    problems = paging.list_problems(rows, sort=sort, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return AdviceOut(year=advice.year, budget_year=advice.budget_year,
                     as_of=advice.as_of.isoformat(),
                     adjustments={k: str(v) for k, v in advice.adjustments.items()},
                     departments=[_department(d) for d in advice.departments],
                     total=_department(advice.total), items=[_row(r) for r in rows.items],
                     page=rows.page, pages=rows.pages, per_page=rows.per_page,
                     sort=("-" if rows.descending else "") + rows.sort if rows.sort else "")
