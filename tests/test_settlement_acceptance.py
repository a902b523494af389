"""Acceptance (验收) with the recipients' participation; payment due dates and interest."""

from datetime import date

import pytest
from sqlmodel import func, select

from evalplatform.models import Acceptance, AuditEntry, Contract, SupplierProfile
from evalplatform.services import acceptance, settlements
from evalplatform.services.errors import Conflict, PermissionDenied, ValidationFailed
from tests.builders import contracted_world, schedule
from tests.conftest import login
from tests.settlement_builders import (
    add_result,
    final_evaluation,
    instalment,
    principal,
    to_status,
)

GOOD = {"accepted_on": "2026-07-01", "conclusion": "accepted", "participants": "12",
        "participation": "居民代表 5 人参加现场验收；问卷 312 份",
        "opinion": "居民认为道路保洁及时，个别路段夜间清运噪声偏大。",
        "survey_url": "/surveys/12"}


@pytest.fixture
def world(db, make_user, make_org):
    return contracted_world(db, make_user, make_org)


def count(db) -> int:
    return db.exec(select(func.count()).select_from(Acceptance)).one()


def test_the_purchaser_records_the_acceptance_with_the_recipients_opinion(db, world):
    evaluation = schedule(db, world)
    record = acceptance.record(db, principal(world.purchaser), evaluation.id, GOOD,
                               today=date(2026, 11, 1))
    assert (record.accepted_on, record.participants, record.survey_url) == (
        date(2026, 7, 1), 12, "/surveys/12")
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "acceptance.record")).one()
    assert '"participants":12' in entry.change


BAD_ACCEPTANCES = [
    ({"accepted_on": "2026-13-01"}, "accepted_on"),
    ({"accepted_on": "2026-11-02"}, "accepted_on"),  # after "today"
    ({"accepted_on": "2025-12-31"}, "accepted_on"),  # before the period it accepts
    ({"conclusion": "maybe"}, "conclusion"),
    ({"participants": "0"}, "participants"),  # no acceptance without the recipients
    ({"participants": "-3"}, "participants"),
    ({"opinion": "  "}, "opinion"),
    ({"opinion": "张大爷（13812345678）表示满意"}, "opinion"),  # a mobile number is published
    ({"participation": "代表 330102195001011234 参加"}, "participation"),  # an ID-card number
    ({"survey_url": "javascript:alert(1)"}, "survey_url"),
]


def test_a_bad_acceptance_is_refused_naming_the_field_and_nothing_changes(db, world):
    evaluation = schedule(db, world)
    for changes, field in BAD_ACCEPTANCES:
        with pytest.raises(ValidationFailed) as caught:
            acceptance.record(db, principal(world.purchaser), evaluation.id, {**GOOD, **changes},
                              today=date(2026, 11, 1))
        assert field in caught.value.errors, changes
        assert count(db) == 0


def test_only_the_purchasing_department_records_the_acceptance(db, world, make_user, make_org):
    evaluation = schedule(db, world)
    for user in (world.finance, world.supplier_user,
                 make_user("purchaser", organisation=make_org("purchasing_department"))):
        with pytest.raises(PermissionDenied):
            acceptance.record(db, principal(user), evaluation.id, GOOD, today=date(2026, 11, 1))
    assert count(db) == 0


def test_a_published_acceptance_cannot_be_changed(db, world):
    evaluation = schedule(db, world)
    acceptance.record(db, principal(world.purchaser), evaluation.id, GOOD,
                      today=date(2026, 11, 1))
    acceptance.record(db, principal(world.purchaser), evaluation.id,
                      {**GOOD, "participants": "15"}, today=date(2026, 11, 1))  # before: fine
    evaluation = to_status(db, world, evaluation, "published")
    add_result(db, evaluation, "86.35", "良", final_on=None)
    with pytest.raises(Conflict):
        acceptance.record(db, principal(world.purchaser), evaluation.id,
                          {**GOOD, "opinion": "改过的意见"}, today=date(2026, 11, 1))
    assert acceptance.for_evaluation(db, evaluation.id).opinion == GOOD["opinion"]


