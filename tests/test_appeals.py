"""Appeals (申诉): filed by the contract's supplier inside the window, decided by finance;
an open appeal holds the result back from becoming final."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from evalplatform.i18n import language
from evalplatform.models import Appeal, AppealStatus, AuditEntry, EvaluationStatus
from evalplatform.services import appeals, files, results
from evalplatform.services.errors import Conflict, PermissionDenied, ValidationFailed
from tests.results_feed import (  # noqa: F401  (feed_fixture, world_fixture: fixtures)
    HAND_TOTAL,
    clock_fixture,
    count,
    feed_fixture,
    principal,
    published,
    world_fixture,
)

PDF = b"%PDF-1.4\n% evidence: the cleaning log of June\n%%EOF\n"
WINDOW_OPEN = date(2026, 10, 9)
LAST_DAY = date(2026, 10, 10)  # the deadline of a publication on Mon 28 Sep 2026
REASONS = "6 月 12 日的巡查记录有误：当天为暴雨停工日，已报备，见附件。"


def appeal_of(db, world, feed, **kwargs) -> tuple:
    evaluation, result = published(db, world, feed)
    appeal = appeals.file(db, principal(world.supplier_user), evaluation.id, reasons=REASONS,
                          leaves=["A2.1", "C1.3"], evidence=[(PDF, "巡查记录.pdf")],
                          today=kwargs.get("today", WINDOW_OPEN))
    return evaluation, result, appeal


def test_the_supplier_appeals_inside_the_window_with_evidence(db, world, feed):
    evaluation, result, appeal = appeal_of(db, world, feed, today=LAST_DAY)
    assert appeal.status == AppealStatus.open and appeal.result_id == result.id
    assert appeal.leaves == ["A2.1", "C1.3"] and appeal.supplier_id == world.supplier.id
    assert files.read(appeal.evidence[0]["sha256"]) == PDF
    assert appeal.evidence[0]["filename"] == "巡查记录.pdf"
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "appeal.file")).one()
    assert entry.entity_id == str(appeal.id)


def test_an_appeal_after_the_deadline_is_refused(db, world, feed):
    evaluation, _result = published(db, world, feed)
    with pytest.raises(Conflict) as caught:
        appeals.file(db, principal(world.supplier_user), evaluation.id, reasons=REASONS,
                     today=date(2026, 10, 11))
    assert "2026-10-10" in caught.value.message
    assert count(db, Appeal) == 0


def test_a_final_result_is_refused_naming_when_its_window_closed(client, db, world, feed):
    """Once the result was final, the supplier was told only 只能对已公示且尚未确定的结果提出申诉,
    which named neither the window nor when it closed."""
    from tests.conftest import login

    evaluation, result = published(db, world, feed)
    assert [r.id for r in results.finalise_due(db, date(2026, 10, 12))] == [result.id]
    with pytest.raises(Conflict) as caught:
        appeals.file(db, principal(world.supplier_user), evaluation.id, reasons=REASONS,
                     today=date(2026, 10, 12))
    message = caught.value.message
    assert message == "申诉期已于 2026-10-10 截止，结果已于 2026-10-11 确定，不能再提出申诉。"
    assert count(db, Appeal) == 0
    login(client, world.supplier_user.username)
    page = client.get(f"/evaluations/{evaluation.id}/appeal").text
    assert "申诉期已于 2026-10-10 截止" in page


def test_the_suppliers_home_says_what_it_may_appeal_and_what_was_decided(
        client, db, world, feed, clock):
    from tests.conftest import login

    def cards() -> dict[str, tuple[str, str]]:
        client.cookies.clear()
        login(client, world.supplier_user.username)
        page = client.get("/").text
        found = re.findall(r'<span class="card-title">([^<]+)</span>\s*'
                           r'<span class="card-value">([^<]+)</span>\s*'
                           r'(?:<span class="card-detail">(.*?)</span>\s*</a>)?', page)
        return {title.strip(): (value.strip(), re.sub(r"<[^>]+>", "", detail).strip())
                for title, value, detail in found}

    evaluation, _result = published(db, world, feed)  # on 28 Sep; today is 9 Oct
    shown = cards()
    assert shown["可申诉的结果"] == ("1", "最早的申诉期于 2026-10-10 截止")
    assert shown["我方待处理的申诉"][0] == "0"
    appeal = appeals.file(db, principal(world.supplier_user), evaluation.id, reasons=REASONS,
                          today=WINDOW_OPEN)
    shown = cards()
    assert shown["可申诉的结果"][0] == "0" and shown["我方待处理的申诉"][0] == "1"
    appeals.decide(db, principal(world.finance), appeal.id, outcome="uphold", decision="维持")
    shown = cards()
    assert shown["我方待处理的申诉"][0] == "0" and shown["近期已处理的申诉"][0] == "1"


def test_only_the_contracts_supplier_appeals(db, world, feed, make_user):
    evaluation, _result = published(db, world, feed)
    for outsider in (make_user("supplier"), world.purchaser, world.finance):
        with pytest.raises(PermissionDenied):
            appeals.file(db, principal(outsider), evaluation.id, reasons=REASONS,
                         today=WINDOW_OPEN)
    assert count(db, Appeal) == 0


@pytest.mark.parametrize("changes, field", [
    ({"reasons": "不服"}, "reasons"),  # too short to be reasons
    ({"leaves": ["Z9"]}, "leaves"),  # not an indicator of the scheme
    ({"evidence": [(b"MZ\x90\x00 not a document", "证据.exe")]}, "evidence"),
])
def test_a_bad_appeal_is_refused_naming_the_field(db, world, feed, changes, field):
    evaluation, _result = published(db, world, feed)
    values = {"reasons": REASONS, "leaves": [], "evidence": [], **changes}
    with pytest.raises(ValidationFailed) as caught:
        appeals.file(db, principal(world.supplier_user), evaluation.id, today=WINDOW_OPEN,
                     **values)
    assert list(caught.value.errors) == [field]
    assert count(db, Appeal) == 0


def test_a_bad_reason_and_a_bad_file_are_named_together(db, world, feed):
    evaluation, _result = published(db, world, feed)
    with pytest.raises(ValidationFailed) as caught:
        appeals.file(db, principal(world.supplier_user), evaluation.id, today=WINDOW_OPEN,
                     reasons="不服", evidence=[(b"plain text", "说明.txt")])
    assert set(caught.value.errors) == {"reasons", "evidence"}
    assert "说明.txt" in caught.value.errors["evidence"]
    assert count(db, Appeal) == 0


def test_one_appeal_per_publication(db, world, feed):
    evaluation, _result, _appeal = appeal_of(db, world, feed)
    with pytest.raises(Conflict):
        appeals.file(db, principal(world.supplier_user), evaluation.id, reasons=REASONS,
                     today=WINDOW_OPEN)
    assert count(db, Appeal) == 1


def test_an_unpublished_result_cannot_be_appealed(db, world, feed):
    from tests.results_feed import fed

    evaluation = fed(db, world, feed)
    results.compute(db, principal(world.finance), evaluation.id)
    with pytest.raises(Conflict):
        appeals.file(db, principal(world.supplier_user), evaluation.id, reasons=REASONS,
                     today=WINDOW_OPEN)


def test_finance_upholds_the_result_and_it_becomes_final_after_the_window(db, world, feed):
    evaluation, result, appeal = appeal_of(db, world, feed)
    # while the appeal is open, the closed window does not make the result final
    assert results.finalise_due(db, date(2026, 10, 12)) == []
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.published
    for not_finance in (world.purchaser, world.supplier_user):
        with pytest.raises(PermissionDenied):
            appeals.decide(db, principal(not_finance), appeal.id, outcome="uphold",
                           decision="维持")
    with pytest.raises(ValidationFailed) as caught:
        appeals.decide(db, principal(world.finance), appeal.id, outcome="uphold", decision=" ")
    assert "decision" in caught.value.errors
    decided = appeals.decide(db, principal(world.finance), appeal.id, outcome="uphold",
                             decision="停工日已计入扣分说明，结果不变。")
    assert decided.status == AppealStatus.upheld and decided.decided_by == world.finance.id
    # one appeal per publication: the result no longer reads "open to appeal"
    db.refresh(evaluation)
    assert results.state(db, result, evaluation, WINDOW_OPEN) == "appeal_upheld"
    with language("zh_CN"):
        assert results.state_label("appeal_upheld") == "已公示；申诉已驳回，申诉期结束后确定"
    with pytest.raises(Conflict):  # decided once
        appeals.decide(db, principal(world.finance), appeal.id, outcome="reopen",
                       decision="再议", leaves=["A2.1"])
    assert [r.id for r in results.finalise_due(db, date(2026, 10, 12))] == [result.id]
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.final


def test_finance_reopens_named_leaves_which_leads_to_a_new_version(db, world, feed):
    evaluation, result, appeal = appeal_of(db, world, feed)
    with pytest.raises(ValidationFailed) as caught:
        appeals.decide(db, principal(world.finance), appeal.id, outcome="reopen",
                       decision="请专家复核", leaves=[])
    assert "leaves" in caught.value.errors
    db.refresh(appeal)
    assert appeal.status == AppealStatus.open
    decided = appeals.decide(db, principal(world.finance), appeal.id, outcome="reopen",
                             decision="暴雨停工已报备，请重新评 A2.1", leaves=["A2.1"])
    assert decided.status == AppealStatus.reopened and decided.reopened_leaves == ["A2.1"]
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.scoring
    reopen = db.exec(select(AuditEntry).where(AuditEntry.action == "evaluation.scoring")
                     .order_by(AuditEntry.seq.desc())).first()
    assert '"leaves":["A2.1"]' in reopen.change and f'"appeal":{appeal.id}' in reopen.change
    # the purchaser's June sheet is corrected to 达成: A2.1 = 10 → A = 92.5 → total 89.20
    feed[evaluation.id]["sheets"][1]["scores"]["A2.1"] = "达成"
    second = results.compute(db, principal(world.finance), evaluation.id)
    assert (second.version, second.total) == (2, "89.20")
    assert f"{appeal.id}" in second.reason and "A2.1" in second.reason
    republished = results.publish(db, principal(world.finance), evaluation.id,
                                  at=datetime(2026, 10, 19, 2, 0, tzinfo=UTC))
    assert republished.appeal_deadline == date(2026, 10, 26)
    db.refresh(result)
    assert result.superseded and result.total == HAND_TOTAL and result.final_at is None
    # the new publication may be appealed again, once
    again = appeals.file(db, principal(world.supplier_user), evaluation.id, reasons=REASONS,
                         today=date(2026, 10, 20))
    assert again.result_id == republished.id


def test_a_direct_reopening_waits_for_an_open_appeal(db, world, feed):
    evaluation, _result, _appeal = appeal_of(db, world, feed)
    with pytest.raises(Conflict):
        results.reopen(db, principal(world.finance), evaluation.id, "直接重开")
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.published


def test_who_sees_which_appeals(db, world, feed, make_user, make_org):
    _evaluation, _result, appeal = appeal_of(db, world, feed)
    other_dept = make_user("purchaser", organisation=make_org("purchasing_department", name="别局"))
    seen = {
        "finance": appeals.can_see(db, principal(world.finance), appeal),
        "auditor": appeals.can_see(db, principal(make_user("auditor")), appeal),
        "purchaser": appeals.can_see(db, principal(world.purchaser), appeal),
        "supplier": appeals.can_see(db, principal(world.supplier_user), appeal),
        "other purchaser": appeals.can_see(db, principal(other_dept), appeal),
        "other supplier": appeals.can_see(db, principal(make_user("supplier")), appeal),
        "evaluator": appeals.can_see(db, principal(make_user("evaluator")), appeal),
    }
    assert seen == {"finance": True, "auditor": True, "purchaser": True, "supplier": True,
                    "other purchaser": False, "other supplier": False, "evaluator": False}
    assert appeals.page(db, principal(other_dept)).total == 0
    assert appeals.page(db, principal(world.supplier_user)).total == 1


def test_two_finance_officers_cannot_both_decide(db, world, feed, make_user):
    from sqlmodel import Session

    evaluation, _result, appeal = appeal_of(db, world, feed)
    with Session(db.get_bind(), expire_on_commit=False) as other:
        stale = other.get(Appeal, appeal.id)  # the second officer opened the page earlier
        other.commit()
        appeals.decide(db, principal(world.finance), appeal.id, outcome="uphold",
                       decision="结果不变", expected_version=stale.version)
        with pytest.raises(Conflict) as caught:
            appeals.decide(other, principal(make_user("finance")), appeal.id, outcome="reopen",
                           decision="重新评分", leaves=["A2.1"], expected_version=stale.version)
        assert "刚刚处理" in caught.value.message
    db.refresh(appeal)
    assert appeal.status == AppealStatus.upheld and appeal.decision == "结果不变"
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.published


def test_reasons_and_a_decision_are_at_most_ten_thousand_characters(db, world, feed):
    """A decision of 200,000 characters was stored; the reasons and the decision are each
    refused one character past 10,000, naming the field, and nothing is filed or decided."""
    evaluation, _result = published(db, world, feed)
    supplier, finance = principal(world.supplier_user), principal(world.finance)
    with pytest.raises(ValidationFailed) as caught:
        appeals.file(db, supplier, evaluation.id, reasons="由" * 10_001, today=WINDOW_OPEN)
    assert list(caught.value.errors) == ["reasons"] and "10000" in caught.value.errors["reasons"]
    assert count(db, Appeal) == 0
    appeal = appeals.file(db, supplier, evaluation.id, reasons="由" * 10_000, today=WINDOW_OPEN)
    with pytest.raises(ValidationFailed) as caught:
        appeals.decide(db, finance, appeal.id, outcome="uphold", decision="维" * 10_001)
    assert list(caught.value.errors) == ["decision"]
    assert "处理理由" in caught.value.errors["decision"] and "10000" in caught.value.errors["decision"]
    db.expire_all()
    assert db.get(Appeal, appeal.id).status == AppealStatus.open
    assert not db.exec(select(AuditEntry).where(AuditEntry.action == "appeal.upheld")).all()
    decided = appeals.decide(db, finance, appeal.id, outcome="uphold", decision="维" * 10_000)
    db.expire_all()
    assert decided.status == AppealStatus.upheld
    stored = db.get(Appeal, appeal.id)
    assert (len(stored.reasons), len(stored.decision)) == (10_000, 10_000)


def test_an_empty_evidence_file_is_refused_by_name_not_silently_left_out(db, world, feed):
    """A chosen evidence file of no bytes was dropped without a word: the appeal was filed
    without it and the supplier believed it attached."""
    evaluation, _result = published(db, world, feed)
    with pytest.raises(ValidationFailed) as caught:
        appeals.file(db, principal(world.supplier_user), evaluation.id, today=WINDOW_OPEN,
                     reasons=REASONS, evidence=[(b"", "空白.pdf"), (PDF, "巡查记录.pdf")])
    assert list(caught.value.errors) == ["evidence"]
    assert "空白.pdf" in caught.value.errors["evidence"]
    assert count(db, Appeal) == 0
