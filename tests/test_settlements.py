"""Settlement (结算): the sheet from a final result, the two-person workflow, the limits."""

import threading
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlmodel import Session, func, select

from evalplatform.i18n import language
from evalplatform.models import (
    AuditEntry,
    Contract,
    DueCondition,
    Instalment,
    Project,
    Settlement,
    SettlementStatus,
    User,
)
from evalplatform.services import projects, settlements
from evalplatform.services.errors import Conflict, PermissionDenied, ValidationFailed
from tests.builders import contracted_world, schedule
from tests.conftest import statements_of
from tests.settlement_builders import (
    add_result,
    final_evaluation,
    instalment,
    principal,
    to_status,
)


@pytest.fixture
def world(db, make_user, make_org):
    return contracted_world(db, make_user, make_org)


def count(db, model=Settlement) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def settlement_audit(db) -> list[str]:
    return list(db.exec(select(AuditEntry.action).where(AuditEntry.entity_type == "settlement")
                        .order_by(AuditEntry.seq)))


# ---------------------------------------------------------------- the final result


def test_final_result_is_the_current_version_of_a_final_evaluation(db, world):
    evaluation = schedule(db, world)
    evaluation = to_status(db, world, evaluation, "published")
    add_result(db, evaluation, "81.00", "良", final_on=None)
    assert settlements.final_result(db, evaluation) is None  # published, window still open
    evaluation = to_status(db, world, evaluation, "final")
    first = db.exec(select(settlements.EvaluationResult)).one()
    first.final_at = first.published_at
    first.superseded = True
    db.add(first)
    db.commit()
    second = add_result(db, evaluation, "86.35", "良", version=2)
    assert settlements.final_result(db, evaluation).id == second.id


# ---------------------------------------------------------------- the sheet


def test_the_final_instalment_pays_the_ratio_its_grade_earns_and_the_parts_add_up(db, world):
    final_evaluation(db, world, "86.35", "良")
    sheet = settlements.build_sheet(db, instalment(db, world, 3))
    assert sheet.ready, sheet.problem
    assert sheet.amount_fen == 31_200_000  # 40 % of ¥780,000.00
    assert (sheet.total, sheet.grade, sheet.ratio) == (Decimal("86.35"), "良", Decimal("0.95"))
    # by hand: 312,000.00 × 95 % = 296,400.00; deduction 15,600.00
    assert (sheet.payable_fen, sheet.deduction_fen) == (29_640_000, 1_560_000)
    assert sheet.payable_fen + sheet.deduction_fen == sheet.amount_fen
    assert sheet.rule == {"bands": [{"min": "90", "ratio": "1.00"}, {"min": "80", "ratio": "0.95"},
                                    {"min": "60", "ratio": "0.80"}, {"min": "0", "ratio": "0.00"}]}
    # the trace names the grade and its band, and writes the amounts with thousands separators
    assert sheet.explanation == (
        "总分 86.35（良），落在“得分 ≥ 80（良）”一档，支付比例 95%；"
        "应付金额 = ¥312,000.00 × 95% = ¥296,400.00，"
        "扣减金额 = ¥312,000.00 − ¥296,400.00 = ¥15,600.00。")


