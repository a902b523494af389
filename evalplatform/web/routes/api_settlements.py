"""The JSON API of settlements (结算) and their payment (支付): what a treasury's payment system
reads, and the payment it writes back.

The same services and access rules as the settlement pages: finance and auditors see every
settlement, a purchaser its own department's, a supplier its own contracts' (someone else's
settlement is "not found", 404); evaluators and administrators are refused (403). Only
finance records a payment, through ``settlements.record_payment`` as the page's form does,
with the same refusals: a settlement that is not approved, or whose payment is blocked (its
result is no longer final, its service failed acceptance), is refused with 409 and the reason;
a bad voucher number or payment date with 422 naming the field. The workflow before the
payment is here too, each step through the service its page calls: the purchaser proposes
(``POST /api/contracts/{id}/settlements``), finance approves, returns with reasons or withdraws
an approval (``POST /api/settlements/{id}/approve|return|withdraw``). Amounts are given twice:
integer fen, exact, and a yuan string with two decimals ("234000.00") — never a float.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.i18n import _
from evalplatform.models import (
    Evaluation,
    Instalment,
    Role,
    SettlementBasis,
    SettlementStatus,
    User,
)
from evalplatform.services import paging, settlements
from evalplatform.services.errors import NotFound, ValidationFailed
from evalplatform.services.money import fen_to_yuan_text
from evalplatform.web.access import Principal, require
from evalplatform.web.api_schema import Moment, RowId, Version, error_responses
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import ApiPage, ApiPerPage
from evalplatform.web.routes.settlements import (
    contract_purchaser,
    list_scope,
    owns_settlement,
    settlement_decider,
)

router = APIRouter(route_class=FormRoute, prefix="/api", tags=["settlements"],
                   responses=error_responses(401, 403, 422))

readers = require(Role.finance, Role.purchaser, Role.auditor, Role.supplier)
settlement_reader = require(Role.finance, Role.purchaser, Role.auditor, Role.supplier,
                            owns=owns_settlement)
settlement_payer = require(Role.finance, owns=owns_settlement)


class SettlementSummary(BaseModel):
    id: int
    number: str = Field(description="The sheet's number as printed, e.g. JS-000012")
    status: SettlementStatus
    basis: SettlementBasis = Field(description="performance: paid at the ratio the final "
                                               "result earns; fixed: 100 % when due")
    contract_id: int
    project_id: int
    project_name: str
    department_id: int
    department_name: str
    supplier_id: int
    supplier_name: str
    instalment_id: int
    instalment_seq: int
    instalment_amount_fen: int = Field(description="The instalment in fen (分), exact")
    instalment_amount_yuan: str = Field(description="The instalment in yuan, e.g. 234000.00")
    total: str | None = Field(description="The final result's total score, as rounded")
    grade: str | None
    ratio: str = Field(description="The share of the instalment paid, e.g. 0.95")
    payable_fen: int
    payable_yuan: str
    deduction_fen: int = Field(description="Instalment minus payable, exactly")
    deduction_yuan: str
    proposed_at: Moment
    decided_at: Moment | None = Field(description="When finance approved or returned it")
    paid_on: date | None
    voucher_no: str | None
    version: int = Field(description="Changes at every decision; send it back as "
                                     "expected_version with the payment")


class SettlementPage(BaseModel):
    items: list[SettlementSummary]
    total: int
    page: int
    pages: int
    per_page: int
    sort: str


class PersonOut(BaseModel):
    id: int
    display_name: str


class HistoryEntryOut(BaseModel):
    at: Moment
    actor: str
    action: str = Field(description="settlement.propose, settlement.approve, "
                                    "settlement.return, settlement.withdraw or settlement.pay")


class PaymentDueOut(BaseModel):
    due_on: date | None = Field(description="When the payment falls due; null while it waits "
                                            "(for its acceptance, its evaluation) or when the "
                                            "contract's own terms apply")
    period_days: int | None = Field(description="The payment period of a small or medium "
                                                "supplier; null otherwise")
    counted_from: str = Field(description="signing | acceptance | empty while not counted")
    starts_on: date | None
    note: str = Field(description="Why there is no due date, in the reader's language")
    interest_per_day: str = Field(description="Late-payment interest, percent a day, e.g. 0.05")
    overdue_days: int = Field(description="Unpaid: days past the due date, up to today")
    late_days: int = Field(description="Paid: days it was paid late")
    interest_fen: int = Field(description="Interest owed for those days, in fen")
    interest_yuan: str
    as_of: date


class SettlementDetail(SettlementSummary):
    contract_amount_fen: int
    contract_amount_yuan: str
    evaluation_id: int | None
    evaluation_title: str | None
    payment_rule: dict = Field(description="The payment rule as applied, in the scoring "
                                              "engine's format: bands (min, ratio) or linear")
    payment_rule_text: str = Field(description="The rule in words, in the reader's language")
    explanation: str = Field(description="How the ratio was computed")
    note: str = Field(description="The purchaser's note on the proposal")
    return_reason: str
    proposed_by: PersonOut | None
    decided_by: PersonOut | None
    paid_recorded_by: PersonOut | None
    payment: PaymentDueOut
    approval_refusal: str | None = Field(description="Proposed: why finance cannot approve it "
                                                     "now, if it cannot")
    payment_refusal: str | None = Field(description="Approved: why it cannot be paid now, if "
                                                    "it cannot (withdraw the approval)")
    history: list[HistoryEntryOut]


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paid_on: str = Field(description="The payment date, YYYY-MM-DD: not in the future, not "
                                     "before the approval", examples=["2026-07-30"])
    voucher_no: str = Field("", description="The payment voucher number (支付凭证号), at most 60 "
                                            "characters, unique; required unless the payable "
                                            "amount is ¥0 (nothing is paid, so there is no "
                                            "voucher)", examples=["GK-2026-000777"])
    expected_version: Version | None = Field(
        None, description="The settlement's version as read; if someone decided on it since, "
                          "the payment is refused (409) instead of recorded on a changed "
                          "settlement")


class ProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instalment_id: RowId = Field(description="The instalment to settle: one of the contract's "
                                           "(GET /api/contracts/{id} lists them)")
    evaluation_id: RowId | None = Field(
        None, description="The final evaluation the instalment is settled on; by default the "
                          "final evaluation of the instalment's stage, as the page proposes it")
    # the length is the service's rule, whose refusal states it (pydantic's would not)
    note: str = Field("", description=f"The purchaser's note to finance, at most "
                                      f"{settlements.MAX_TEXT} characters",
                      json_schema_extra={"maxLength": settlements.MAX_TEXT})


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: Version | None = Field(
        None, description="The settlement's version as read (GET /api/settlements/{id}); if "
                          "someone decided on it since, the decision is refused (409)")


class ReasonedDecisionIn(DecisionIn):
    reason: str = Field(description="Why, in words the purchaser reads (required)")


def _summary(row: settlements.SettlementRow) -> dict:
    s = row.settlement
    return {"id": s.id, "number": f"JS-{s.id:06d}", "status": s.status, "basis": s.basis,
            "contract_id": row.contract.id, "project_id": row.project.id,
            "project_name": row.project.name, "department_id": row.department.id,
            "department_name": row.department.name, "supplier_id": row.supplier.id,
            "supplier_name": row.supplier.name, "instalment_id": row.instalment.id,
            "instalment_seq": row.instalment.seq,
            "instalment_amount_fen": s.instalment_amount_fen,
            "instalment_amount_yuan": fen_to_yuan_text(s.instalment_amount_fen),
            "total": s.total, "grade": s.grade, "ratio": s.ratio,
            "payable_fen": s.payable_fen, "payable_yuan": fen_to_yuan_text(s.payable_fen),
            "deduction_fen": s.deduction_fen,
            "deduction_yuan": fen_to_yuan_text(s.deduction_fen),
            "proposed_at": s.proposed_at, "decided_at": s.decided_at, "paid_on": s.paid_on,
            "voucher_no": s.voucher_no, "version": s.version}


def _person(session: Session, user_id: int | None) -> PersonOut | None:
    user = session.get(User, user_id) if user_id else None
    return PersonOut(id=user.id, display_name=user.display_name) if user else None


def _detail(session: Session, settlement_id: int) -> SettlementDetail:
    row = settlements.page(session, settlement_ids=[settlement_id]).items[0]
    s = row.settlement
    evaluation = session.get(Evaluation, s.evaluation_id) if s.evaluation_id else None
    payment = settlements.payment_of(session, s)
    due = payment.due
    return SettlementDetail(
        **_summary(row),
        contract_amount_fen=s.contract_amount_fen,
        contract_amount_yuan=fen_to_yuan_text(s.contract_amount_fen),
        evaluation_id=evaluation.id if evaluation else None,
        evaluation_title=evaluation.title if evaluation else None,
        payment_rule=s.payment_rule or {},
        payment_rule_text=settlements.rule_text(s.payment_rule,
                                                settlements.settlement_grades(session, s)),
        explanation=settlements.explanation_in_reader_language(session, s), note=s.note,
        return_reason=s.return_reason,
        proposed_by=_person(session, s.proposed_by), decided_by=_person(session, s.decided_by),
        paid_recorded_by=_person(session, s.paid_recorded_by),
        payment=PaymentDueOut(
            due_on=due.due_on, period_days=due.period_days, counted_from=due.start,
            starts_on=due.starts_on, note=str(due.notice or due.note),
            interest_per_day=f"{payment.interest_per_day.normalize():f}",
            overdue_days=payment.overdue_days, late_days=payment.paid_late_days,
            interest_fen=payment.interest_fen,
            interest_yuan=fen_to_yuan_text(payment.interest_fen), as_of=payment.as_of),
        approval_refusal=settlements.approval_refusal(session, s)
        if s.status == SettlementStatus.proposed else None,
        payment_refusal=settlements.payment_refusal(session, s)
        if s.status == SettlementStatus.approved else None,
        history=[HistoryEntryOut(at=e.at, actor=e.actor_name, action=e.action)
                 for e in settlements.history(session, s)])


@router.get("/settlements", summary="List settlements (结算列表)", response_model=SettlementPage)
def list_settlements(
    status: str = Query("", description="A settlement status: "
                        + ", ".join(SettlementStatus.__members__)),
    contract_id: int | None = Query(None, description="Only this contract's settlements"),
    sort: str | None = Query(None, description="proposed_at, project, payable or status; a "
                             "leading - sorts descending; newest proposal first when omitted"),
    page: ApiPage = 1,
    per_page: ApiPerPage = 20,
    session: Session = Depends(get_session),
    principal: Principal = Depends(readers),
):
    """The settlements the caller may see, as on the settlement list page, paged; an unknown
    status or sort is refused (422) naming the parameter and its values."""
    problems = settlements.filter_problems(status)
    if problems:
        raise ValidationFailed(problems)
    result = settlements.page(session, status=status, contract_id=contract_id, sort=sort,
                              page_number=page, per_page=per_page, **list_scope(principal))
    problems = paging.list_problems(result, sort=sort, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return SettlementPage(items=[SettlementSummary(**_summary(r)) for r in result.items],
                          total=result.total, page=result.page, pages=result.pages,
                          per_page=result.per_page,
                          sort=("-" if result.descending else "") + result.sort)


@router.get("/settlements/{settlement_id}",
            summary="A settlement sheet (结算单)", response_model=SettlementDetail,
            responses=error_responses(404))
def get_settlement(settlement_id: int, session: Session = Depends(get_session),
                   principal: Principal = Depends(settlement_reader)):
    """One settlement sheet, as its page shows it: the figures, who proposed and decided,
    the payment due date with days late and interest, the payment if recorded."""
    return _detail(session, settlement_id)


@router.post("/settlements/{settlement_id}/payment",
             summary="Record a settlement's payment (登记付款)", response_model=SettlementDetail,
             responses=error_responses(404, 409))
def record_payment(settlement_id: int, body: PaymentIn,
                   session: Session = Depends(get_session),
                   principal: Principal = Depends(settlement_payer)):
    """Record the payment of an approved settlement (finance), as the page's form does; send
    the session's CSRF token (``GET /api/me``) in the X-CSRF-Token header. Audited as
    settlement.pay, with the due date, the days late and the interest owed."""
    settlements.record_payment(session, principal, settlement_id, voucher_no=body.voucher_no,
                               paid_on=body.paid_on, expected_version=body.expected_version)
    return _detail(session, settlement_id)


@router.post("/contracts/{contract_id}/settlements",
             summary="Propose a settlement of an instalment (提出结算)", response_model=SettlementDetail,
             status_code=201, responses=error_responses(404, 409))
def propose_settlement(contract_id: int, body: ProposalIn, response: Response,
                       session: Session = Depends(get_session),
                       principal: Principal = Depends(contract_purchaser)):
    """The purchaser proposes the settlement of one of its contract's instalments (提出结算),
    through ``settlements.propose`` as the contract's settlement page does, with the same
    refusals: no settlement before the evaluation is final, none twice for an instalment,
    never above the contract or the budget (422 or 409 with the reason). Answers 201 with the
    settlement sheet and its address in Location. Audited as settlement.propose."""
    instalment = session.get(Instalment, body.instalment_id)
    if instalment is None or instalment.contract_id != contract_id:
        raise NotFound(_("No such instalment."))
    settlement = settlements.propose(session, principal, instalment.id,
                                     evaluation_id=body.evaluation_id, note=body.note)
    response.headers["location"] = f"/api/settlements/{settlement.id}"
    return _detail(session, settlement.id)


@router.post("/settlements/{settlement_id}/approve",
             summary="Approve a settlement (审批结算)", response_model=SettlementDetail,
             responses=error_responses(404, 409))
def approve_settlement(settlement_id: int,
                       body: Annotated[DecisionIn, Body(default_factory=DecisionIn)],
                       session: Session = Depends(get_session),
                       principal: Principal = Depends(settlement_decider)):
    """Finance approves a proposed settlement (财政审核通过), as the page's button does: not by
    the person who proposed it (不相容岗位分离), not on a changed version (409). The body is
    optional: without one (or without ``expected_version``) the settlement is approved as it
    stands, unchecked against a version read before. Audited as settlement.approve."""
    settlements.approve(session, principal, settlement_id,
                        expected_version=body.expected_version)
    return _detail(session, settlement_id)


@router.post("/settlements/{settlement_id}/return",
             summary="Return a settlement (退回结算)", response_model=SettlementDetail,
             responses=error_responses(404, 409))
def return_settlement(settlement_id: int, body: ReasonedDecisionIn,
                      session: Session = Depends(get_session),
                      principal: Principal = Depends(settlement_decider)):
    """Finance returns a proposal to the purchaser with its reasons (退回); the purchaser may
    propose again. A reason is required (422). Audited as settlement.return."""
    settlements.return_to_purchaser(session, principal, settlement_id, body.reason,
                                    expected_version=body.expected_version)
    return _detail(session, settlement_id)


@router.post("/settlements/{settlement_id}/withdraw",
             summary="Withdraw a settlement (撤回结算)", response_model=SettlementDetail,
             responses=error_responses(404, 409))
def withdraw_settlement(settlement_id: int, body: ReasonedDecisionIn,
                        session: Session = Depends(get_session),
                        principal: Principal = Depends(settlement_decider)):
    """Finance withdraws its approval of a settlement not yet paid (撤回审核), with its reasons;
    the settlement goes back to the purchaser. Audited as settlement.withdraw."""
    settlements.withdraw_approval(session, principal, settlement_id, body.reason,
                                  expected_version=body.expected_version)
    return _detail(session, settlement_id)