def test_the_public_notice_appears_with_the_published_result_and_holds_no_personal_data(
        client, db, world):
    evaluation = schedule(db, world)
    record = acceptance.record(db, principal(world.purchaser), evaluation.id, GOOD,
                               today=date(2026, 11, 1))
    assert client.get(f"/acceptances/{record.id}").status_code == 404  # not published yet
    assert world.project.name not in client.get("/acceptances").text
    evaluation = to_status(db, world, evaluation, "published")
    add_result(db, evaluation, "86.35", "良", final_on=None)
    listing = client.get("/acceptances")  # no sign-in: public
    assert listing.status_code == 200 and world.project.name in listing.text
    page = client.get(f"/acceptances/{record.id}")
    assert page.status_code == 200
    assert GOOD["opinion"] in page.text and "86.35" in page.text
    assert world.purchaser.username not in page.text and world.purchaser.display_name not in \
        page.text


def test_the_evaluation_page_shows_the_acceptance_panel(client, db, world):
    evaluation = schedule(db, world)
    acceptance.record(db, principal(world.purchaser), evaluation.id, GOOD,
                      today=date(2026, 11, 1))
    login(client, world.purchaser.username)
    page = client.get(f"/evaluations/{evaluation.id}")
    assert page.status_code == 200 and 'id="settlement-panel"' in page.text
    assert GOOD["opinion"] in page.text


def test_the_acceptance_form_re_renders_with_errors_and_then_saves(client, db, world):
    from tests.conftest import csrf_from

    evaluation = schedule(db, world)
    login(client, world.purchaser.username)
    token = csrf_from(client, f"/evaluations/{evaluation.id}/acceptance")
    bad = client.post(f"/evaluations/{evaluation.id}/acceptance",
                      data={**GOOD, "participants": "0", "csrf_token": token})
    assert bad.status_code == 422 and 'id="e-participants"' in bad.text
    assert count(db) == 0
    good = client.post(f"/evaluations/{evaluation.id}/acceptance",
                       data={**GOOD, "csrf_token": token})
    assert good.status_code == 303 and count(db) == 1
    client.cookies.clear()
    login(client, world.finance.username)
    assert client.get(f"/evaluations/{evaluation.id}/acceptance").status_code == 403


# ---------------------------------------------------------------- due dates and interest


def test_interest_is_the_payable_times_the_rate_times_the_days_half_up():
    assert settlements.interest_owed(29_640_000, settlements.DEFAULT_INTEREST_PER_DAY, 40) == \
        592_800  # ¥296,400.00 × 0.05 % × 40 = ¥5,928.00
    # ¥1,234.57 × 0.05 % × 3 = 1.851855 yuan → 185.1855 fen → 185 fen
    assert settlements.interest_owed(123_457, settlements.DEFAULT_INTEREST_PER_DAY, 3) == 185
    # ¥1,000.01 × 0.05 % × 1 = 50.0005 fen → 50; × 0.03 % × 5 = 150.0015 fen → 150
    assert settlements.interest_owed(100_001, settlements.DEFAULT_INTEREST_PER_DAY, 1) == 50
    # 0.5 fen rounds up: ¥10.00 × 0.05 % × 1 = 0.5 fen → 1 fen
    assert settlements.interest_owed(1_000, settlements.DEFAULT_INTEREST_PER_DAY, 1) == 1
    assert settlements.interest_owed(1_000, settlements.DEFAULT_INTEREST_PER_DAY, 0) == 0


def test_a_small_supplier_is_paid_within_30_days_of_acceptance_or_interest_runs(db, world):
    evaluation = final_evaluation(db, world, "86.35", "良")
    acceptance.record(db, principal(world.purchaser), evaluation.id, GOOD,
                      today=date(2026, 11, 1))
    rows = settlements.payments(db, today=date(2026, 9, 9))
    final = next(r for r in rows if r.instalment.seq == 3)
    assert final.due.due_on == date(2026, 7, 31) and final.due.start == "acceptance"
    assert (final.state, final.late_days, final.payable_fen) == ("overdue", 40, 29_640_000)
    assert final.interest_fen == 592_800
    signing = next(r for r in rows if r.instalment.seq == 1)
    assert signing.due.due_on == date(2026, 2, 4)  # 30 days from signing on 5 January
    interim = next(r for r in rows if r.instalment.seq == 2)
    assert interim.state == "waiting" and interim.payable_fen is None
    assert rows[0].state == "overdue"  # overdue first