def test_a_linear_rule_rounds_half_up_to_the_fen(db, world):
    world.contract.payment_rule = {"kind": "linear", "floor_score": "60"}
    db.add(world.contract)
    final_instalment = instalment(db, world, 3)
    final_instalment.amount_fen = 31_200_003  # ¥312,000.03: make the fen matter
    db.add(final_instalment)
    db.commit()
    final_evaluation(db, world, "87.35", "良")
    sheet = settlements.build_sheet(db, final_instalment)
    assert sheet.ratio == Decimal("0.8735")
    exact = Decimal("312000.03") * Decimal("0.8735")  # 272532.026205
    assert sheet.payable_fen == int((exact * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert sheet.payable_fen == 27_253_203
    assert sheet.payable_fen + sheet.deduction_fen == 31_200_003
    assert sheet.explanation == (
        "总分 87.35（良），按线性规则：支付比例 = 87.35 ÷ 100 = 87.35%（四舍五入到 0.01%）；"
        "应付金额 = ¥312,000.03 × 87.35% = ¥272,532.03，"
        "扣减金额 = ¥312,000.03 − ¥272,532.03 = ¥39,468.00。")
    below = final_evaluation(db, world, "59.99", "差", start="2027-01-01", end="2027-01-04")
    sheet = settlements.build_sheet(db, final_instalment, below.id)
    assert (sheet.ratio, sheet.payable_fen, sheet.deduction_fen) == (0, 0, 31_200_003)
    assert sheet.explanation.startswith("总分 59.99（差） 低于下限 60 分，不予支付；")


def test_an_instalment_on_signing_settles_in_full_at_once(db, world):
    sheet = settlements.build_sheet(db, instalment(db, world, 1))
    assert sheet.ready and sheet.evaluation is None
    assert (sheet.ratio, sheet.payable_fen, sheet.deduction_fen) == (1, 23_400_000, 0)


def test_an_instalment_not_linked_to_performance_pays_100_percent_once_its_evaluation_is_final(
        db, world):
    interim = instalment(db, world, 2)
    interim.performance_linked = False
    db.add(interim)
    db.commit()
    assert not settlements.build_sheet(db, interim).ready  # nothing final yet
    final_evaluation(db, world, "61.00", "中", stage="interim")
    sheet = settlements.build_sheet(db, interim)
    assert sheet.ready and sheet.payable_fen == interim.amount_fen and sheet.deduction_fen == 0


def test_no_settlement_for_an_evaluation_that_is_not_final(db, world):
    evaluation = schedule(db, world, stage="interim", start="2026-01-05", end="2026-06-30",
                          opens="2026-07-01", closes="2026-07-05")
    evaluation = to_status(db, world, evaluation, "published")
    add_result(db, evaluation, "92.00", "优", final_on=None,
               published_on=projects.today())  # its appeal window still open
    purchaser = principal(world.purchaser)
    with language("en"), pytest.raises(ValidationFailed) as caught:
        settlements.propose(db, purchaser, instalment(db, world, 2).id)
    assert caught.value.errors["evaluation_id"].startswith(
        "No Interim (monitoring) evaluation of this contract is final yet")
    with language("en"), pytest.raises(ValidationFailed) as caught:  # named: still refused
        settlements.propose(db, purchaser, instalment(db, world, 2).id,
                            evaluation_id=evaluation.id)
    assert caught.value.errors["evaluation_id"] == (
        f"No settlement for an evaluation that is not final: {evaluation.title} is Publicised.")
    assert count(db) == 0 and settlement_audit(db) == []


def test_a_proposal_reads_a_result_whose_appeal_window_closed_unopened_as_final(db, world):
    """Nobody opened the result since its window closed: the proposal makes it final itself,
    rather than refusing until someone loads a result page."""
    evaluation = schedule(db, world, stage="interim", start="2026-01-05", end="2026-06-30",
                          opens="2026-07-01", closes="2026-07-05")
    evaluation = to_status(db, world, evaluation, "published")
    result = add_result(db, evaluation, "92.00", "优", final_on=None,
                        published_on=date(2026, 7, 10))  # window closed long ago
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 2).id)
    db.refresh(result)
    assert settlement.result_id == result.id and result.final_at is not None
    assert settlement_audit(db) == ["settlement.propose"]


def test_an_incomplete_result_cannot_be_settled(db, world):
    final_evaluation(db, world, "90.00", "优", final_ready=False)
    with pytest.raises(ValidationFailed):
        settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    assert count(db) == 0


# ---------------------------------------------------------------- the workflow


def test_the_purchaser_proposes_and_another_person_in_finance_approves(db, world, make_user):
    final_evaluation(db, world, "86.35", "良")
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id,
                                     note="终期评价结果已确定")
    assert settlement.status == SettlementStatus.proposed and settlement.version == 1
    assert (settlement.payable_fen, settlement.deduction_fen, settlement.ratio,
            settlement.total, settlement.grade) == (29_640_000, 1_560_000, "0.95", "86.35", "良")
    approved = settlements.approve(db, principal(world.finance), settlement.id,
                                   expected_version=1)
    assert approved.status == SettlementStatus.approved and approved.decided_by == world.finance.id
    assert settlement_audit(db) == ["settlement.propose", "settlement.approve"]


def test_only_the_purchasing_department_proposes(db, world, make_user, make_org):
    final_evaluation(db, world, "86.35", "良")
    stranger = make_user("purchaser", organisation=make_org("purchasing_department", name="别的局"))
    for user in (stranger, world.finance, world.supplier_user):
        with pytest.raises(PermissionDenied):
            settlements.propose(db, principal(user), instalment(db, world, 3).id)
    assert count(db) == 0


def test_the_proposer_cannot_approve_even_after_moving_to_finance(db, world, make_org):
    """不相容岗位分离: the same person may not propose and approve."""
    final_evaluation(db, world, "86.35", "良")
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    mover = db.get(User, world.purchaser.id)  # job rotation: the proposer now works in finance
    mover.role, mover.organisation_id = "finance", world.finance.organisation_id
    db.add(mover)
    db.commit()
    with pytest.raises(PermissionDenied) as caught:
        settlements.approve(db, principal(mover), settlement.id)
    assert "不相容岗位分离" in caught.value.message
    with pytest.raises(PermissionDenied):
        settlements.return_to_purchaser(db, principal(mover), settlement.id, "自己退回")
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.proposed and settlement.version == 1
    assert settlement_audit(db) == ["settlement.propose"]


def test_a_finance_user_who_proposed_an_earlier_round_cannot_approve(db, world, make_user):
    final_evaluation(db, world, "86.35", "良")
    first = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    settlements.return_to_purchaser(db, principal(world.finance), first.id, "附件不全，请补充验收单")
    colleague = make_user("purchaser", organisation=world.department)
    again = settlements.propose(db, principal(colleague), instalment(db, world, 3).id)
    assert again.id == first.id and again.version == 3 and again.proposed_by == colleague.id
    mover = db.get(User, world.purchaser.id)
    mover.role, mover.organisation_id = "finance", world.finance.organisation_id
    db.add(mover)
    db.commit()
    with pytest.raises(PermissionDenied):
        settlements.approve(db, principal(mover), again.id)
    assert settlements.approve(db, principal(world.finance), again.id).status == \
        SettlementStatus.approved


