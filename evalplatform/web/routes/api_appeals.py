"""The JSON API of appeals (申诉): the supplier files one against a published result inside
its window, finance decides it, or the supplier withdraws it first (撤回) — the services, rules,
refusals and audit entries of the appeal pages. Finance and auditors read every appeal, a
purchasing department those on its projects, a supplier its own; another's is not found (404)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.i18n import _
from evalplatform.models import AppealStatus
from evalplatform.services import appeals, paging, results
from evalplatform.services.errors import ValidationFailed
from evalplatform.web.access import Principal
from evalplatform.web.api_schema import Moment, Version, error_responses
from evalplatform.web.forms import FormRoute, files_in_json
from evalplatform.web.params import ApiPage, ApiPerPage
from evalplatform.web.routes.results import (
    appeal_decider,
    appeal_lister,
    appeal_reader,
    appeal_withdrawer,
    evaluation_supplier,
)

router = APIRouter(route_class=FormRoute, prefix="/api", tags=["appeals"],
                   responses=error_responses(401, 403, 422))


class EvidenceOut(BaseModel):
    filename: str
    kind: str
    size: int
    url: str = Field(description="The file, for the readers of the appeal")


class AppealOut(BaseModel):
    id: int
    evaluation_id: int
    evaluation_title: str
    project_name: str
    department: str
    supplier: str
    result_id: int
    status: AppealStatus
    status_label: str
    filed_at: Moment
    reasons: str
    leaves: list[str] = Field(description="The indicators disputed (leaf ids)")
    evidence: list[EvidenceOut]
    decision: str
    reopened_leaves: list[str]
    decided_at: Moment | None
    withdrawn_at: Moment | None = Field(description="When the supplier withdrew it (status "
                                                    "withdrawn), else null")
    withdrawn_by: str = Field(description="Who withdrew it (a name), empty unless withdrawn")
    version: int = Field(description="Send it back as expected_version when deciding or "
                                     "withdrawing")


class AppealPage(BaseModel):
    items: list[AppealOut]
    total: int
    page: int
    pages: int
    per_page: int
    sort: str = Field(description="The sort applied, a leading - descending")


def _out(row: appeals.AppealRow, withdrawn_by: str = "") -> AppealOut:
    a = row.appeal
    return AppealOut(
        id=a.id, evaluation_id=a.evaluation_id, evaluation_title=row.evaluation.title,
        project_name=row.project.name, department=row.department.name,
        supplier=row.supplier.name, result_id=a.result_id, status=a.status,
        status_label=appeals.status_label(a.status), filed_at=a.filed_at, reasons=a.reasons,
        leaves=list(a.leaves),
        evidence=[EvidenceOut(filename=e.get("filename") or "", kind=e.get("kind") or "",
                              size=int(e.get("size") or 0),
                              url=f"/appeals/{a.id}/evidence/{e.get('sha256')}")
                  for e in a.evidence],
        decision=a.decision, reopened_leaves=list(a.reopened_leaves), decided_at=a.decided_at,
        withdrawn_at=a.withdrawn_at, withdrawn_by=withdrawn_by, version=a.version)


def _withdrawn_by(session: Session, appeal) -> str:
    return results.user_name(session, appeal.withdrawn_by) if appeal.withdrawn_by else ""


@router.get("/appeals", summary="List appeals (申诉列表)", response_model=AppealPage)
def list_appeals(status: str = Query("", description="An appeal status: "
                                     + ", ".join(AppealStatus.__members__)),
                 sort: str | None = Query(None, description="filed, status or project; a "
                                          "leading - sorts descending; newest first when "
                                          "omitted"),
                 page: ApiPage = 1, per_page: ApiPerPage = 20,
                 session: Session = Depends(get_session),
                 principal: Principal = Depends(appeal_lister)):
    """The appeals the caller may see, newest first, paged like every list."""
    problems = appeals.status_problems(status)
    if problems:
        raise ValidationFailed(problems)
    results.finalise_quietly(session)
    found = appeals.page(session, principal, status=status, sort=sort, page_number=page,
                         per_page=per_page)
    problems = paging.list_problems(found, sort=sort, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return AppealPage(items=[_out(row, _withdrawn_by(session, row.appeal))
                             for row in found.items], total=found.total,
                      page=found.page, pages=found.pages, per_page=found.per_page,
                      sort=paging.applied_sort(found))


@router.get("/appeals/{appeal_id}",
            summary="An appeal (申诉详情)", response_model=AppealOut, responses=error_responses(404))
def get_appeal(appeal_id: int, session: Session = Depends(get_session),
               principal: Principal = Depends(appeal_reader)):
    """One appeal as its page shows it: reasons, disputed indicators, evidence, decision."""
    row = appeals.page(session, principal, appeal_ids=[appeal_id]).items[0]
    return _out(row, _withdrawn_by(session, row.appeal))


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str
    content_base64: str = Field(description="The file's bytes in base64: a PDF or a Word "
                                            "document, as the page accepts")


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a mistyped key is refused, not left out

    reasons: str = Field(description=f"At least {appeals.MIN_REASONS} characters")
    leaves: list[str] = Field(default_factory=list, description="The disputed indicators (leaf "
                                                                "ids of the result), if any")
    evidence: list[EvidenceIn] = Field(
        default_factory=list, description=f"At most {appeals.MAX_EVIDENCE_FILES} files")

    def files(self) -> list[tuple[bytes, str]]:
        found, errors = [], {}
        for index, item in enumerate(self.evidence):
            try:
                found.append((base64.b64decode(item.content_base64, validate=True),
                              item.filename))
            except (binascii.Error, ValueError):
                errors[f"evidence.{index}.content_base64"] = _(
                    "%(file)s: the content is not valid base64.", file=item.filename or "?")
        if errors:
            raise ValidationFailed(errors)
        return found


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(description="uphold (the result stands) or reopen (the named "
                                     "indicators are scored again)")
    decision: str = Field(description="The reasons, which the supplier reads")
    leaves: list[str] = Field(default_factory=list, description="For reopen: the indicators "
                                                                "to score again")
    expected_version: Version | None = Field(
        None, description="The appeal's version as read; if someone decided it since, the "
                          "decision is refused (409)")


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: Version | None = Field(
        None, description="The appeal's version as read; if finance decided it since, or it "
                          "changed otherwise, the withdrawal is refused (409)")


@router.post("/evaluations/{evaluation_id}/appeal",
             summary="File an appeal against a published result (提出申诉)", response_model=AppealOut,
             status_code=201,
             responses=error_responses(404, 409, 413))
@files_in_json(appeals.MAX_EVIDENCE_FILES)
def file_appeal(evaluation_id: int, body: AppealIn, response: Response,
                session: Session = Depends(get_session),
                principal: Principal = Depends(evaluation_supplier)):
    """The supplier appeals the published result of its evaluation (提出申诉) inside the
    appeal window, as the appeal page does; outside it, or a second time on the same
    publication, is refused with 409 and the reason. The result cannot become final until
    finance decides. Answers 201 with the appeal and its address in Location. Audited as
    appeal.file."""
    results.finalise_quietly(session, [evaluation_id])
    appeal = appeals.file(session, principal, evaluation_id, reasons=body.reasons,
                          leaves=body.leaves, evidence=body.files())
    response.headers["location"] = f"/api/appeals/{appeal.id}"
    return get_appeal(appeal.id, session, principal)


@router.post("/appeals/{appeal_id}/decide", summary="Decide an appeal (处理申诉)", response_model=AppealOut,
             responses=error_responses(404, 409))
def decide_appeal(appeal_id: int, body: DecisionIn, session: Session = Depends(get_session),
                  principal: Principal = Depends(appeal_decider)):
    """Finance decides an open appeal, as the appeal page does: uphold the result, or reopen
    the named indicators (the evaluation goes back to scoring). Audited as appeal.upheld or
    appeal.reopened."""
    appeals.decide(session, principal, appeal_id, outcome=body.outcome, decision=body.decision,
                   leaves=body.leaves, expected_version=body.expected_version)
    return get_appeal(appeal_id, session, principal)


@router.post("/appeals/{appeal_id}/withdraw", summary="Withdraw an appeal (撤回申诉)",
             response_model=AppealOut, responses=error_responses(404, 409))
def withdraw_appeal(appeal_id: int,
                    body: Annotated[WithdrawalIn, Body(default_factory=WithdrawalIn)],
                    session: Session = Depends(get_session),
                    principal: Principal = Depends(appeal_withdrawer)):
    """The supplier that filed an appeal withdraws it while finance has not decided it, as the
    appeal page's button does (撤回申诉): filed by mistake, or the matter settled. A decided or
    withdrawn appeal is refused with 409 naming its status, as is one changed since
    expected_version was read. Withdrawing is final for the publication: it cannot be appealed
    again (one appeal per publication), and the result becomes final once the appeal window has
    closed. The body is optional: without it no version is checked. Audited as
    appeal.withdrawn."""
    appeals.withdraw(session, principal, appeal_id, expected_version=body.expected_version)
    return get_appeal(appeal_id, session, principal)