def test_a_payment_period_ending_in_a_holiday_runs_to_the_next_working_day(db, world):
    """民法典 第二百零三条: accepted on 1 September 2026, the 30th day is 1 October, National
    Day; 1–7 October are off, so the payment is due on Thursday 8 October and late from 9."""
    evaluation = final_evaluation(db, world, "86.35", "良")
    acceptance.record(db, principal(world.purchaser), evaluation.id,
                      {**GOOD, "accepted_on": "2026-09-01"}, today=date(2026, 11, 1))
    on_time = next(r for r in settlements.payments(db, today=date(2026, 10, 8))
                   if r.instalment.seq == 3)
    assert on_time.due.due_on == date(2026, 10, 8)
    assert on_time.state != "overdue" and on_time.late_days == 0 and not on_time.interest_fen
    late = next(r for r in settlements.payments(db, today=date(2026, 10, 9))
                if r.instalment.seq == 3)
    assert (late.state, late.late_days) == ("overdue", 1)
    # signed Monday 5 January: the 30th day, Wednesday 4 February, is a working day already
    signing = next(r for r in settlements.payments(db, today=date(2026, 10, 9))
                   if r.instalment.seq == 1)
    assert signing.due.due_on == date(2026, 2, 4)


def test_paying_late_records_the_days_and_the_interest_owed(db, world):
    from datetime import UTC, datetime

    evaluation = final_evaluation(db, world, "86.35", "良")
    acceptance.record(db, principal(world.purchaser), evaluation.id, GOOD,
                      today=date(2026, 11, 1))
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    settlement = settlements.approve(db, principal(world.finance), settlement.id)
    settlement.decided_at = datetime(2026, 8, 1, 2, 0, tzinfo=UTC)  # approved on 1 August
    db.add(settlement)
    db.commit()
    with pytest.raises(ValidationFailed) as caught:
        settlements.record_payment(db, principal(world.finance), settlement.id,
                                   voucher_no="GK-2026-0731", paid_on="2026-07-31",
                                   today=date(2026, 11, 1))
    assert "paid_on" in caught.value.errors  # not before its approval
    paid = settlements.record_payment(db, principal(world.finance), settlement.id,
                                      voucher_no="GK-2026-0810", paid_on="2026-08-10",
                                      today=date(2026, 11, 1))
    assert (paid.due_on, paid.late_days, paid.interest_fen) == (date(2026, 7, 31), 10, 148_200)
    row = next(r for r in settlements.payments(db, today=date(2026, 11, 1))
               if r.instalment.seq == 3)
    assert (row.state, row.late_days, row.interest_fen) == ("paid_late", 10, 148_200)


def test_the_contract_period_caps_at_60_days_and_the_contract_rate_applies(db, world):
    contract = db.get(Contract, world.contract.id)
    contract.payment_days = 90  # never above 60, whatever the record says
    db.add(contract)
    db.commit()
    settlements.set_terms(db, principal(world.purchaser), contract.id, interest_per_day="0.03",
                          termination_threshold="80")
    rows = settlements.payments(db, today=date(2026, 3, 16))
    signing = next(r for r in rows if r.instalment.seq == 1)
    assert signing.due.due_on == date(2026, 3, 6)  # 60 days from 5 January
    assert (signing.late_days, signing.interest_fen) == (10, 70_200)  # 234,000 × 0.03 % × 10


def test_a_supplier_that_is_not_small_or_medium_has_no_statutory_due_date(db, world):
    contract = db.get(Contract, world.contract.id)
    contract.payment_days = None
    profile = db.get(SupplierProfile, world.supplier.id)
    profile.small_medium = False
    db.add(contract)
    db.add(profile)
    db.commit()
    assert settlements.payments(db, today=date(2026, 9, 9)) == []


