"""The JSON API for satisfaction surveys (满意度调查): the same services and access rules as
the survey's pages — finance, purchasers, auditors and assigned evaluators read the surveys
of the evaluations they may see; someone else's survey is not found (404), another role is
refused (403), and without signing in the answer is 401.

Figures are the tabulation's own (``surveys.tabulation``, statistics from ``scoring``):
rates and means with their 95 % intervals, margins of error, Cronbach's alpha, the sample
needed. Free-text answers and groups appear under the same rule as on the pages (at least
5 responses), so the API tells no more about a respondent than the pages do.

The organiser (finance or the purchasing department) runs an evaluation's survey as its pages
do, with the same services, rules and audit entries: creates it from a template mapped to the
scheme's survey indicators, sets the number of people served, reads the questionnaire, opens
the survey (which publishes the first version) and publishes later versions, issues invitation
codes (read back by the organiser only), adds service sites with open links and stops or
restarts them, types in paper questionnaires in batches (all or none), and closes it.
Respondents answer on their own pages (/s/{code}, /o/{token}), not through this API.

Page-only: editing the questionnaire question by question and the XLSForm workbook (the
editor's page), and the printable slips and posters (their QR codes).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.i18n import _, current_language
from evalplatform.models import Role
from evalplatform.services import evaluations, paging
from evalplatform.services import surveys_app as app_service
from evalplatform.services.errors import NotFound, ValidationFailed
from evalplatform.web.access import Principal, require
from evalplatform.web.api_schema import Moment, WholeNumber, error_responses
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import ApiPage, ApiPerPage
from surveys import invitations, tabulation, templates
from surveys import questionnaire as qn

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


# ---------------------------------------------------------------- setting a survey up
#
# What the survey's pages under /evaluations/{id}/survey do, for a program: the same services
# (``surveys_app``), the same roles and ownership (the organiser: finance, or a purchaser of
# the evaluation's department; anyone else 403, someone else's evaluation 404) and the same
# audit entries. Editing the questionnaire question by question stays on the editor's page.

evaluation_readers = require(Role.finance, Role.purchaser, Role.auditor, Role.evaluator,
                         owns=evaluations.owns_evaluation)


class SurveyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a mistyped key is refused, not left out

    template: str | None = Field(
        None, description="The questionnaire's starting point: " + ", ".join(
            [*templates.TEMPLATES, templates.FROM_SCHEME]) + " (one scale question per survey "
        "indicator of the scheme). Omitted: the template that suits the scheme's service area, "
        "else from_scheme — what the survey page offers first")


class PopulationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    population: WholeNumber | None = Field(
        description="The number of people served (服务对象总数), 1 to 100,000,000, for the sample "
                    "needed and the margin of error; null clears it")


class VersionOut(BaseModel):
    version: int
    status: str = Field(description="draft, current (the one respondents answer) or retired")
    frozen: bool = Field(description="It has answers, so it no longer changes")


class WorkingQuestionnaireOut(QuestionnaireOut):
    survey_id: int
    problems: dict[str, str] = Field(
        description="What keeps this version from opening or being published, by question "
                    "field (empty when none); fixed on the questionnaire editor's page")
    editable: bool = Field(description="The caller may change it on the editor's page now: the "
                                       "organiser, and the version not frozen")
    versions: list[VersionOut] = Field(description="Every version, oldest first")


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: WholeNumber = Field(description=f"How many codes: 1 to {invitations.MAX_BATCH}")
    label: str = Field("", description="e.g. the neighbourhood visited; at most 100 characters")


class BatchOut(BaseModel):
    id: int
    label: str
    size: int = Field(description="Codes in the batch")
    used: int = Field(description="Codes whose answers are in")
    created_at: Moment


class CodeOut(BaseModel):
    code: str = Field(description="The code as stored, e.g. ABCD2345")
    display: str = Field(description="As printed on a slip, e.g. ABCD-2345")
    url: str = Field(description="The respondent's link: the questionnaire behind the code")
    used: bool = Field(description="Its answers are in (a code is used once)")


class BatchCodesOut(BatchOut):
    entry_url: str = Field(description="Where a slip sends people to type the code in")
    codes: list[CodeOut] = Field(description="Every code of the batch, in code order")


class SiteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The service site, e.g. 幸福社区服务站; at most 100 characters")
    device_limit: WholeNumber = Field(1, description="Answers one phone may give at this site, "
                                                     "1 to 500: 1 for a poster, more for a "
                                                     "tablet at the counter")


class SiteActiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool = Field(description="true: the link takes answers again; false: stopped")


class SiteOut(BaseModel):
    id: int
    name: str
    token: str = Field(description="The open link's secret part")
    url: str = Field(description="The open link (开放链接) for the site's poster and QR code")
    device_limit: int = Field(description="Answers one phone may give at this site")
    active: bool = Field(description="The link takes answers (while the survey is open)")
    created_at: Moment


#: A question id as a questionnaire names it (Q1, Q12).
QuestionId = Annotated[str, Field(min_length=1, max_length=40)]
#: An answer as JSON: an option's name, a list of them, a number 0–10 or a text; checked by the
#: handler, whose refusal names the questionnaire and the question.
AnswerValue = Annotated[Any, WithJsonSchema({
    "anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "array", "items": {"type": "string"}},
              {"type": "null"}]})]


class PaperQuestionnaireIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=40, description="The invitation code printed on the paper "
                                                 "questionnaire, e.g. ABCD-2345")
    answers: dict[QuestionId, AnswerValue] = Field(
        description="Question id → answer: an option's name (single choice, scale, yes/no), a "
                    "list of option names (multiple choice), a number 0–10 (rating) or a text; "
                    "null or absent for a question left blank",
        max_length=qn.MAX_QUESTIONS)


class PaperIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questionnaires: list[PaperQuestionnaireIn] = Field(
        min_length=1, max_length=app_service.PAPER_BATCH_MAX,
        description="The paper questionnaires to enter, all or none")


class PaperOut(BaseModel):
    entered: int = Field(description="Paper questionnaires stored by this request")
    responses: int = Field(description="Responses of the survey now, all channels")
    responses_by_channel: dict[str, int] = Field(description="closed (codes), open (links), "
                                                             "paper")


def _origin(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _evaluation_survey(session: Session, evaluation_id: int):
    evaluation = evaluations.get(session, evaluation_id)
    survey = app_service.survey_of(session, evaluation)
    if survey is None:
        raise NotFound(_("This evaluation has no survey yet."))
    return evaluation, survey


def _working(session: Session, principal: Principal, evaluation_id: int
             ) -> WorkingQuestionnaireOut:
    evaluation, survey = _evaluation_survey(session, evaluation_id)
    version = app_service.working(session, survey)
    shown = _questionnaire(version, current_language())
    return WorkingQuestionnaireOut(
        **shown.model_dump(), survey_id=survey.id,
        problems=qn.problems(version.document, app_service.leaves(session, evaluation)),
        editable=app_service.can_manage(session, principal, evaluation) and not version.frozen,
        versions=[VersionOut(version=v.version, status=str(v.status.value), frozen=v.frozen)
                  for v in app_service.versions(session, survey)])


def _batch_out(row: app_service.BatchRow) -> dict:
    batch = row.batch
    return {"id": batch.id, "label": batch.label, "size": batch.size, "used": row.used,
            "created_at": batch.created_at}


def _site_out(site, origin: str) -> SiteOut:
    return SiteOut(id=site.id, name=site.name, token=site.token, url=f"{origin}/o/{site.token}",
                   device_limit=site.device_limit, active=site.active, created_at=site.created_at)


@router.post("/evaluations/{evaluation_id}/survey",
             summary="Create an evaluation's survey (创建满意度调查)", response_model=SurveyDetail,
             status_code=201, responses=error_responses(404, 409))
def create_survey(evaluation_id: int, body: SurveyIn, response: Response,
                  session: Session = Depends(get_session),
                  principal: Principal = Depends(organisers)):
    """The organiser — finance, or a purchaser of the evaluation's department — gives the
    evaluation its survey, as the survey page's button does: a first draft questionnaire from
    a template, its scale questions mapped to the scheme's survey indicators (满意度指标).
    Refused with 422 naming ``template`` when the template is unknown or the scheme has no
    survey indicator, 409 when the evaluation has a survey already; another role 403, another
    department's evaluation 404. Answers 201 with the survey and its address in Location.
    Audited as survey.create. The draft is answered once the survey opens (POST
    …/survey/open)."""
    evaluation = evaluations.get(session, evaluation_id)
    template = body.template
    if template is None:
        template = templates.suggested(app_service.scheme_service_area(session, evaluation))
    survey = app_service.create(session, principal, evaluation_id, template)
    response.headers["location"] = f"/api/surveys/{survey.id}"
    return get_survey(survey.id, session, principal)


@router.post("/evaluations/{evaluation_id}/survey/population",
             summary="Set the number of people served (设置服务对象总数)",
             response_model=SurveyDetail, responses=error_responses(404))
def set_survey_population(evaluation_id: int, body: PopulationIn,
                          session: Session = Depends(get_session),
                          principal: Principal = Depends(organisers)):
    """The organiser sets how many people the service reached, as the survey page's form
    does: the tabulation then gives the sample needed and the margin of error with the
    finite population correction. Refused with 422 naming ``population`` outside 1 to
    100,000,000; null clears it. Audited as survey.population."""
    value = "" if body.population is None else str(body.population)
    app_service.set_population(session, principal, evaluation_id, value)
    _evaluation, survey = _evaluation_survey(session, evaluation_id)
    return get_survey(survey.id, session, principal)


@router.get("/evaluations/{evaluation_id}/survey/questionnaire",
            summary="The questionnaire being edited (调查问卷)",
            response_model=WorkingQuestionnaireOut, responses=error_responses(404))
def get_working_questionnaire(evaluation_id: int, session: Session = Depends(get_session),
                              principal: Principal = Depends(evaluation_readers)):
    """The version the questionnaire editor shows — the newest draft, else the version
    respondents answer — with what keeps it from opening (``problems``) and every version.
    Read by whoever reads the survey's pages (finance, the department's purchasers, auditors,
    assigned evaluators); 404 before the survey is created.

    Page-only: changing the questions one by one (settings, questions, scales, order,
    deleting) and importing or exporting the XLSForm workbook happen on the editor's page
    (/evaluations/{id}/survey/questionnaire), where each change is checked as it is typed."""
    return _working(session, principal, evaluation_id)


@router.post("/evaluations/{evaluation_id}/survey/questionnaire/version",
             summary="Start a new questionnaire version (新建问卷版本)",
             response_model=WorkingQuestionnaireOut, status_code=201,
             responses=error_responses(404, 409))
def new_questionnaire_version(evaluation_id: int, session: Session = Depends(get_session),
                              principal: Principal = Depends(organisers)):
    """The organiser copies the latest version into a new draft, as the editor's button does,
    to change it on the editor's page and then publish it. Refused with 409 while the latest
    version is still a draft. Audited as survey.questionnaire.version."""
    app_service.new_version(session, principal, evaluation_id)
    return _working(session, principal, evaluation_id)


@router.post("/evaluations/{evaluation_id}/survey/questionnaire/publish",
             summary="Publish the draft questionnaire (发布问卷)",
             response_model=WorkingQuestionnaireOut, responses=error_responses(404, 409))
def publish_questionnaire(evaluation_id: int, session: Session = Depends(get_session),
                          principal: Principal = Depends(organisers)):
    """The organiser makes the draft version the one respondents answer, as the editor's
    button does. The first version — the one the survey was created with — is published by
    opening the survey (POST …/survey/open), which checks it the same way; this publishes a
    later draft (POST …/questionnaire/version). Refused with 409 before the survey opens or
    without a draft, 422 naming each question field when the draft is incomplete or changes
    the options of a scored question that has answers. Audited as
    survey.questionnaire.publish."""
    app_service.publish(session, principal, evaluation_id)
    return _working(session, principal, evaluation_id)


@router.post("/evaluations/{evaluation_id}/survey/invitations",
             summary="Issue invitation codes (生成邀请码)", response_model=BatchCodesOut,
             status_code=201, responses=error_responses(404, 409))
def issue_invitation_codes(evaluation_id: int, body: BatchIn, request: Request,
                           response: Response, session: Session = Depends(get_session),
                           principal: Principal = Depends(organisers)):
    """The organiser generates a batch of single-use invitation codes (closed mode), as the
    survey page's form does, and gets them back to print or send: each with the link that
    opens its questionnaire. A code is used up by the answers sent with it, once. Refused with
    422 naming ``size`` (1 to 2,000) or ``label`` (at most 100 characters), 409 once the
    survey has closed. Answers 201, the batch's address in Location. Audited as
    survey.invitations (the batch's size and label, never the codes).

    The codes are secrets of the organiser: only the organiser reads them, here and again at
    GET …/invitations/{batch_id}, as the printable slips page shows them again."""
    batch = app_service.issue_invitations(session, principal, evaluation_id, str(body.size),
                                          body.label)
    response.headers["location"] = (f"/api/evaluations/{evaluation_id}/survey/invitations/"
                                    f"{batch.id}")
    return get_invitation_batch(evaluation_id, batch.id, request, session, principal)


@router.get("/evaluations/{evaluation_id}/survey/invitations",
            summary="Batches of invitation codes (邀请码批次)", response_model=list[BatchOut],
            responses=error_responses(404))
def list_invitation_batches(evaluation_id: int, session: Session = Depends(get_session),
                            principal: Principal = Depends(organisers)):
    """The survey's batches of codes, oldest first, with how many of each are used; no codes
    (read them per batch). The organiser only, as on the survey page."""
    _evaluation, survey = _evaluation_survey(session, evaluation_id)
    return [BatchOut(**_batch_out(row)) for row in app_service.batches(session, survey)]


@router.get("/evaluations/{evaluation_id}/survey/invitations/{batch_id}",
            summary="A batch's invitation codes (邀请码)", response_model=BatchCodesOut,
            responses=error_responses(404))
def get_invitation_batch(evaluation_id: int, batch_id: int, request: Request,
                         session: Session = Depends(get_session),
                         principal: Principal = Depends(organisers)):
    """Every code of a batch with its link and whether it is used, for printing or sending
    again — what the printable slips page shows. The organiser only: codes are secrets (an
    auditor or evaluator is refused, 403). A batch of another survey is not found (404)."""
    evaluation, survey = _evaluation_survey(session, evaluation_id)
    found = app_service.batch(session, evaluation, batch_id)
    row = next(r for r in app_service.batches(session, survey) if r.batch.id == found.id)
    origin = _origin(request)
    return BatchCodesOut(
        **_batch_out(row), entry_url=f"{origin}/s",
        codes=[CodeOut(code=i.code, display=invitations.display(i.code),
                       url=f"{origin}/s/{i.code}", used=i.used)
               for i in invitations.codes_of(session, found.id)])


@router.post("/evaluations/{evaluation_id}/survey/sites",
             summary="Add a service site with an open link (添加服务点)", response_model=SiteOut,
             status_code=201, responses=error_responses(404, 409))
def add_survey_site(evaluation_id: int, body: SiteIn, request: Request,
                    session: Session = Depends(get_session),
                    principal: Principal = Depends(organisers)):
    """The organiser adds a service site (服务点) with its own open link for a poster and QR
    code, as the survey page's form does. Refused with 422 naming ``name`` (required, at most
    100 characters) or ``device_limit`` (1 to 500), 409 once the survey has closed. Answers
    201. Audited as survey.site."""
    site = app_service.add_site(session, principal, evaluation_id, body.name,
                                str(body.device_limit))
    return _site_out(site, _origin(request))


@router.get("/evaluations/{evaluation_id}/survey/sites",
            summary="Service sites and their open links (服务点)", response_model=list[SiteOut],
            responses=error_responses(404))
def list_survey_sites(evaluation_id: int, request: Request,
                      session: Session = Depends(get_session),
                      principal: Principal = Depends(organisers)):
    """The survey's service sites with their open links, oldest first. The organiser only, as
    on the survey page."""
    _evaluation, survey = _evaluation_survey(session, evaluation_id)
    origin = _origin(request)
    return [_site_out(site, origin) for site in app_service.sites(session, survey)]


@router.post("/evaluations/{evaluation_id}/survey/sites/{site_id}/active",
             summary="Stop or restart a site's open link (停用或恢复开放链接)",
             response_model=SiteOut, responses=error_responses(404))
def set_survey_site_active(evaluation_id: int, site_id: int, body: SiteActiveIn,
                           request: Request, session: Session = Depends(get_session),
                           principal: Principal = Depends(organisers)):
    """The organiser stops a site's open link (``active: false``: it then tells respondents
    it is closed) or restarts it, as the survey page's button does. A site of another survey
    is not found (404). Audited as survey.site.stop or survey.site.active."""
    site = app_service.set_site_active(session, principal, evaluation_id, site_id, body.active)
    return _site_out(site, _origin(request))


def _answer_values(value) -> list[str] | None:
    """A JSON answer as the values a form would send; None when it is none of the kinds."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, int) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