def test_finance_returns_with_reasons_and_the_purchaser_proposes_again(db, world):
    final_evaluation(db, world, "86.35", "良")
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    with pytest.raises(ValidationFailed) as caught:
        settlements.return_to_purchaser(db, principal(world.finance), settlement.id, "   ")
    assert "reason" in caught.value.errors
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.proposed
    returned = settlements.return_to_purchaser(db, principal(world.finance), settlement.id,
                                               "请补充验收记录")
    assert returned.status == SettlementStatus.returned and returned.return_reason == "请补充验收记录"
    with pytest.raises(Conflict):  # a returned settlement is not approved
        settlements.approve(db, principal(world.finance), settlement.id)
    again = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    assert again.status == SettlementStatus.proposed and again.decided_by is None
    assert settlement_audit(db) == ["settlement.propose", "settlement.return",
                                    "settlement.propose"]


def test_a_second_proposal_for_the_same_instalment_is_refused(db, world):
    purchaser = principal(world.purchaser)
    settlements.propose(db, purchaser, instalment(db, world, 1).id)
    with pytest.raises(Conflict):
        settlements.propose(db, purchaser, instalment(db, world, 1).id)
    assert count(db) == 1


def test_a_stale_version_loses_and_changes_nothing(db, world, make_user):
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 1).id)
    other = make_user("finance")
    settlements.approve(db, principal(other), settlement.id, expected_version=1)
    with pytest.raises(Conflict):
        settlements.approve(db, principal(world.finance), settlement.id, expected_version=1)
    db.refresh(settlement)
    assert settlement.decided_by == other.id and settlement.version == 2


def test_two_approvals_at_the_same_moment_cannot_both_succeed(db, engine, world, make_user):
    """Two finance users approve the same settlement at once: exactly one succeeds."""
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 1).id)
    approvers = [principal(world.finance), principal(make_user("finance"))]
    barrier = threading.Barrier(2)
    outcomes: list = [None, None]

    def approve(k: int) -> None:
        with Session(engine) as session:
            seen = settlements.get(session, settlement.id)  # both read version 1
            barrier.wait()
            try:
                settlements.approve(session, approvers[k], seen.id, expected_version=seen.version)
                outcomes[k] = "approved"
            except Conflict as exc:
                outcomes[k] = exc.message

    threads = [threading.Thread(target=approve, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o == "approved" for o in outcomes) == [False, True], outcomes
    loser = next(o for o in outcomes if o != "approved")
    assert "刚刚" in loser or "moment ago" in loser
    db.expire_all()
    settled = db.get(Settlement, settlement.id)
    assert settled.status == SettlementStatus.approved and settled.version == 2
    assert settlement_audit(db).count("settlement.approve") == 1


def test_approval_is_refused_when_the_result_is_no_longer_the_final_one(db, world):
    evaluation = final_evaluation(db, world, "86.35", "良")
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    old = db.get(settlements.EvaluationResult, settlement.result_id)
    old.superseded = True
    db.add(old)
    db.commit()
    add_result(db, evaluation, "91.00", "优", version=2)
    with pytest.raises(Conflict):
        settlements.approve(db, principal(world.finance), settlement.id)
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.proposed


# ---------------------------------------------------------------- the limits


def test_the_settlements_never_exceed_the_contract(db, world):
    extra = Instalment(contract_id=world.contract.id, seq=4, amount_fen=60_000_000,
                       due_condition=DueCondition.on_signing)  # a schedule gone wrong
    db.add(extra)
    db.commit()
    purchaser = principal(world.purchaser)
    settlements.propose(db, purchaser, instalment(db, world, 1).id)
    with pytest.raises(ValidationFailed) as caught:
        settlements.propose(db, purchaser, extra.id)
    message = caught.value.errors["amount"]
    assert "¥834,000.00" in message and "¥780,000.00" in message
    assert count(db) == 1


def test_the_settlements_never_exceed_the_budget(db, world):
    project = db.get(Project, world.project.id)
    project.budget_fen = 50_000_000  # the budget was cut to ¥500,000.00 after signing
    db.add(project)
    db.commit()
    final_evaluation(db, world, "95.00", "优")
    purchaser = principal(world.purchaser)
    settlements.propose(db, purchaser, instalment(db, world, 1).id)  # ¥234,000.00
    with pytest.raises(ValidationFailed) as caught:
        settlements.propose(db, purchaser, instalment(db, world, 3).id)  # + ¥312,000.00
    message = caught.value.errors["amount"]
    assert "¥546,000.00" in message and "¥500,000.00" in message
    assert count(db) == 1


def test_a_returned_settlement_does_not_count_against_the_contract(db, world):
    contract = db.get(Contract, world.contract.id)
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 1).id)
    settlements.return_to_purchaser(db, principal(world.finance), settlement.id, "金额有误")
    contract.amount_fen = 23_400_000  # only the on-signing instalment fits now
    db.add(contract)
    db.commit()
    assert settlements.propose(db, principal(world.purchaser),
                               instalment(db, world, 1).id).status == SettlementStatus.proposed