def test_a_rejected_acceptance_starts_no_payment_period(db, world):
    evaluation = final_evaluation(db, world, "56.00", "差")
    acceptance.record(db, principal(world.purchaser), evaluation.id,
                      {**GOOD, "conclusion": "rejected"}, today=date(2026, 11, 1))
    final = next(r for r in settlements.payments(db, today=date(2026, 11, 1))
                 if r.instalment.seq == 3)
    assert final.state == "not_accepted" and final.due.due_on is None


def test_the_due_list_page_shows_overdue_payments_with_interest(client, db, world):
    login(client, world.finance.username)
    page = client.get("/settlements/due")
    assert page.status_code == 200
    assert world.project.name in page.text  # the on-signing instalment is long overdue
    assert 'class="late"' in page.text


def test_the_due_list_says_an_instalment_inside_its_period_is_within_it(client, db, world,
                                                                        monkeypatch):
    from evalplatform.services import projects

    monkeypatch.setattr(projects, "today", lambda: date(2026, 1, 20))  # signed 5 January
    login(client, world.finance.username)
    page = client.get("/settlements/due")
    assert page.status_code == 200
    row = page.text.split('id="due-table"')[1]
    assert "2026-02-04" in row  # 30 days from signing
    assert '<span class="badge">付款期内</span>' in row
    assert "截止日期" not in row


def test_the_payment_due_list_pages_like_the_other_tables(client, db, world):
    login(client, world.finance.username)
    first = client.get("/settlements/due?show=all&per_page=2")
    assert first.status_code == 200
    table = first.text.split('id="due-table"')[1]
    assert table.count("<tr") == 3  # the heading and two of the contract's three instalments
    assert "第 1–2 条，共 3 条" in table and "第 1 / 2 页" in table
    assert 'rel="next"' in table and "page=2" in table and "show=all" in table
    second = client.get("/settlements/due?show=all&per_page=2&page=2",
                        headers={"HX-Request": "true"})
    assert second.status_code == 200 and "<html" not in second.text  # htmx swaps the table
    assert second.text.count("<tr") == 2 and 'rel="prev"' in second.text
    assert "第 3–3 条，共 3 条" in second.text


def test_the_due_list_names_an_instalment_whose_service_failed_acceptance(client, db, world):
    evaluation = final_evaluation(db, world, "56.00", "差")
    acceptance.record(db, principal(world.purchaser), evaluation.id,
                      {**GOOD, "conclusion": "rejected"}, today=date(2026, 11, 1))
    login(client, world.finance.username)
    table = client.get("/settlements/due?show=all").text.split('id="due-table"')[1]
    rows = table.split("<tr")[2:]
    final = next(r for r in rows if '<td data-label="付款期">3 · ' in r)
    # not "not started yet", as if the payment were merely pending: the service failed
    assert '<span class="badge">验收不合格，付款期限不起算</span>' in final
    assert "服务验收不合格：不产生付款义务。" in final and "尚未起算" not in final
    waiting = [r for r in rows if "尚未起算" in r]
    assert waiting and all("验收不合格" not in r for r in waiting)  # a pending one stays pending
    # the rejected instalment still shows in the default list, which is what needs attention
    assert "验收不合格，付款期限不起算" in client.get("/settlements/due").text


# ---------------------------------------------------------------- payment after a passed acceptance


def reject(db, world, evaluation):
    """The purchasing department records that the service failed its acceptance (验收不合格)."""
    return acceptance.record(db, principal(world.purchaser), evaluation.id,
                             {**GOOD, "conclusion": "rejected"}, today=date(2026, 11, 1))


def settlement_entries(db) -> list[str]:
    return list(db.exec(select(AuditEntry.action).where(AuditEntry.entity_type == "settlement")))


