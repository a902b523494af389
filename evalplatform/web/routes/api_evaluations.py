"""The JSON API for evaluations: the same services and access rules as the pages.

The purchaser schedules an evaluation of its contract (which freezes the contract's scheme),
and the organiser — finance or the purchasing department — opens collection and closes it, as
the evaluation's page does; later steps are the result's (``api_results``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.i18n import _
from evalplatform.models import EvaluationStage, EvaluationStatus, Role
from evalplatform.services import evaluations, paging, report_filing, results
from evalplatform.services.errors import ValidationFailed
from evalplatform.web.access import Principal, require
from evalplatform.web.api_schema import Moment, Version, error_responses
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import ApiPage, ApiPerPage
from evalplatform.web.routes.evaluations import evaluation_organiser
from evalplatform.web.routes.projects import contract_purchaser

router = APIRouter(route_class=FormRoute, prefix="/api", tags=["evaluations"],
                   responses=error_responses(401, 403, 422))

readers = require(Role.finance, Role.purchaser, Role.auditor, Role.supplier, Role.evaluator)
evaluation_reader = require(Role.finance, Role.purchaser, Role.auditor, Role.supplier,
                            Role.evaluator, owns=evaluations.owns_evaluation)


class EvaluationOut(BaseModel):
    id: int
    title: str
    stage: EvaluationStage
    status: EvaluationStatus
    contract_id: int
    project_id: int
    project_name: str
    department: str
    supplier: str
    scheme_id: int
    period_start: date
    period_end: date
    opens_at: Moment
    closes_at: Moment
    version: int
    report_filing_required: bool = Field(
        description="An ex-post evaluation of a project of ¥5,000,000 or more: once its result "
                    "is final, the purchasing department files the report with the ex-ante "
                    "assessment (评价报告备案; POST …/report-filing)")
    report_filed_on: date | None = Field(description="The day the report was filed, if it was")
    report_filed_version: int | None = Field(description="The result version the report filed "
                                                         "was of")


class EvaluationPage(BaseModel):
    items: list[EvaluationOut]
    total: int
    page: int
    pages: int
    per_page: int
    sort: str = Field(description="The sort applied, a leading - descending")


def _out(row: evaluations.EvaluationRow) -> EvaluationOut:
    e = row.evaluation
    return EvaluationOut(id=e.id, title=e.title, stage=e.stage, status=e.status,
                         contract_id=row.contract.id, project_id=row.project.id,
                         project_name=row.project.name, department=row.department.name,
                         supplier=row.supplier.name, scheme_id=e.scheme_id,
                         period_start=e.period_start, period_end=e.period_end,
                         opens_at=e.opens_at, closes_at=e.closes_at, version=e.version,
                         report_filing_required=report_filing.required(row.project, e),
                         report_filed_on=e.report_filed_on,
                         report_filed_version=e.report_filed_version)


def _scope(session: Session, principal: Principal) -> dict:
    if principal.role == Role.purchaser:
        return {"organisation_id": principal.organisation_id}
    if principal.role == Role.supplier:
        return {"supplier_id": principal.organisation_id or -1}
    if principal.role == Role.evaluator:
        return {"evaluation_ids": evaluations.assigned_ids(session, principal)}
    return {}


@router.get("/evaluations", summary="List evaluations (评价列表)", response_model=EvaluationPage)
def list_evaluations(status: str = Query("", description="An evaluation status: "
                                         + ", ".join(EvaluationStatus.__members__)
                                         + "; or under_way: collecting or scoring"),
                     stage: str = Query("", description="interim or final"),
                     q: str = Query("", description="Words in the title or the project's name"),
                     sort: str | None = Query(None, description="title, opens_at, closes_at, "
                                              "status or project; a leading - sorts "
                                              "descending; newest window first when omitted"),
                     page: ApiPage = 1, per_page: ApiPerPage = 20, session: Session = Depends(get_session),
                     principal: Principal = Depends(readers)):
    """Evaluations the caller may see, filtered by status and stage, paged; an unknown status
    or stage is refused (422) naming the parameter and its values."""
    problems = evaluations.filter_problems(status, stage)
    if problems:
        raise ValidationFailed(problems)
    result = evaluations.page(session, status=status, stage=stage, q=q, sort=sort,
                              page_number=page, per_page=per_page, **_scope(session, principal))
    problems = paging.list_problems(result, sort=sort, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return EvaluationPage(items=[_out(r) for r in result.items], total=result.total,
                          page=result.page, pages=result.pages, per_page=result.per_page,
                          sort=paging.applied_sort(result))


@router.get("/evaluations/{evaluation_id}", summary="An evaluation (评价详情)", response_model=EvaluationOut,
            responses=error_responses(404))
def get_evaluation(evaluation_id: int, session: Session = Depends(get_session),
                   principal: Principal = Depends(evaluation_reader)):
    """One evaluation: its contract, stage, period, windows, status and version. Finance and
    auditors read every evaluation, a purchaser its department's, a supplier its own
    contract's, an evaluator only those it is assigned to. A published result whose appeal
    window has closed with no appeal open is made final first, as the pages do."""
    results.finalise_quietly(session, [evaluation_id])
    result = evaluations.page(session, evaluation_ids=[evaluation_id])
    return _out(result.items[0])


# ---------------------------------------------------------------- writes


class EvaluationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a mistyped key is refused, not left out

    title: str = Field(description="e.g. 2026年度终期绩效评价")
    stage: EvaluationStage = Field(description="interim (事中监控) or final (事后评价)")
    period_start: str = Field(description="First day of the period evaluated, YYYY-MM-DD")
    period_end: str = Field(description="Last day of the period evaluated, YYYY-MM-DD")
    opens_at: str = Field(description="When the survey and the score sheets open: YYYY-MM-DD "
                                      "or YYYY-MM-DDTHH:MM (Beijing time)")
    closes_at: str = Field(description="When they close: YYYY-MM-DD (the end of that day) or "
                                       "YYYY-MM-DDTHH:MM")


#: The steps the organiser takes here, by name; computing and publishing are the result's.
ORGANISER_STEPS = [step.value for step in evaluations.ORGANISER_STEPS]


def step_problem(to: str) -> str | None:
    """Why ``to`` is not a step the organiser takes here, in the reader's language; None if it
    is one. Draft is named: an evaluation never goes back to it."""
    if to in ORGANISER_STEPS:
        return None
    if to == EvaluationStatus.draft.value:
        return _("An evaluation cannot go back to draft. Send collecting (open collection) or "
                 "scoring (close it).")
    return _("Send collecting (open collection) or scoring (close it); an evaluation is "
             "computed and published through its result (POST "
             "/api/evaluations/{id}/result/compute and …/result/publish).")


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # checked by the handler, whose refusal says what to send instead (step_problem)
    to: Annotated[str, WithJsonSchema({"type": "string", "enum": ORGANISER_STEPS})] = Field(
        description="collecting (open the survey and the sheets) or scoring (close "
                    "collection); any other status is refused (422)")
    expected_version: Version | None = Field(
        None, description="The evaluation's version as read; if it moved since, the step is "
                          "refused (409)")


@router.post("/contracts/{contract_id}/evaluations",
             summary="Schedule an evaluation of a contract (安排评价)", response_model=EvaluationOut,
             status_code=201, responses=error_responses(404, 409))
def schedule_evaluation(contract_id: int, body: EvaluationIn, response: Response,
                        session: Session = Depends(get_session),
                        principal: Principal = Depends(contract_purchaser)):
    """Schedule an evaluation of the department's contract (安排评价), as the contract page's
    form does: the period within the contract's term, one final evaluation per period, the
    contract's scheme complete — and then frozen for it. Answers 201 with the evaluation and
    its address in Location. Audited as evaluation.create."""
    evaluation = evaluations.create(session, principal.actor, contract_id, body.model_dump(
        mode="json"))
    response.headers["location"] = f"/api/evaluations/{evaluation.id}"
    return get_evaluation(evaluation.id, session, principal)


@router.post("/evaluations/{evaluation_id}/advance",
             summary="Move an evaluation to its next stage (推进评价)", response_model=EvaluationOut,
             responses=error_responses(404, 409))
def advance_evaluation(evaluation_id: int, body: StepIn, session: Session = Depends(get_session),
                       principal: Principal = Depends(evaluation_organiser)):
    """The organiser opens collection (``to: collecting``) or closes it (``to: scoring``), as
    the evaluation page's buttons do; any other ``to`` (draft, or a step the result takes:
    computed, published) is refused with 422 naming it, a step out of order with 409 and the
    reason. Audited as evaluation.<status>."""
    problem = step_problem(body.to)
    if problem:
        raise ValidationFailed({"to": problem})
    evaluations.organiser_step(session, principal.actor, evaluation_id, body.to,
                               expected_version=body.expected_version)
    return get_evaluation(evaluation_id, session, principal)


@router.post("/evaluations/{evaluation_id}/report-filing",
             summary="File the evaluation report with the ex-ante assessment (评价报告备案)",
             response_model=EvaluationOut, responses=error_responses(404, 409))
def file_evaluation_report(evaluation_id: int, session: Session = Depends(get_session),
                           principal: Principal = Depends(evaluation_organiser)):
    """The purchasing department files the report of a final ex-post result of a project of
    ¥5,000,000 or more, with the project's ex-ante assessment, as the evaluation page's button
    does: once (409 after), only when the result is final and the ex-ante assessment is on the
    project (409 naming what is missing), only by the department (403). Audited as
    evaluation.report_filed with the result version."""
    report_filing.file_report(session, principal, evaluation_id)
    return get_evaluation(evaluation_id, session, principal)