def test_each_evaluation_settles_one_instalment(db, world):
    evaluation = final_evaluation(db, world, "86.35", "良", stage="interim")
    interim = instalment(db, world, 2)
    settlements.propose(db, principal(world.purchaser), interim.id)
    second = Instalment(contract_id=world.contract.id, seq=4, amount_fen=1,
                        due_condition=DueCondition.after_interim, performance_linked=True)
    db.add(second)
    db.commit()
    sheet = settlements.build_sheet(db, second, evaluation.id)
    assert not sheet.ready and evaluation.title in sheet.problem


# ---------------------------------------------------------------- payment


def approved(db, world, seq=1):
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, seq).id)
    return settlements.approve(db, principal(world.finance), settlement.id)


def test_a_bad_payment_record_is_refused_and_nothing_changes(db, world):
    settlement = approved(db, world)
    for voucher, paid_on, field in [("", "2026-02-01", "voucher_no"),
                                    ("X" * 61, "2026-02-01", "voucher_no"),
                                    ("GK-2026-0001", "2026/02/01", "paid_on"),
                                    ("GK-2026-0001", "2099-01-01", "paid_on")]:
        with pytest.raises(ValidationFailed) as caught:
            settlements.record_payment(db, principal(world.finance), settlement.id,
                                       voucher_no=voucher, paid_on=paid_on)
        assert field in caught.value.errors
        db.refresh(settlement)
        assert settlement.status == SettlementStatus.approved and settlement.voucher_no is None


def test_the_payment_is_recorded_with_its_voucher_and_date(db, world):
    settlement = approved(db, world)
    today = settlements.projects.today()
    paid = settlements.record_payment(db, principal(world.finance), settlement.id,
                                      voucher_no="GK-2026-000123", paid_on=today.isoformat())
    assert paid.status == SettlementStatus.paid and paid.voucher_no == "GK-2026-000123"
    assert paid.paid_on == today and settlement_audit(db)[-1] == "settlement.pay"


def test_an_instalment_deducted_in_full_is_closed_without_a_voucher(db, world):
    """Nothing is paid on a 差 result's instalment, so there is no payment voucher to quote:
    finance closes the settlement on a date instead of inventing a voucher number."""
    final_evaluation(db, world, "59.99", "差")
    settlement = approved(db, world, seq=3)
    assert settlement.payable_fen == 0 and settlement.deduction_fen > 0
    today = settlements.projects.today()
    closed = settlements.record_payment(db, principal(world.finance), settlement.id,
                                        voucher_no="", paid_on=today.isoformat())
    assert closed.status == SettlementStatus.paid and closed.voucher_no is None
    assert closed.paid_on == today and settlement_audit(db)[-1] == "settlement.pay"
    paying = approved(db, world, seq=1)  # a payable instalment still needs its voucher
    with pytest.raises(ValidationFailed) as caught:
        settlements.record_payment(db, principal(world.finance), paying.id, voucher_no="",
                                   paid_on=today.isoformat())
    assert "voucher_no" in caught.value.errors


def test_a_voucher_number_is_used_once(db, world):
    first = approved(db, world)
    settlements.record_payment(db, principal(world.finance), first.id, voucher_no="GK-1",
                               paid_on=settlements.projects.today().isoformat())
    final_evaluation(db, world, "95.00", "优")
    second = approved(db, world, seq=3)
    with pytest.raises(ValidationFailed) as caught:
        settlements.record_payment(db, principal(world.finance), second.id, voucher_no="GK-1",
                                   paid_on=settlements.projects.today().isoformat())
    assert "GK-1" in caught.value.errors["voucher_no"]


def test_only_an_approved_settlement_is_paid_and_only_by_finance(db, world):
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 1).id)
    with pytest.raises(Conflict):
        settlements.record_payment(db, principal(world.finance), settlement.id, voucher_no="V1",
                                   paid_on="2026-02-01")
    settlements.approve(db, principal(world.finance), settlement.id)
    with pytest.raises(PermissionDenied):
        settlements.record_payment(db, principal(world.purchaser), settlement.id,
                                   voucher_no="V1", paid_on="2026-02-01")


# ---------------------------------------------------------------- withdrawing an approval