def test_no_settlement_is_proposed_on_a_service_that_failed_acceptance(db, world):
    """验收合格后支付: a failed acceptance is rectified and accepted again before payment."""
    from evalplatform.i18n import language
    from evalplatform.models import Settlement

    evaluation = final_evaluation(db, world, "86.35", "良")
    reject(db, world, evaluation)
    with pytest.raises(ValidationFailed) as caught:
        settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id,
                            note="请审核")
    message = caught.value.errors["acceptance"]
    assert evaluation.title in message and "2026-07-01" in message and "验收不合格" in message
    assert "整改" in message and "重新验收" in message  # what to do
    with language("en"), pytest.raises(ValidationFailed) as caught:
        settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    assert "failed its acceptance on 2026-07-01" in caught.value.errors["acceptance"]
    assert db.exec(select(func.count()).select_from(Settlement)).one() == 0
    assert settlement_entries(db) == []
    sheet = settlements.build_sheet(db, instalment(db, world, 3))
    assert not sheet.ready and sheet.payable_fen == 29_640_000  # the figures stay to be seen
    assert all(s.instalment.seq != 3
               for s in settlements.ready_to_propose(db, world.department.id))  # no home card


def test_the_contract_page_says_a_failed_acceptance_blocks_the_proposal(client, db, world):
    from evalplatform.models import Settlement
    from tests.conftest import CSRF_RE

    evaluation = final_evaluation(db, world, "86.35", "良")
    reject(db, world, evaluation)
    login(client, world.purchaser.username)
    url = f"/contracts/{world.contract.id}/settlements"
    page = client.get(url)
    article = page.text.split('data-testid="instalment-3"')[1].split("</article>")[0]
    assert 'data-testid="not-accepted-3"' in article and "验收不合格" in article
    assert 'disabled aria-describedby="not-accepted-3"' in article  # before the user tries
    assert "¥296,400.00" in article  # what it would pay, still shown
    token = CSRF_RE.search(page.text).group(1)
    refused = client.post(url, data={"csrf_token": token, "note": "结果已确定，请审核",
                                     "instalment_id": str(instalment(db, world, 3).id)})
    assert refused.status_code == 422
    article = refused.text.split('data-testid="instalment-3"')[1].split("</article>")[0]
    assert 'role="alert"' in article and "重新验收" in article
    assert "结果已确定，请审核</textarea>" in article  # the form keeps what was typed
    assert db.exec(select(Settlement)).first() is None and settlement_entries(db) == []


def test_finance_cannot_approve_once_the_acceptance_is_recorded_as_failed(client, db, world):
    from tests.conftest import CSRF_RE

    evaluation = final_evaluation(db, world, "86.35", "良")
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    reject(db, world, evaluation)  # recorded after the proposal
    with pytest.raises(Conflict) as caught:
        settlements.approve(db, principal(world.finance), settlement.id, expected_version=1)
    assert "验收不合格" in caught.value.message and "退回" in caught.value.message
    db.refresh(settlement)
    assert settlement.status.value == "proposed" and settlement.version == 1
    assert settlement_entries(db) == ["settlement.propose"]
    login(client, world.finance.username)
    page = client.get(f"/settlements/{settlement.id}")
    assert 'data-testid="approval-refused"' in page.text and 'id="approve"' not in page.text
    assert 'id="return"' in page.text  # finance returns it instead
    posted = client.post(f"/settlements/{settlement.id}/approve",
                         data={"csrf_token": CSRF_RE.search(page.text).group(1), "version": "1"})
    assert posted.status_code == 303
    db.refresh(settlement)
    assert settlement.status.value == "proposed"
    assert "验收不合格" in client.get(f"/settlements/{settlement.id}").text
    returned = settlements.return_to_purchaser(db, principal(world.finance), settlement.id,
                                               "验收不合格，待整改后重新验收")
    assert returned.status.value == "returned"


