"""The JSON API for satisfaction surveys (满意度调查): the same services and access rules as
the survey's pages — finance, purchasers, auditors and assigned evaluators read the surveys
of the evaluations they may see; someone else's survey is not found (404), another role is
refused (403), and without signing in the answer is 401.

Figures are the tabulation's own (``surveys.tabulation``, statistics from ``scoring``):
rates and means with their 95 % intervals, margins of error, Cronbach's alpha, the sample
needed. Free-text answers and groups appear under the same rule as on the pages (at least
5 responses), so the API tells no more about a respondent than the pages do.

The organiser (finance or the purchasing department) opens an evaluation's survey and closes
it as the survey page does.
"""

from __future__ import annotations

import math

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.i18n import current_language
from evalplatform.models import Role
from evalplatform.services import evaluations, paging
from evalplatform.services import surveys_app as app_service
from evalplatform.services.errors import ValidationFailed
from evalplatform.web.access import Principal, require
from evalplatform.web.api_schema import Moment, error_responses
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import ApiPage, ApiPerPage
from surveys import questionnaire as qn
from surveys import tabulation

router = APIRouter(route_class=FormRoute, prefix="/api", tags=["surveys"],
                   responses=error_responses(401, 403, 422))

readers = require(Role.finance, Role.purchaser, Role.auditor, Role.evaluator)
survey_reader = require(Role.finance, Role.purchaser, Role.auditor, Role.evaluator,
                        owns=app_service.owns_survey)


class SurveyOut(BaseModel):
    id: int
    evaluation_id: int
    evaluation_title: str
    project_name: str
    department: str
    state: str  # draft | scheduled | open | closed
    opened_at: Moment | None
    closed_at: Moment | None
    opens_at: Moment
    closes_at: Moment
    population: int | None
    questionnaire_version: int | None  # the version respondents answer (None before opening)
    responses: int
    invitations_issued: int
    invitations_used: int


class SurveyPage(BaseModel):
    items: list[SurveyOut]
    total: int
    page: int
    pages: int
    per_page: int
    sort: str = Field(description="The sort applied, a leading - descending")


class OptionOut(BaseModel):
    name: str
    label: str
    score: int | None
    satisfied: bool


class QuestionOut(BaseModel):
    id: str
    type: str
    label: str
    required: bool
    leaf: str | None  # the scheme's survey leaf a scale question maps to
    options: list[OptionOut]


class QuestionnaireOut(BaseModel):
    version: int
    status: str
    frozen: bool
    title: str
    questions: list[QuestionOut]


class Estimate(BaseModel):
    """A figure with its 95 % interval (``low``/``high`` null where there is none)."""

    estimate: float
    low: float | None
    high: float | None


class Alpha(BaseModel):
    statistic: float
    low: float | None
    high: float | None
    respondents: int
    items: int


class OptionCountOut(BaseModel):
    name: str
    label: str
    count: int
    share: float | None
    score: int | None
    satisfied: bool


class QuestionFigures(BaseModel):
    id: str
    type: str
    label: str
    leaf: str
    answered: int
    not_applicable: int
    blank: int
    mean: Estimate | None
    rate: Estimate | None  # satisfied share (scale), yes share (yes/no)
    margin: float | None
    options: list[OptionCountOut]
    texts: list[str] | None  # free text, only with at least 5 responses
    texts_hidden: int


class GroupOut(BaseModel):
    name: str
    responses: int
    shown: bool  # groups of fewer than 5 responses show no figures
    rate: Estimate | None
    mean: float | None


class BreakdownOut(BaseModel):
    title: str
    groups: list[GroupOut]


class TabulationOut(BaseModel):
    responses: int
    response_rate: float | None  # codes used ÷ codes issued
    population: int | None
    sample_needed: int  # for ±5 % at 95 %, finite population correction
    sample_short: bool
    answered: int  # respondents with at least one counted scale answer
    satisfaction_rate: Estimate | None
    margin: float | None
    mean: Estimate | None
    cronbach_alpha: Alpha | None
    alpha_note: str
    questions: list[QuestionFigures]
    breakdowns: list[BreakdownOut]
    warnings: list[str]


class SurveyDetail(SurveyOut):
    questionnaire: QuestionnaireOut
    responses_by_channel: dict[str, int]  # closed (codes), open (links), paper
    tabulation: TabulationOut


