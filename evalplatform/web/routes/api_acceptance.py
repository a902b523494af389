"""The JSON API of a service's acceptance (验收) and of a result's reopening (重新评分): the
same services and access rules as the acceptance page and the result page's reopening form.

The purchasing department records the acceptance of its service, with the recipients'
participation and their opinion (服务对象参与验收); it is published with the evaluation's
result and can then no longer be changed, except that a failed acceptance is followed by a
re-acceptance after rectification (整改后复验). Finance reopens a computed or published result,
the purchasing department a computed one, with a reason: the evaluation goes back to scoring
for a new version."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.models import Acceptance, AcceptanceConclusion, User
from evalplatform.services import acceptance, evaluations, results
from evalplatform.web.access import Principal
from evalplatform.web.api_schema import Moment, Version, WholeNumber, error_responses
from evalplatform.web.forms import FormRoute
from evalplatform.web.routes.api_evaluations import EvaluationOut, get_evaluation
from evalplatform.web.routes.api_settlements import PersonOut
from evalplatform.web.routes.results import result_organiser
from evalplatform.web.routes.settlements import evaluation_purchaser

router = APIRouter(route_class=FormRoute, prefix="/api",
                   responses=error_responses(401, 403, 404, 409, 422))


# ---------------------------------------------------------------- acceptance


class AcceptanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accepted_on: str = Field(description="The acceptance date, YYYY-MM-DD: not in the future, "
                                         "not before the period evaluated begins; a "
                                         "re-acceptance comes after the failed one",
                             examples=["2026-12-20"])
    conclusion: AcceptanceConclusion = Field(description="accepted (验收合格) or rejected "
                                                         "(验收不合格); a re-acceptance is accepted")
    participants: WholeNumber = Field(description="How many recipients took part (at least 1: a "
                                                  "public service is accepted with its "
                                                  "recipients' participation)")
    # the lengths are the service's rules, whose refusals state them (pydantic's would not)
    participation: str = Field("", description=f"How they took part, at most "
                                              f"{acceptance.MAX_PARTICIPATION} characters",
                               json_schema_extra={"maxLength": acceptance.MAX_PARTICIPATION})
    opinion: str = Field(description=f"Their opinion, summarised, at most "
                                     f"{acceptance.MAX_OPINION} characters; published, so no "
                                     f"mobile or identity-card number",
                         json_schema_extra={"maxLength": acceptance.MAX_OPINION})
    survey_url: str = Field("", description="The satisfaction survey's address (https://, "
                                            "http:// or a path from /), if there is one",
                            json_schema_extra={"maxLength": acceptance.MAX_URL})


class FailedAcceptanceOut(BaseModel):
    accepted_on: date
    conclusion: AcceptanceConclusion
    opinion: str


class AcceptanceOut(BaseModel):
    id: int
    evaluation_id: int
    contract_id: int
    accepted_on: date = Field(description="A small or medium supplier's payment period runs "
                                          "from this day")
    conclusion: AcceptanceConclusion
    conclusion_label: str
    participants: int
    participation: str
    opinion: str
    survey_url: str
    recorded_by: PersonOut | None
    recorded_at: Moment
    stage: str = Field(description="What may be recorded now: open (a correction, until the "
                                   "result is published), reaccept (the published acceptance "
                                   "failed: the re-acceptance after rectification) or locked")
    failed_before: FailedAcceptanceOut | None = Field(
        description="The failed acceptance this re-acceptance followed (整改后复验), as the "
                    "audit log keeps it; null for a first acceptance")


def _acceptance_out(session: Session, record: Acceptance) -> AcceptanceOut:
    evaluation = evaluations.get(session, record.evaluation_id)
    user = session.get(User, record.recorded_by) if record.recorded_by else None
    failed = acceptance.failed_before(session, record)
    return AcceptanceOut(
        id=record.id, evaluation_id=record.evaluation_id, contract_id=record.contract_id,
        accepted_on=record.accepted_on, conclusion=record.conclusion,
        conclusion_label=str(acceptance.CONCLUSION_LABELS[record.conclusion]),
        participants=record.participants, participation=record.participation,
        opinion=record.opinion, survey_url=record.survey_url,
        recorded_by=PersonOut(id=user.id, display_name=user.display_name) if user else None,
        recorded_at=record.recorded_at,
        stage=acceptance.stage(session, evaluation, record),
        failed_before=FailedAcceptanceOut(**failed) if failed else None)


@router.post("/evaluations/{evaluation_id}/acceptance",
             summary="Record a service's acceptance (验收)", tags=["settlements"],
             response_model=AcceptanceOut, status_code=201,
             responses={200: {"model": AcceptanceOut,
                              "description": "The evaluation's acceptance existed: corrected "
                                             "(before publication), or re-accepted after a "
                                             "failed one"}})
def record_acceptance(evaluation_id: int, body: AcceptanceIn, response: Response,
                      session: Session = Depends(get_session),
                      principal: Principal = Depends(evaluation_purchaser)):
    """The purchasing department records the acceptance of its service (验收), as the
    acceptance page's form does: the date, the conclusion, how many recipients took part and
    how, their opinion, the survey's address. Answers 201 with the acceptance; 200 when it
    corrects the acceptance before the result is published, or records the re-acceptance after
    a published failed one. Only the department's purchasers (finance, auditors and others
    403; another department's evaluation 404); a published passed acceptance is 409; a bad or
    missing field, or personal data in a text that is published, 422 naming it. Audited as
    acceptance.record (acceptance.reaccept for a re-acceptance, with the failed record)."""
    existed = acceptance.for_evaluation(session, evaluation_id) is not None
    record = acceptance.record(session, principal, evaluation_id, {
        "accepted_on": body.accepted_on, "conclusion": body.conclusion.value,
        "participants": body.participants, "participation": body.participation,
        "opinion": body.opinion, "survey_url": body.survey_url})
    if existed:
        response.status_code = 200
    return _acceptance_out(session, record)


# ---------------------------------------------------------------- reopening a result


class ReopenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(description="Why the result is scored again (required); kept with the "
                                    "next version")
    expected_version: Version | None = Field(
        None, description="The evaluation's version as read (``version`` of GET "
                          "/api/evaluations/{id}); if someone changed the evaluation since, the "
                          "reopening is refused (409)")


@router.post("/evaluations/{evaluation_id}/result/reopen",
             summary="Reopen a result for scoring (重新评分)", tags=["results"],
             response_model=EvaluationOut)
def reopen_result(evaluation_id: int, body: ReopenIn, session: Session = Depends(get_session),
                  principal: Principal = Depends(result_organiser)):
    """Reopen the evaluation's result with a reason, as the result page's form does: the
    evaluation goes back to scoring, and the next computation makes a new version (the earlier
    ones stay readable). Finance reopens a computed or a published result, the purchasing
    department only a computed one (403 for a published one; auditors, suppliers and
    evaluators 403; another department's evaluation 404). An open appeal (decide it instead),
    an evaluation that is neither computed nor published, or a changed version is 409; no
    reason, 422. Answers with the evaluation. Audited as evaluation.scoring, with the reason
    and the result version reopened."""
    results.reopen(session, principal, evaluation_id, body.reason,
                   expected_version=body.expected_version)
    return get_evaluation(evaluation_id, session, principal)
