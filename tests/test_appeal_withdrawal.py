"""The supplier withdraws its appeal (撤回申诉): only the supplier that filed it, only while
finance has not decided it, never past a decision that landed first. A withdrawn appeal is
neither open nor decided: the result becomes final once the window has closed, and the
publication cannot be appealed again (one appeal per publication)."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime, time

import pytest
from sqlmodel import Session, select

from evalplatform import i18n
from evalplatform.models import Appeal, AppealStatus, AuditEntry, EvaluationResult, EvaluationStatus
from evalplatform.services import appeals, projects, results, settlements, standing
from evalplatform.services.clock import as_utc
from evalplatform.services.errors import Conflict, PermissionDenied
from tests.conftest import CSRF_RE, login
from tests.results_feed import (  # noqa: F401  (clock_, feed_, world_fixture: fixtures)
    clock_fixture,
    count,
    feed_fixture,
    principal,
    published,
    world_fixture,
)
from tests.test_api_project_writes import signed

WINDOW_OPEN = date(2026, 10, 9)  # the deadline of a publication on Mon 28 Sep 2026 is 10 Oct
REASONS = "6 月 12 日的巡查记录有误：当天为暴雨停工日，已报备，见附件。"
#: the window of the publication closes as 11 Oct 2026 begins in China
WINDOW_CLOSED = datetime.combine(date(2026, 10, 11), time(), tzinfo=projects.LOCAL_TZ)


def zh(message: str, **values) -> str:
    """A message as a Chinese page shows it (the catalogue's words, or the msgid until the
    catalogue has them), escaped as a template escapes it."""
    with i18n.language("zh_CN"):
        return html.escape(i18n.gettext(message) % values if values else i18n.gettext(message),
                           quote=False)


@pytest.fixture
def at(monkeypatch):
    """Sets the moment the appeals service stamps a withdrawal with."""
    def set_moment(moment: datetime):
        monkeypatch.setattr("evalplatform.services.appeals.now", lambda: moment)
    set_moment(datetime(2026, 10, 9, 2, 0, tzinfo=UTC))
    return set_moment


def filed(db, world, feed):
    evaluation, result = published(db, world, feed)
    appeal = appeals.file(db, principal(world.supplier_user), evaluation.id, reasons=REASONS,
                          leaves=["A2.1"], today=WINDOW_OPEN)
    return evaluation, result, appeal


def withdrawals(db) -> list[AuditEntry]:
    return list(db.exec(select(AuditEntry).where(AuditEntry.action == "appeal.withdrawn")))


def unchanged(db, appeal_id: int, status: AppealStatus = AppealStatus.open, version: int = 1):
    db.expire_all()
    stored = db.get(Appeal, appeal_id)
    assert (stored.status, stored.version) == (status, version)
    assert stored.withdrawn_at is None and stored.withdrawn_by is None
    assert withdrawals(db) == []


# ---------------------------------------------------------------- the rule


def test_the_supplier_withdraws_its_open_appeal_and_the_result_becomes_final_after_the_window(
        db, world, feed, at):
    evaluation, result, appeal = filed(db, world, feed)
    assert results.state(db, result, evaluation, WINDOW_OPEN) == "appeal_pending"
    withdrawn = appeals.withdraw(db, principal(world.supplier_user), appeal.id,
                                 expected_version=1)
    assert withdrawn.status == AppealStatus.withdrawn and withdrawn.version == 2
    assert withdrawn.withdrawn_by == world.supplier_user.id
    assert as_utc(withdrawn.withdrawn_at) == datetime(2026, 10, 9, 2, 0, tzinfo=UTC)
    assert withdrawn.decided_at is None and withdrawn.decided_by is None and not withdrawn.decision
    entry = withdrawals(db)[0]
    assert (entry.entity_type, entry.entity_id, entry.actor_id) == (
        "appeal", str(appeal.id), world.supplier_user.id)
    assert json.loads(entry.change) == {"evaluation": evaluation.id, "result": result.id,
                                        "version": 1, "deadline": "2026-10-10"}
    # neither open nor decided: the publication is spent, the result waits only for the window
    assert results.open_appeal(db, evaluation.id) is None
    assert results.state(db, result, evaluation, WINDOW_OPEN) == "appeal_withdrawn"
    assert results.finalise_due(db, date(2026, 10, 10)) == []  # the deadline day itself
    assert [r.id for r in results.finalise_due(db, date(2026, 10, 11))] == [result.id]
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.final
    # withdrawn before the window closed: final as the window closed, not when it was withdrawn
    assert as_utc(db.get(EvaluationResult, result.id).final_at) \
        == WINDOW_CLOSED.astimezone(UTC)
    assert settlements.final_result(db, evaluation).id == result.id  # settlement may follow


def test_an_appeal_withdrawn_after_the_deadline_releases_the_result_from_that_moment(
        db, world, feed, at):
    evaluation, result, appeal = filed(db, world, feed)
    supplier_id = world.supplier.id
    # the window closed while the appeal was open: nothing is final, nothing counts for standing
    assert results.finalise_due(db, date(2026, 10, 13)) == []
    assert standing.final_results(db, supplier_id, closed_by=date(2026, 10, 15)) == []
    at(datetime(2026, 10, 14, 3, 0, tzinfo=UTC))
    appeals.withdraw(db, principal(world.supplier_user), appeal.id)
    found = standing.final_results(db, supplier_id, closed_by=date(2026, 10, 15))
    assert [(f.result.id, f.final_on) for f in found] == [(result.id, date(2026, 10, 14))]
    assert [r.id for r in results.finalise_due(db, date(2026, 10, 15))] == [result.id]
    assert as_utc(db.get(EvaluationResult, result.id).final_at) == \
        datetime(2026, 10, 14, 3, 0, tzinfo=UTC)


def test_a_colleague_of_the_supplier_may_withdraw_but_nobody_else(db, world, feed, make_user, at):
    evaluation, _result, appeal = filed(db, world, feed)
    others = [make_user("supplier"), world.purchaser, world.finance, make_user("auditor"),
              make_user("evaluator")]
    for other in others:
        with pytest.raises(PermissionDenied):
            appeals.withdraw(db, principal(other), appeal.id)
        unchanged(db, appeal.id)
    colleague = make_user("supplier", organisation=world.supplier)
    assert appeals.may_withdraw(principal(colleague), appeal)
    assert not appeals.may_withdraw(principal(world.finance), appeal)
    done = appeals.withdraw(db, principal(colleague), appeal.id)
    assert done.withdrawn_by == colleague.id
    assert not appeals.may_withdraw(principal(colleague), done)


def test_a_decided_or_withdrawn_appeal_is_refused_naming_its_status(db, world, feed, at):
    evaluation, _result, appeal = filed(db, world, feed)
    appeals.decide(db, principal(world.finance), appeal.id, outcome="uphold", decision="维持原结果")
    with pytest.raises(Conflict) as caught:
        appeals.withdraw(db, principal(world.supplier_user), appeal.id)
    with i18n.language("zh_CN"):
        assert appeals.status_label(AppealStatus.upheld) in caught.value.message
    unchanged(db, appeal.id, AppealStatus.upheld, 2)


def test_a_withdrawn_appeal_is_not_withdrawn_twice_nor_decided(db, world, feed, at):
    _evaluation, _result, second = filed(db, world, feed)
    appeals.withdraw(db, principal(world.supplier_user), second.id)
    with pytest.raises(Conflict) as caught:
        appeals.withdraw(db, principal(world.supplier_user), second.id)
    with i18n.language("zh_CN"):
        assert appeals.status_label(AppealStatus.withdrawn) in caught.value.message
    # and finance has nothing to decide: told it was withdrawn, not that it was decided
    with pytest.raises(Conflict) as caught:
        appeals.decide(db, principal(world.finance), second.id, outcome="uphold", decision="维持")
    assert "2026-10-09" in caught.value.message
    db.expire_all()
    stored = db.get(Appeal, second.id)
    assert (stored.status, stored.version, stored.decision) == (AppealStatus.withdrawn, 2, "")
    assert len(withdrawals(db)) == 1
    assert not db.exec(select(AuditEntry).where(AuditEntry.action == "appeal.upheld",
                                                AuditEntry.entity_id == str(second.id))).all()


def test_a_withdrawal_on_a_stale_page_loses_to_the_decision_that_landed_first(
        db, world, feed, at):
    evaluation, _result, appeal = filed(db, world, feed)
    with pytest.raises(Conflict):  # a version nobody read
        appeals.withdraw(db, principal(world.supplier_user), appeal.id, expected_version=5)
    unchanged(db, appeal.id)
    with Session(db.get_bind(), expire_on_commit=False) as other:
        stale = other.get(Appeal, appeal.id)  # the supplier opened the page before the decision
        other.commit()
        appeals.decide(db, principal(world.finance), appeal.id, outcome="reopen",
                       decision="请重新评 A2.1", leaves=["A2.1"], expected_version=stale.version)
        with pytest.raises(Conflict):
            appeals.withdraw(other, principal(world.supplier_user), appeal.id,
                             expected_version=stale.version)
    unchanged(db, appeal.id, AppealStatus.reopened, 2)
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.scoring  # the decision stands


def test_withdrawing_is_final_for_the_publication(db, world, feed, at):
    evaluation, result, appeal = filed(db, world, feed)
    appeals.withdraw(db, principal(world.supplier_user), appeal.id)
    state = appeals.window(db, evaluation, WINDOW_OPEN)
    assert not state.open and state.appeal.id == appeal.id
    assert str(appeal.id) in state.reason and "2026-10-09" in state.reason
    with pytest.raises(Conflict) as caught:
        appeals.file(db, principal(world.supplier_user), evaluation.id, reasons=REASONS,
                     today=WINDOW_OPEN)
    assert caught.value.message == state.reason
    assert count(db, Appeal) == 1
    assert appeals.appealable(db, world.supplier.id, WINDOW_OPEN) == []


# ---------------------------------------------------------------- the pages


def sign_in(client, user) -> str:
    client.cookies.clear()
    assert login(client, user.username).status_code == 303
    return CSRF_RE.search(client.get("/").text).group(1)


def cards(client) -> dict[str, str]:
    page = client.get("/").text
    return {title.strip(): value.strip() for title, value in re.findall(
        r'<span class="card-title">([^<]+)</span>\s*<span class="card-value">([^<]+)</span>',
        page)}


def test_the_supplier_withdraws_on_its_pages_after_being_told_it_is_final(
        client, db, world, feed, clock, at):
    evaluation, _result, appeal = filed(db, world, feed)
    sign_in(client, world.supplier_user)
    assert cards(client)[zh("Your open appeals")] == "1"
    final_note = zh("Withdrawing is final for this publication: the result cannot be appealed "
                    "again, and it becomes final once the appeal window has closed.")
    for path in (f"/appeals/{appeal.id}", f"/evaluations/{evaluation.id}/result"):
        page = client.get(path).text
        form = re.search(rf'<form [^>]*id="withdraw-form-{appeal.id}".*?</form>', page, re.S)
        assert form, path
        assert f'action="/appeals/{appeal.id}/withdraw"' in form.group(0)
        assert 'name="version" value="1"' in form.group(0)
        assert "data-confirm=" in form.group(0) and final_note in form.group(0)
    token = CSRF_RE.search(page).group(1)
    done = client.post(f"/appeals/{appeal.id}/withdraw",
                       data={"csrf_token": token, "version": "1"})
    assert done.status_code == 303 and done.headers["location"] == f"/appeals/{appeal.id}"
    db.expire_all()
    stored = db.get(Appeal, appeal.id)
    assert stored.status == AppealStatus.withdrawn and stored.withdrawn_by == world.supplier_user.id
    page = client.get(f"/appeals/{appeal.id}").text
    assert 'id="withdrawal"' in page and "withdraw-form" not in page
    assert zh("Withdrawn by the supplier") in page and world.supplier_user.display_name in page
    result_page = client.get(f"/evaluations/{evaluation.id}/result").text
    assert "withdraw-form" not in result_page and 'id="file-appeal"' not in result_page
    assert zh("Published; the appeal was withdrawn, final when the appeal window closes") \
        in result_page
    shown = cards(client)
    assert shown[zh("Your open appeals")] == "0" and shown[zh("Appeals decided lately")] == "0"
    assert shown[zh("Results you may appeal")] == "0"
    # the appeal form says why it cannot be filed again
    form = client.get(f"/evaluations/{evaluation.id}/appeal").text
    assert f"{appeal.id}" in form and "2026-10-09" in form and 'id="appeal-form"' not in form


def test_finance_sees_the_appeal_withdrawn_with_who_and_when_and_cannot_decide_it(
        client, db, world, feed, clock, at):
    evaluation, _result, appeal = filed(db, world, feed)
    sign_in(client, world.finance)
    assert cards(client)[zh("Open appeals")] == "1"
    appeals.withdraw(db, principal(world.supplier_user), appeal.id)
    assert cards(client)[zh("Open appeals")] == "0"
    page = client.get(f"/appeals/{appeal.id}").text
    assert re.search(r'data-testid="appeal-status">' + re.escape(zh("Withdrawn by the supplier")),
                     page)
    withdrawal = page.split('id="withdrawal"')[1].split("</section>")[0]
    assert world.supplier_user.display_name in withdrawal and "2026-10-09 10:00" in withdrawal
    assert 'id="decide-form"' not in page and 'id="decision"' not in page
    listing = client.get("/appeals", params={"status": "withdrawn"}).text
    assert f"/appeals/{appeal.id}" in listing and "appeal-withdrawn" in listing
    assert f"/appeals/{appeal.id}" not in client.get("/appeals", params={"status": "open"}).text
    result_page = client.get(f"/evaluations/{evaluation.id}/result").text
    item = re.search(rf'<li data-testid="appeal-{appeal.id}">.*?</li>', result_page, re.S).group(0)
    assert zh("Withdrawn by the supplier") in item and world.supplier_user.display_name in item
    # the evaluation report (print and Word) says who withdrew it and when
    report = client.get(f"/evaluations/{evaluation.id}/result/report").text
    appeals_part = report.split('id="report-appeals"')[1].split("</section>")[0]
    assert zh("Withdrawn by the supplier") in appeals_part
    assert zh("Withdrawn on %(when)s by %(who)s", when="2026-10-09 10:00",
              who=world.supplier_user.display_name) in appeals_part
    token = CSRF_RE.search(page).group(1)
    refused = client.post(f"/appeals/{appeal.id}/decide",
                          data={"csrf_token": token, "outcome": "uphold", "decision": "维持",
                                "version": "2"})
    assert refused.status_code == 303
    db.expire_all()
    assert db.get(Appeal, appeal.id).status == AppealStatus.withdrawn


def test_only_the_supplier_reaches_the_withdrawal_and_a_stale_page_changes_nothing(
        client, db, world, feed, clock, make_user, at):
    _evaluation, _result, appeal = filed(db, world, feed)
    expected = {"finance": 403, "purchaser": 403, "auditor": 403, "evaluator": 403,
                "other supplier": 404}
    users = {"finance": world.finance, "purchaser": world.purchaser,
             "auditor": make_user("auditor"), "evaluator": make_user("evaluator"),
             "other supplier": make_user("supplier")}
    for name, user in users.items():
        token = sign_in(client, user)
        answer = client.post(f"/appeals/{appeal.id}/withdraw", data={"csrf_token": token})
        assert answer.status_code == expected[name], name
        assert "withdraw-form" not in client.get(f"/appeals/{appeal.id}").text
    unchanged(db, appeal.id)
    token = sign_in(client, world.supplier_user)
    assert client.post(f"/appeals/{appeal.id}/withdraw", data={}).status_code == 403  # no CSRF
    stale = client.post(f"/appeals/{appeal.id}/withdraw",
                        data={"csrf_token": token, "version": "9" * 20})
    assert stale.status_code == 303
    unchanged(db, appeal.id)
    page = client.get(f"/appeals/{appeal.id}").text
    assert 'class="flash flash-error"' in page or "flash-error" in page


# ---------------------------------------------------------------- the API


def test_the_supplier_withdraws_through_the_api(client, db, world, feed, clock, at):
    _evaluation, _result, appeal = filed(db, world, feed)
    path = f"/api/appeals/{appeal.id}/withdraw"
    headers = signed(client, world.finance)
    assert client.post(path, json={}, headers=headers).status_code == 403
    headers = signed(client, world.supplier_user)
    unknown = client.post(path, json={"version": 1}, headers=headers)
    assert unknown.status_code == 422
    stale = client.post(path, json={"expected_version": 3}, headers=headers)
    assert stale.status_code == 409 and stale.json()["detail"]
    unchanged(db, appeal.id)
    done = client.post(path, json={"expected_version": 1}, headers=headers)
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["id"], body["status"], body["version"]) == (appeal.id, "withdrawn", 2)
    assert body["withdrawn_by"] == world.supplier_user.display_name
    assert body["withdrawn_at"].startswith("2026-10-09T02:00")
    assert body["decided_at"] is None and body["decision"] == ""
    again = client.post(path, headers=headers)  # no body: no version checked, still refused
    assert again.status_code == 409
    with i18n.language("zh_CN"):
        label = appeals.status_label(AppealStatus.withdrawn)
    assert label in again.json()["detail"]
    assert len(withdrawals(db)) == 1
    headers = signed(client, world.finance)
    listed = client.get("/api/appeals", params={"status": "withdrawn"}).json()
    assert [a["id"] for a in listed["items"]] == [appeal.id]
    assert listed["items"][0]["status_label"] == label
    assert client.get("/api/appeals", params={"status": "open"}).json()["total"] == 0


def test_the_withdrawal_is_documented_like_the_decision(client):
    document = client.get("/api/openapi.json").json()
    operation = document["paths"]["/api/appeals/{appeal_id}/withdraw"]["post"]
    assert operation["summary"] == "Withdraw an appeal (撤回申诉)"
    assert operation["operationId"] == "withdraw_appeal" and operation["tags"] == ["appeals"]
    assert {"401", "403", "404", "409", "422"} <= set(operation["responses"])
    assert "final for the publication" in operation["description"]
    schema = document["components"]["schemas"]
    assert set(schema["WithdrawalIn"]["properties"]) == {"expected_version"}
    assert {"withdrawn_at", "withdrawn_by"} <= set(schema["AppealOut"]["properties"])


def test_an_open_appeal_holds_the_result_and_its_withdrawal_releases_it_on_the_next_page_load(
        client, db, world, feed, clock, at):
    evaluation, result, appeal = filed(db, world, feed)
    clock.set(date(2026, 10, 12))  # the window has closed with the appeal open
    sign_in(client, world.finance)
    client.get(f"/evaluations/{evaluation.id}/result")
    db.expire_all()
    assert db.get(EvaluationResult, result.id).final_at is None
    at(datetime(2026, 10, 12, 1, 0, tzinfo=UTC))
    appeals.withdraw(db, principal(world.supplier_user), appeal.id)
    page = client.get(f"/evaluations/{evaluation.id}/result").text
    db.expire_all()
    stored = db.get(EvaluationResult, result.id)
    assert stored.final_at is not None
    assert as_utc(stored.final_at) == datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
    assert 'data-testid="result-state">' + zh("Final, the appeal window closed") in page