def test_finance_withdraws_an_approval_and_the_purchaser_proposes_again(db, world, make_user):
    """撤回审核: the approval is undone before payment; the settlement goes back to the
    purchaser with the reasons, like a return."""
    final_evaluation(db, world, "86.35", "良")
    settlement = approved(db, world, seq=3)
    assert settlement.version == 2
    withdrawn = settlements.withdraw_approval(db, principal(world.finance), settlement.id,
                                              "  复核发现验收记录日期有误  ", expected_version=2)
    assert withdrawn.status == SettlementStatus.returned and withdrawn.version == 3
    assert withdrawn.return_reason == "复核发现验收记录日期有误"
    assert settlement_audit(db) == ["settlement.propose", "settlement.approve",
                                    "settlement.withdraw"]
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "settlement.withdraw")).one()
    assert entry.actor_id == world.finance.id
    with pytest.raises(Conflict):  # withdrawn is not paid
        settlements.record_payment(db, principal(world.finance), settlement.id, voucher_no="V1",
                                   paid_on=settlements.projects.today().isoformat())
    again = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    assert again.id == settlement.id and again.status == SettlementStatus.proposed
    assert again.version == 4 and again.decided_by is None
    assert settlements.approve(db, principal(make_user("finance")), again.id).status == \
        SettlementStatus.approved


def test_only_an_approved_unpaid_settlement_is_withdrawn(db, world):
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 1).id)
    with language("en"), pytest.raises(Conflict) as caught:  # proposed: return it instead
        settlements.withdraw_approval(db, principal(world.finance), settlement.id, "有误")
    assert "Only an approved settlement that is not paid yet" in caught.value.message
    settlements.approve(db, principal(world.finance), settlement.id)
    settlements.record_payment(db, principal(world.finance), settlement.id, voucher_no="GK-9",
                               paid_on=settlements.projects.today().isoformat())
    with pytest.raises(Conflict):  # paid: never withdrawn
        settlements.withdraw_approval(db, principal(world.finance), settlement.id, "有误")
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.paid and settlement.voucher_no == "GK-9"
    assert settlement_audit(db)[-1] == "settlement.pay"


def test_a_withdrawal_needs_reasons_finance_and_someone_who_did_not_propose(db, world):
    settlement = approved(db, world)
    with pytest.raises(ValidationFailed) as caught:
        settlements.withdraw_approval(db, principal(world.finance), settlement.id, "   ")
    assert "reason" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        settlements.withdraw_approval(db, principal(world.finance), settlement.id, "长" * 2001)
    assert "reason" in caught.value.errors
    for user in (world.purchaser, world.supplier_user):
        with pytest.raises(PermissionDenied):
            settlements.withdraw_approval(db, principal(user), settlement.id, "有误")
    mover = db.get(User, world.purchaser.id)  # the proposer, moved to finance
    mover.role, mover.organisation_id = "finance", world.finance.organisation_id
    db.add(mover)
    db.commit()
    with pytest.raises(PermissionDenied) as caught:
        settlements.withdraw_approval(db, principal(mover), settlement.id, "自己撤回")
    assert "不相容岗位分离" in caught.value.message
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.approved and settlement.version == 2
    assert settlement_audit(db) == ["settlement.propose", "settlement.approve"]


def test_a_stale_withdrawal_loses_and_changes_nothing(db, world, make_user):
    settlement = approved(db, world)
    settlements.withdraw_approval(db, principal(make_user("finance")), settlement.id, "有误",
                                  expected_version=2)
    settlements.propose(db, principal(world.purchaser), instalment(db, world, 1).id)
    settlements.approve(db, principal(world.finance), settlement.id)  # now version 5
    with pytest.raises(Conflict):  # a form seen at version 2
        settlements.withdraw_approval(db, principal(world.finance), settlement.id, "再撤回",
                                      expected_version=2)
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.approved and settlement.version == 5
    assert settlement_audit(db).count("settlement.withdraw") == 1


def test_no_payment_once_a_re_evaluation_replaced_the_result_after_the_approval(db, world):
    evaluation = final_evaluation(db, world, "86.35", "良")
    settlement = approved(db, world, seq=3)
    old = db.get(settlements.EvaluationResult, settlement.result_id)
    old.superseded = True
    db.add(old)
    db.commit()
    add_result(db, evaluation, "91.00", "优", version=2)  # the re-evaluation's final result
    today = settlements.projects.today().isoformat()
    with pytest.raises(Conflict) as caught:
        settlements.record_payment(db, principal(world.finance), settlement.id,
                                   voucher_no="GK-2026-2", paid_on=today)
    assert evaluation.title in caught.value.message and "撤回审核" in caught.value.message
    with language("en"), pytest.raises(Conflict) as caught:
        settlements.record_payment(db, principal(world.finance), settlement.id,
                                   voucher_no="GK-2026-2", paid_on=today)
    assert "no longer the final result" in caught.value.message
    assert "withdraw the approval" in caught.value.message
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.approved and settlement.voucher_no is None
    assert settlement_audit(db) == ["settlement.propose", "settlement.approve"]
    # withdrawn and proposed again, it settles on the result that is final now
    settlements.withdraw_approval(db, principal(world.finance), settlement.id, "结果已重新评价")
    again = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    assert (again.total, again.grade, again.payable_fen) == ("91.00", "优", 31_200_000)


# ---------------------------------------------------------------- contract terms