def test_without_an_acceptance_the_settlement_is_proposed_and_says_when_the_period_runs(
        client, db, world):
    """No acceptance recorded: nothing blocks the proposal (an interim instalment is paid
    after its evaluation), but the sheet and pages say that none is recorded and that the
    payment period runs from the acceptance date, and count no due date until then."""
    import io

    from openpyxl import load_workbook

    evaluation = final_evaluation(db, world, "86.35", "良")
    login(client, world.purchaser.username)
    url = f"/contracts/{world.contract.id}/settlements"
    article = client.get(url).text.split('data-testid="instalment-3"')[1].split("</article>")[0]
    assert 'data-testid="no-acceptance-3"' in article
    assert "尚未记录验收" in article and "30 日付款期限自验收之日起算" in article
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    assert settlement.status.value == "proposed"
    page = client.get(f"/settlements/{settlement.id}").text
    assert 'data-testid="no-acceptance"' in page and evaluation.title in page
    sheet = load_workbook(io.BytesIO(client.get(f"/settlements/{settlement.id}/sheet.xlsx")
                                     .content)).active
    due = next(row[1] for row in sheet.iter_rows(values_only=True) if row[0] == "付款期限")
    assert "尚未记录验收" in due
    acceptance.record(db, principal(world.purchaser), evaluation.id, GOOD,
                      today=date(2026, 11, 1))
    page = client.get(f"/settlements/{settlement.id}").text
    assert 'data-testid="no-acceptance"' not in page and "2026-07-31" in page


def test_an_instalment_not_linked_to_performance_does_not_wait_for_the_acceptance(db, world):
    final = instalment(db, world, 3)
    final.performance_linked = False  # 40 % when the final evaluation is final, not linked
    db.add(final)
    db.commit()
    evaluation = final_evaluation(db, world, "56.00", "差")
    reject(db, world, evaluation)
    signing = settlements.propose(db, principal(world.purchaser), instalment(db, world, 1).id)
    assert signing.payable_fen == 23_400_000  # 30 % on signing
    fixed = settlements.propose(db, principal(world.purchaser), final.id)
    assert fixed.payable_fen == 31_200_000 and fixed.evaluation_id == evaluation.id
    assert settlements.approve(db, principal(world.finance), fixed.id).status.value == "approved"


def test_the_evaluation_page_does_not_call_a_failed_service_settleable(client, db, world):
    evaluation = final_evaluation(db, world, "86.35", "良")
    login(client, world.purchaser.username)
    panel = client.get(f"/evaluations/{evaluation.id}").text.split('id="settlement-panel"')[1]
    assert "可以结算" in panel.split("</section>")[0]
    reject(db, world, evaluation)
    panel = client.get(f"/evaluations/{evaluation.id}").text.split('id="settlement-panel"')[1]
    panel = panel.split("</section>")[0]
    assert 'data-testid="not-accepted-3"' in panel and "验收合格前不予支付" in panel
    assert "可以结算" not in panel


def test_a_service_that_failed_acceptance_is_re_accepted_after_rectification(client, db, world):
    """整改后复验: a failed acceptance published with the result is not a dead end. The
    re-acceptance is recorded over it (the failed one kept in the audit log and on the public
    notice), and then the instalment can be settled."""
    evaluation = final_evaluation(db, world, "86.35", "良")
    failed = reject(db, world, evaluation)
    assert acceptance.published_result(db, evaluation) is not None
    again = {**GOOD, "accepted_on": "2026-08-15", "opinion": "整改后复验：夜间清运已改到 22 点前。"}
    # only a passed re-acceptance, after the failed one, may follow
    with pytest.raises(ValidationFailed) as caught:
        acceptance.record(db, principal(world.purchaser), evaluation.id,
                          {**again, "conclusion": "rejected", "accepted_on": "2026-06-30"},
                          today=date(2026, 11, 1))
    assert "2026-07-01" in caught.value.errors["conclusion"]
    assert "2026-07-01" in caught.value.errors["accepted_on"]
    assert acceptance.for_evaluation(db, evaluation.id).conclusion.value == "rejected"
    with pytest.raises(ValidationFailed) as caught:
        settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    from tests.conftest import csrf_from

    login(client, world.purchaser.username)
    token = csrf_from(client, f"/evaluations/{evaluation.id}/acceptance")
    page = client.get(f"/evaluations/{evaluation.id}/acceptance").text
    assert 'id="reaccept-note"' in page and "2026-07-01" in page and "复验" in page
    response = client.post(f"/evaluations/{evaluation.id}/acceptance",
                           data={**again, "csrf_token": token})
    assert response.status_code == 303
    record = acceptance.for_evaluation(db, evaluation.id)
    db.refresh(record)
    assert (record.id, record.conclusion.value, record.accepted_on) == (
        failed.id, "accepted", date(2026, 8, 15))
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "acceptance.reaccept")).one()
    assert '"failed"' in entry.change and "2026-07-01" in entry.change
    # the public notice keeps the failed acceptance beside the re-acceptance
    notice = client.get(f"/acceptances/{record.id}").text
    assert "2026-07-01" in notice and GOOD["opinion"] in notice and again["opinion"] in notice
    # a passed re-acceptance is published: it cannot be changed again
    with pytest.raises(Conflict):
        acceptance.record(db, principal(world.purchaser), evaluation.id, again,
                          today=date(2026, 11, 1))
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    assert settlement.payable_fen == 29_640_000