@router.post("/evaluations/{evaluation_id}/survey/paper",
             summary="Enter paper questionnaires (录入纸质问卷)", response_model=PaperOut,
             responses=error_responses(404, 409))
def enter_paper_questionnaires(evaluation_id: int, body: PaperIn,
                               session: Session = Depends(get_session),
                               principal: Principal = Depends(organisers)):
    """The organiser types in paper questionnaires, each against the invitation code printed
    on it, as the paper entry page does one at a time — here up to 200 at once, all or none:
    when any is refused nothing is stored, and the 422 names each refusal by the
    questionnaire's place in the list (from 0) and its field,
    ``questionnaires.<i>.code`` (no code of this survey, used already, twice in the list) or
    ``questionnaires.<i>.answers.<question id>`` (a required question unanswered, not an
    option, no such question). Refused with 409 while the survey does not take answers (not
    open yet, closed). The answers are marked as paper-entered (channel paper) and, like every
    answer, anonymous: no audit entry per answer, as on the page."""
    entries, problems = [], {}
    for index, paper in enumerate(body.questionnaires):
        answered = {}
        for qid, value in paper.answers.items():
            values = _answer_values(value)
            if values is None:
                problems[f"questionnaires.{index}.answers.{qid}"] = _(
                    "Questionnaire %(number)s (questionnaires.%(index)s), question %(question)s: "
                    "give an option's name, a list of option names, a number from 0 to 10 or a "
                    "text.", number=index + 1, index=index, question=qid)
            else:
                answered[qid] = values
        entries.append((paper.code, answered))
    if problems:
        raise ValidationFailed(problems)
    entered = app_service.enter_papers(session, principal, evaluation_id, entries)
    _evaluation, survey = _evaluation_survey(session, evaluation_id)
    found = app_service.counts(session, survey)
    return PaperOut(entered=entered, responses=found["total"],
                    responses_by_channel={k: v for k, v in found.items()
                                          if k not in ("total", "issued", "used")})