def test_bad_contract_terms_are_refused(db, world):
    for rate, threshold, field in [
            ("1.5", "80", "interest_per_day"), ("0", "80", "interest_per_day"),
            ("0.00001", "80", "interest_per_day"), ("abc", "80", "interest_per_day"),
            ("0.05", "120", "termination_threshold"), ("0.05", "", "termination_threshold")]:
        with pytest.raises(ValidationFailed) as caught:
            settlements.set_terms(db, principal(world.purchaser), world.contract.id,
                                  interest_per_day=rate, termination_threshold=threshold)
        assert field in caught.value.errors
        assert not settlements.terms_of(db, world.contract.id).recorded


def test_an_agreed_interest_below_the_one_year_lpr_is_refused(db, world):
    """保障中小企业款项支付条例 第十五条: an agreed rate may not be below the one-year LPR
    (3.0 % a year by default: 3.0 / 365 = 0.00822 % a day, so 0.0083 with 4 decimals)."""
    assert settlements.lpr_floor() == Decimal("3.0") / 365
    with pytest.raises(ValidationFailed) as caught:
        settlements.set_terms(db, principal(world.purchaser), world.contract.id,
                              interest_per_day="0.0082", termination_threshold="80")
    message = caught.value.errors["interest_per_day"]
    assert "LPR" in message and "0.0083" in message and "3.0" in message
    assert not settlements.terms_of(db, world.contract.id).recorded
    settlements.set_terms(db, principal(world.purchaser), world.contract.id,
                          interest_per_day="0.0083", termination_threshold="80")
    assert settlements.terms_of(db, world.contract.id).interest_per_day == Decimal("0.0083")


def test_contract_terms_default_and_are_fixed_once_settlement_starts(db, world):
    terms = settlements.terms_of(db, world.contract.id)
    assert (terms.interest_per_day, terms.termination_threshold, terms.recorded) == (
        Decimal("0.05"), Decimal("80"), False)
    settlements.set_terms(db, principal(world.purchaser), world.contract.id,
                          interest_per_day="0.03", termination_threshold="85")
    assert settlements.terms_of(db, world.contract.id).termination_threshold == Decimal("85")
    with pytest.raises(PermissionDenied):
        settlements.set_terms(db, principal(world.finance), world.contract.id,
                              interest_per_day="0.03", termination_threshold="85")
    settlements.propose(db, principal(world.purchaser), instalment(db, world, 1).id)
    with pytest.raises(Conflict):
        settlements.set_terms(db, principal(world.purchaser), world.contract.id,
                              interest_per_day="0.01", termination_threshold="60")
    assert settlements.terms_of(db, world.contract.id).interest_per_day == Decimal("0.03")


# ---------------------------------------------------------------- Excel for the treasury


def test_the_sheet_and_a_periods_settlements_export_to_excel(db, world):
    import io

    from openpyxl import load_workbook

    final_evaluation(db, world, "86.35", "良")
    settlement = approved(db, world, seq=3)
    book = load_workbook(io.BytesIO(settlements.sheet_workbook(db, settlement)))
    values = {row[0]: row[1] for row in book.active.iter_rows(values_only=True)}
    assert values["应付金额"] == Decimal("296400.00") or values["应付金额"] == 296400
    assert values["扣减金额"] == 15600 and values["支付比例"] == 0.95
    today = settlements.projects.today()
    book = load_workbook(io.BytesIO(settlements.period_workbook(db, today, today)))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[1][1] == world.project.name and rows[1][11] == 296400
    assert rows[-1][0] == "合计"
    empty = load_workbook(io.BytesIO(settlements.period_workbook(db, date(2020, 1, 1),
                                                                 date(2020, 12, 31))))
    assert len(list(empty.active.iter_rows())) == 1



def test_a_periods_export_writes_its_money_as_the_sheet_does(db, world):
    """Every money column of the period's workbook carries the yuan sign in its cells, as the
    single settlement's workbook and the half-year report do, under the same headings."""
    import io

    from openpyxl import load_workbook

    final_evaluation(db, world, "86.35", "良")
    settlement = approved(db, world, seq=3)
    single = load_workbook(io.BytesIO(settlements.sheet_workbook(db, settlement))).active
    single_formats = {row[0].value: row[1].number_format for row in single.iter_rows()}
    today = settlements.projects.today()
    period = load_workbook(io.BytesIO(settlements.period_workbook(db, today, today))).active
    headings = [c.value for c in period[1]]
    for heading in ("本期金额", "应付金额", "扣减金额"):
        column = headings.index(heading) + 1
        assert single_formats[heading] == settlements.YUAN_FORMAT
        for row in (2, period.max_row):  # the settlement and the total
            assert period.cell(row, column).number_format == settlements.YUAN_FORMAT, heading


def test_instalment_percentages_are_stored_as_people_write_them(db, world):
    """30 % is kept as "30", not the exponent form "3E+1" (shown on every schedule)."""
    assert [i.percent for i in db.exec(select(Instalment).where(
        Instalment.contract_id == world.contract.id).order_by(Instalment.seq))] == ["30", "30", "40"]


def test_an_instalment_is_settled_only_on_an_evaluation_of_its_own_stage(db, world):
    interim = final_evaluation(db, world, "86.35", "良", stage="interim")
    with pytest.raises(ValidationFailed) as caught:  # the final instalment, an interim evaluation
        settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id,
                            evaluation_id=interim.id)
    assert "evaluation_id" in caught.value.errors
    assert count(db) == 0