def test_no_payment_once_the_service_failed_acceptance_after_the_approval(client, db, world):
    """验收合格后支付 holds up to the payment: an acceptance recorded as failed after finance
    approved stops the payment, and the page says to withdraw the approval instead of
    offering the payment form."""
    from evalplatform.i18n import language
    from tests.conftest import CSRF_RE

    evaluation = final_evaluation(db, world, "86.35", "良")
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    settlements.approve(db, principal(world.finance), settlement.id)
    reject(db, world, evaluation)  # recorded after the approval
    today = settlements.projects.today().isoformat()
    with pytest.raises(Conflict) as caught:
        settlements.record_payment(db, principal(world.finance), settlement.id,
                                   voucher_no="GK-2026-1", paid_on=today)
    assert "验收不合格" in caught.value.message and "撤回审核" in caught.value.message
    with language("en"), pytest.raises(Conflict) as caught:
        settlements.record_payment(db, principal(world.finance), settlement.id,
                                   voucher_no="GK-2026-1", paid_on=today)
    assert "failed its acceptance" in caught.value.message
    assert "cannot be paid: withdraw the approval" in caught.value.message
    db.refresh(settlement)
    assert settlement.status.value == "approved" and settlement.voucher_no is None
    assert settlement_entries(db) == ["settlement.propose", "settlement.approve"]
    login(client, world.finance.username)
    page = client.get(f"/settlements/{settlement.id}")
    assert 'data-testid="payment-refused"' in page.text and "验收不合格" in page.text
    assert 'id="record-payment"' not in page.text and 'id="withdraw-approval"' in page.text
    posted = client.post(f"/settlements/{settlement.id}/payment",
                         data={"csrf_token": CSRF_RE.search(page.text).group(1), "version": "2",
                               "voucher_no": "GK-2026-1", "paid_on": today})
    assert posted.status_code == 303
    db.refresh(settlement)
    assert settlement.status.value == "approved" and settlement.voucher_no is None
    withdrawn = settlements.withdraw_approval(db, principal(world.finance), settlement.id,
                                              "验收不合格，待整改后重新验收")
    assert withdrawn.status.value == "returned"


def test_the_public_notices_read_each_kind_of_record_once_and_page(client, db, make_user,
                                                                    make_org):
    """The list grows every year: four notices cost the statements of one."""
    from tests.conftest import statements_of

    def published_acceptance(n: int) -> None:
        world = contracted_world(db, make_user, make_org, n=n)
        evaluation = schedule(db, world)
        acceptance.record(db, principal(world.purchaser), evaluation.id, GOOD,
                          today=date(2026, 11, 1))
        add_result(db, to_status(db, world, evaluation, "published"), f"8{n}.00", "良",
                   final_on=None)

    def statements(expected: int) -> int:
        db.expire_all()
        page, count = statements_of(db, lambda: client.get("/acceptances"))
        assert page.text.count('href="/acceptances/') == expected
        return count

    published_acceptance(1)
    one = statements(1)
    for n in (2, 3, 4):
        published_acceptance(n)
    assert statements(4) == one
    second = client.get("/acceptances", params={"page": "2"}, headers={"HX-Request": "true"})
    assert second.status_code == 200 and "<h1>" not in second.text  # the table alone
    assert "第 1 / 1 页" in second.text  # one page of four: the nearest page is shown