def _number(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _estimate(interval: tabulation.Interval | None) -> Estimate | None:
    if interval is None or _number(interval.estimate) is None:
        return None
    return Estimate(estimate=interval.estimate, low=_number(interval.low),
                    high=_number(interval.high))


def _out(row: app_service.SurveyRow) -> dict:
    survey, evaluation = row.survey, row.evaluation
    return {"id": survey.id, "evaluation_id": evaluation.id, "evaluation_title": evaluation.title,
            "project_name": row.project_name, "department": row.department, "state": row.state,
            "opened_at": survey.opened_at, "closed_at": survey.closed_at,
            "opens_at": evaluation.opens_at, "closes_at": evaluation.closes_at,
            "population": survey.population, "questionnaire_version": row.version,
            "responses": row.responses, "invitations_issued": row.issued,
            "invitations_used": row.used}


def _questionnaire(version, language: str) -> QuestionnaireOut:
    document = version.document
    return QuestionnaireOut(
        version=version.version, status=str(version.status.value), frozen=version.frozen,
        title=qn.text(document.get("title"), language),
        questions=[QuestionOut(
            id=q["id"], type=q["type"], label=qn.text(q.get("label"), language),
            required=bool(q.get("required")), leaf=q.get("leaf") or None,
            options=[OptionOut(name=o["name"], label=qn.text(o.get("label"), language),
                               score=o.get("score"), satisfied=bool(o.get("satisfied")))
                     for o in qn.options(q)])
            for q in qn.questions(document)])


def _tabulation(tab: tabulation.Tabulation) -> TabulationOut:
    alpha = None
    if tab.alpha is not None and _number(tab.alpha.statistic) is not None:
        alpha = Alpha(statistic=tab.alpha.statistic, low=_number(tab.alpha.ci_low),
                      high=_number(tab.alpha.ci_high), respondents=tab.alpha.n, items=tab.alpha.k)
    return TabulationOut(
        responses=tab.responses, response_rate=_number(tab.response_rate),
        population=tab.population, sample_needed=tab.sample_needed, sample_short=tab.short,
        answered=tab.answered, satisfaction_rate=_estimate(tab.rate), margin=_number(tab.margin),
        mean=_estimate(tab.mean), cronbach_alpha=alpha, alpha_note=str(tab.alpha_note or ""),
        questions=[QuestionFigures(
            id=t.id, type=t.type, label=t.label, leaf=t.leaf, answered=t.answered,
            not_applicable=t.not_applicable, blank=t.blank, mean=_estimate(t.mean),
            rate=_estimate(t.rate), margin=_number(t.margin),
            options=[OptionCountOut(name=o.name, label=o.label, count=o.count,
                                    share=_number(o.share), score=o.score, satisfied=o.satisfied)
                     for o in t.options],
            texts=t.texts, texts_hidden=t.texts_hidden) for t in tab.questions],
        breakdowns=[BreakdownOut(title=b.title, groups=[
            GroupOut(name=g.name, responses=g.responses, shown=g.shown, rate=_estimate(g.rate),
                     mean=_number(g.mean)) for g in b.groups]) for b in tab.breakdowns],
        warnings=[str(w) for w in tab.warnings])


@router.get("/surveys", summary="List surveys (满意度调查列表)", response_model=SurveyPage)
def list_surveys(q: str = Query("", description="Words in the evaluation's title or the "
                                 "project's name"),
                 sort: str | None = Query(None, description="id, title, opens_at or closes_at; a "
                                          "leading - sorts descending; newest window first "
                                          "when omitted"),
                 page: ApiPage = 1, per_page: ApiPerPage = 20,
                 session: Session = Depends(get_session),
                 principal: Principal = Depends(readers)):
    """The surveys of the evaluations the caller may see, newest window first, paged."""
    result = app_service.page(session, principal, q=q, sort=sort, page_number=page,
                              per_page=per_page)
    problems = paging.list_problems(result, sort=sort, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return SurveyPage(items=[SurveyOut(**_out(row)) for row in result.items],
                      total=result.total, page=result.page, pages=result.pages,
                      per_page=result.per_page, sort=paging.applied_sort(result))


@router.get("/surveys/{survey_id}",
            summary="A survey with its questionnaire and tabulation (调查详情)", response_model=SurveyDetail,
            responses=error_responses(404))
def get_survey(survey_id: int, session: Session = Depends(get_session),
               principal: Principal = Depends(survey_reader)):
    """One survey: its questionnaire, invitations, responses by channel and tabulation."""
    survey = app_service.get(session, survey_id)
    app_service.close_if_due(session, survey, evaluations.get(session, survey.evaluation_id))
    row = app_service.page(session, principal, survey_ids=[survey.id]).items[0]
    survey, evaluation = row.survey, row.evaluation
    language = current_language()
    return SurveyDetail(
        **_out(row),
        questionnaire=_questionnaire(app_service.shown_version(session, survey), language),
        responses_by_channel={k: v for k, v in app_service.counts(session, survey).items()
                              if k not in ("total", "issued", "used")},
        tabulation=_tabulation(app_service.tabulate(session, evaluation, language)))


organisers = require(Role.finance, Role.purchaser, owns=evaluations.owns_evaluation)


@router.post("/evaluations/{evaluation_id}/survey/open",
             summary="Open an evaluation's survey (开放调查)", response_model=SurveyDetail,
             responses=error_responses(404, 409))
def open_survey(evaluation_id: int, session: Session = Depends(get_session),
                principal: Principal = Depends(organisers)):
    """Open the evaluation's survey, as its page does: the questionnaire's draft becomes the
    version respondents answer, a draft evaluation starts collecting, and answers come in
    while the schedule's window is open. Refused with 409 and the reason when it cannot (no
    questionnaire yet, already open, closed: a closed survey is not opened again). Audited
    as survey.open."""
    survey = app_service.open_survey(session, principal, evaluation_id)
    return get_survey(survey.id, session, principal)


@router.post("/evaluations/{evaluation_id}/survey/close",
             summary="Close an evaluation's survey (关闭调查)", response_model=SurveyDetail,
             responses=error_responses(404, 409))
def close_survey(evaluation_id: int, session: Session = Depends(get_session),
                 principal: Principal = Depends(organisers)):
    """Close the evaluation's survey, as its page does; its counts go into the audit log."""
    survey = app_service.close_survey(session, principal, evaluation_id)
    return get_survey(survey.id, session, principal)