def test_a_performance_linked_instalment_due_on_signing_is_refused(db, world):
    first = instalment(db, world, 1)
    first.performance_linked = True
    db.add(first)
    db.commit()
    with pytest.raises(ValidationFailed) as caught:
        settlements.propose(db, principal(world.purchaser), first.id)
    assert "evaluation_id" in caught.value.errors
    assert count(db) == 0


def test_the_rule_and_the_trace_name_the_grade_where_a_band_starts_at_one(db, world):
    from evalplatform.i18n import language

    world.contract.payment_rule = {"kind": "bands", "bands": [
        {"min_score": "90", "ratio": "1.00"}, {"min_score": "80", "ratio": "0.95"},
        {"min_score": "70", "ratio": "0.90"}, {"min_score": "60", "ratio": "0.80"}]}
    db.add(world.contract)
    db.commit()
    rule = settlements.scoring_rule(world.contract)
    grades = settlements.grades_of(db, world.contract.scheme_id)
    assert settlements.rule_text(rule, grades) == (
        "得分 ≥ 90（优） → 支付 100%；得分 ≥ 80（良） → 支付 95%；得分 ≥ 70 → 支付 90%；"
        "得分 ≥ 60（中） → 支付 80%；低于 60 分：不予支付")
    final_evaluation(db, world, "72.50", "中")
    sheet = settlements.build_sheet(db, instalment(db, world, 3))
    assert sheet.payable_fen == 28_080_000  # 312,000.00 × 90 %
    assert sheet.explanation.startswith("总分 72.50（中），落在“得分 ≥ 70”一档，支付比例 90%；")
    assert "¥312,000.00 × 90% = ¥280,800.00" in sheet.explanation
    with language("en"):
        assert settlements.rule_text(rule, grades).startswith(
            "score ≥ 90 (优) → 100 %; score ≥ 80 (良) → 95 %; score ≥ 70 → 90 %")


def test_a_percentage_is_rounded_half_up_like_every_figure():
    # a format spec would round an exact half to even: 50.005 % → "50.00%", 0.125 → "12%"
    assert settlements.percent_text("0.50005", 2) == "50.01%"
    assert settlements.percent_text("0.125", 0) == "13%"
    assert settlements.percent_text("0.6665", 2) == "66.65%"
    assert settlements.percent_text("0.66665", 2) == "66.67%"
    assert settlements.percent_text("0.5", 2) == "50.00%"
    assert settlements.percent_text("0.9746") == "97.46%"


def test_the_payment_list_reads_each_kind_of_record_once_however_many_contracts(
        db, engine, make_user, make_org):
    """The payment-due list (and the finance home page and the half-year report that use it)
    read the contracts' instalments, settlements, terms, suppliers' profiles, organisations
    and acceptances in one statement each, not one for every contract or instalment: at a
    city's thousands of instalments a statement each was a page of thousands."""
    import re

    from sqlalchemy import event

    from tests.builders import contracted_world
    from tests.settlement_builders import final_evaluation, instalment, principal

    def statements_by_table() -> dict[str, int]:
        seen: dict[str, int] = {}

        def count(_conn, _cursor, statement, *_args):
            found = re.search(r"\bFROM (\w+)", statement)
            if found:
                seen[found.group(1)] = seen.get(found.group(1), 0) + 1

        event.listen(engine, "before_cursor_execute", count)
        try:
            db.expire_all()
            rows = settlements.payments(db)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return seen, rows

    def settled_world(n):
        world = contracted_world(db, make_user, make_org, n=n)
        final_evaluation(db, world, "86.35", "良")
        settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
        return world

    settled_world(1)
    few, rows_few = statements_by_table()  # one contract
    for n in range(2, 6):
        settled_world(n)
    many, rows_many = statements_by_table()
    assert len(rows_many) > len(rows_few)
    for table in ("instalment", "contract_terms", "supplier_profile", "organisation",
                  "acceptance"):
        assert many.get(table, 0) <= 1, (table, many)
    assert few.get("instalment", 0) == many.get("instalment", 0)


def test_the_payment_list_reads_in_as_many_statements_however_many_contracts_it_lists(
        db, make_user, make_org):
    """Every instalment of every contract on the due list, settled or not, its sheet worked
    out: the statements do not grow with the contracts (they grew by some six for each
    unsettled instalment)."""
    def statements() -> int:
        rows, count = statements_of(db, lambda: settlements.payments(db, today=date(2026, 11, 1)))
        assert rows
        return count

    first = contracted_world(db, make_user, make_org, n=1)
    final_evaluation(db, first, "88.00", "良")
    db.expire_all()
    one = statements()
    for n in (2, 3, 4):
        world = contracted_world(db, make_user, make_org, n=n)
        final_evaluation(db, world, "91.00", "优")
    db.expire_all()
    assert len(settlements.payments(db, today=date(2026, 11, 1))) >= 4 * 3
    db.expire_all()
    assert statements() == one


# ---------------------------------------------------------------- QA: money (helper "money")


def test_an_acceptance_recorded_after_the_payment_counts_the_payment_late_with_interest(db, world):
    """Paid before any acceptance was recorded, the payment kept no due date. The acceptance
    recorded afterwards starts the 30 days on 1 July 2026: due 31 July, paid 15 September is
    46 days late and owes ¥296,400.00 × 0.05 % × 46 = ¥6,817.20, not "paid on time"."""
    from datetime import UTC, datetime

    from evalplatform.services import acceptance

    evaluation = final_evaluation(db, world, "86.35", "良")
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    settlement = settlements.approve(db, principal(world.finance), settlement.id)
    settlement.decided_at = datetime(2026, 8, 1, 2, 0, tzinfo=UTC)
    db.add(settlement)
    db.commit()
    paid = settlements.record_payment(db, principal(world.finance), settlement.id,
                                      voucher_no="GK-2026-0915", paid_on="2026-09-15",
                                      today=date(2026, 11, 1))
    assert (paid.due_on, paid.late_days, paid.interest_fen) == (None, None, None)
    acceptance.record(db, principal(world.purchaser), evaluation.id, {
        "accepted_on": "2026-07-01", "conclusion": "accepted", "participants": "12",
        "participation": "居民代表 5 人参加现场验收", "opinion": "居民认为道路保洁及时。"},
        today=date(2026, 11, 1))
    db.refresh(paid)
    assert (paid.due_on, paid.late_days, paid.interest_fen) == (date(2026, 7, 31), 46, 681_720)
    row = next(r for r in settlements.payments(db, today=date(2026, 11, 1))
               if r.instalment.seq == 3)
    assert (row.state, row.late_days, row.interest_fen) == ("paid_late", 46, 681_720)
    assert settlements.payment_of(db, paid, today=date(2026, 11, 1)).interest_fen == 681_720
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "acceptance.record")).one()
    assert '"late_days":46' in entry.change and '"interest_fen":681720' in entry.change


@pytest.mark.parametrize("typed, fen", [
    ("1,234.56", 123_456), ("¥ 1,234.56", 123_456), ("１２３４．５６", 123_456),
    ("￥１２３，４５６．７８元", 12_345_678), ("100,000.01", 10_000_001), ("1234.50元", 123_450),
    ("999,999,999,999.99", 99_999_999_999_999)])
def test_an_amount_is_read_as_people_type_it_to_the_fen(typed, fen):
    from evalplatform.services.money import parse_yuan

    assert parse_yuan(typed) == (fen, None)


@pytest.mark.parametrize("typed, problem", [
    ("1,234,56", "Group the digits by three"),  # not ¥123,456.00: a slip for 1,234.56
    ("1,2,3", "Group the digits by three"), ("1234,567", "Group the digits by three"),
    ("1e3", "Enter an amount in yuan, e.g."), ("1_000", "Enter an amount in yuan, e.g."),
    ("NaN", "Enter an amount in yuan, e.g."), ("٣٣", "Enter an amount in yuan, e.g."),
    ("-1,000", "The amount must be greater than zero."), ("0.00", "The amount must be greater"),
    ("1,000.001", "The amount has at most two decimals"), ("1e13", "The amount is too large."),
    ("10,000,000,000,000", "The amount is too large.")])
def test_a_mistyped_amount_is_refused_with_its_rule_never_read_as_another(typed, problem):
    from evalplatform.services.money import parse_yuan

    with language("en"):
        fen, message = parse_yuan(typed)
    assert fen is None and message.startswith(problem), message


def test_an_instalment_deducted_in_full_is_never_overdue(db, world):
    """差 pays 0 % under the default bands: ¥312,000.00 is deducted in full and nothing is
    paid, so nothing falls overdue 30 days after the acceptance — no overdue row, no
    interest, no urgent card — whether the settlement is proposed yet or not."""
    from evalplatform.services import acceptance

    evaluation = final_evaluation(db, world, "56.00", "差")
    acceptance.record(db, principal(world.purchaser), evaluation.id, {
        "accepted_on": "2026-07-01", "conclusion": "accepted", "participants": "12",
        "participation": "居民代表 5 人参加现场验收", "opinion": "居民认为保洁不及时。"},
        today=date(2026, 11, 1))

    def final_row():
        return next(r for r in settlements.payments(db, today=date(2026, 9, 9))
                    if r.instalment.seq == 3)

    row = final_row()
    assert (row.payable_fen, row.state, row.late_days, row.interest_fen) == (
        0, "nothing_due", 0, None)
    with language("en"):
        assert row.state_label == "Nothing to pay: the instalment is deducted in full"
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    assert (settlement.payable_fen, settlement.deduction_fen) == (0, 31_200_000)
    assert final_row().state == "nothing_due"
    payment = settlements.payment_of(db, settlement, today=date(2026, 9, 9))
    assert (payment.overdue_days, payment.interest_fen) == (0, 0)
    # the on-signing instalment (¥234,000.00, due 4 February) is overdue all the same
    assert [r.instalment.seq for r in settlements.payments(db, today=date(2026, 9, 9))
            if r.state == "overdue"] == [1]
