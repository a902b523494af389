"""A service's acceptance (验收) and a result's reopening (重新评分) through the JSON API: the
acceptance page's and the result page's services, roles, ownership, refusals and audit
entries."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import func, select

from evalplatform.models import Acceptance, AuditEntry, Evaluation, EvaluationStatus
from evalplatform.services import acceptance, appeals, results
from tests.builders import contracted_world, schedule
from tests.conftest import login
from tests.results_feed import (  # noqa: F401  (clock_, feed_, world_fixture: fixtures)
    clock_fixture,
    fed,
    feed_fixture,
    principal,
    published,
    world_fixture,
)
from tests.settlement_builders import add_result, to_status

GOOD = {"accepted_on": "2026-07-01", "conclusion": "accepted", "participants": 12,
        "participation": "居民代表 5 人参加现场验收；问卷 312 份",
        "opinion": "居民认为道路保洁及时，个别路段夜间清运噪声偏大。", "survey_url": "/surveys/12"}


def sign_in(client, user) -> dict:
    client.cookies.clear()
    assert login(client, user.username).status_code == 303
    return {"x-csrf-token": client.get("/api/me").json()["csrf_token"]}


def count(db) -> int:
    return db.exec(select(func.count()).select_from(Acceptance)).one()


def audited(db, action: str) -> list[dict]:
    return [json.loads(e.change) for e in db.exec(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))]


def accept_path(evaluation) -> str:
    return f"/api/evaluations/{evaluation.id}/acceptance"


# ---------------------------------------------------------------- acceptance


def test_the_purchaser_records_the_acceptance_and_corrects_it_before_publication(
        client, db, world, clock):
    evaluation = schedule(db, world)
    headers = sign_in(client, world.purchaser)
    recorded = client.post(accept_path(evaluation), headers=headers, json=GOOD)
    assert recorded.status_code == 201, recorded.text
    body = recorded.json()
    assert (body["accepted_on"], body["conclusion"], body["conclusion_label"],
            body["participants"], body["stage"], body["failed_before"]) == (
        "2026-07-01", "accepted", "验收合格", 12, "open", None)
    assert body["recorded_by"]["id"] == world.purchaser.id
    stored = acceptance.for_evaluation(db, evaluation.id)
    assert (stored.id, stored.accepted_on, stored.participants, stored.opinion) == (
        body["id"], date(2026, 7, 1), 12, GOOD["opinion"])
    [entry] = audited(db, "acceptance.record")
    assert (entry["participants"], entry["corrected"]) == (12, False)
    corrected = client.post(accept_path(evaluation), headers=headers,
                            json={**GOOD, "participants": 15})
    assert corrected.status_code == 200 and corrected.json()["id"] == body["id"]
    db.expire_all()
    assert count(db) == 1 and acceptance.for_evaluation(db, evaluation.id).participants == 15
    assert [e["corrected"] for e in audited(db, "acceptance.record")] == [False, True]


@pytest.mark.parametrize("changes, field, message", [
    ({"participants": 0}, "participants", "公共服务项目验收应有服务对象参与：请填写参与人数。"),
    ({"participants": "十二"}, "participants", "participants须为整数。"),
    ({"opinion": "张大爷（13812345678）表示满意"}, "opinion", None),
    ({"accepted_on": "2026-13-01"}, "accepted_on", None),
    ({"accepted_on": "2025-12-31"}, "accepted_on", None),  # before the period it accepts
    ({"conclusion": "maybe"}, "conclusion", "conclusion须为以下之一：accepted, rejected。"),
    ({"survey_url": "javascript:alert(1)"}, "survey_url", None),
    ({"signed_by": "张三"}, "signed_by", None),
])
def test_a_bad_acceptance_is_refused_naming_the_field_in_chinese_and_nothing_is_recorded(
        client, db, world, clock, changes, field, message):
    evaluation = schedule(db, world)
    headers = sign_in(client, world.purchaser)
    refused = client.post(accept_path(evaluation), headers=headers, json={**GOOD, **changes})
    assert refused.status_code == 422, refused.text
    assert set(refused.json()["errors"]) == {field}
    text = refused.json()["errors"][field]
    assert message is None and any("\u4e00" <= c <= "\u9fff" for c in text) or text == message
    assert count(db) == 0 and audited(db, "acceptance.record") == []


def test_a_missing_opinion_is_named(client, db, world, clock):
    evaluation = schedule(db, world)
    headers = sign_in(client, world.purchaser)
    body = {k: v for k, v in GOOD.items() if k != "opinion"}
    refused = client.post(accept_path(evaluation), headers=headers, json=body)
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"opinion": "opinion为必填项。"}
    assert count(db) == 0


def test_only_the_departments_purchaser_records_the_acceptance(client, db, world, clock,
                                                               make_user, make_org):
    evaluation = schedule(db, world)
    for user in (world.finance, make_user("auditor"), world.supplier_user,
                 make_user("evaluator")):
        headers = sign_in(client, user)
        refused = client.post(accept_path(evaluation), headers=headers, json=GOOD)
        assert refused.status_code == 403, user.role
        assert refused.json()["detail"] == "您的角色无权使用此接口。"
    other = contracted_world(db, make_user, make_org, n=2)
    headers = sign_in(client, other.purchaser)
    assert client.post(accept_path(evaluation), headers=headers, json=GOOD).status_code == 404
    assert count(db) == 0 and audited(db, "acceptance.record") == []


def test_a_published_acceptance_is_not_changed_and_a_failed_one_is_accepted_again(
        client, db, world, clock, make_user, make_org):
    headers = sign_in(client, world.purchaser)
    evaluation = schedule(db, world)
    assert client.post(accept_path(evaluation), headers=headers, json=GOOD).status_code == 201
    evaluation = to_status(db, world, evaluation, "published")
    add_result(db, evaluation, "86.35", "良", final_on=None)
    locked = client.post(accept_path(evaluation), headers=headers,
                         json={**GOOD, "opinion": "改过的意见"})
    assert locked.status_code == 409
    assert locked.json()["detail"] == "验收记录已随评价结果公示，不能再修改。"
    db.expire_all()
    assert acceptance.for_evaluation(db, evaluation.id).opinion == GOOD["opinion"]

    other = contracted_world(db, make_user, make_org, n=2)
    failed = schedule(db, other)
    headers = sign_in(client, other.purchaser)
    rejected = client.post(accept_path(failed), headers=headers,
                           json={**GOOD, "conclusion": "rejected", "opinion": "多处路段未清扫"})
    assert rejected.status_code == 201 and rejected.json()["conclusion"] == "rejected"
    failed = to_status(db, other, failed, "published")
    add_result(db, failed, "58.00", "差", final_on=None)
    again = client.post(accept_path(failed), headers=headers,
                        json={**GOOD, "conclusion": "rejected", "accepted_on": "2026-08-01"})
    assert again.status_code == 422 and set(again.json()["errors"]) == {"conclusion"}
    reaccepted = client.post(accept_path(failed), headers=headers,
                             json={**GOOD, "accepted_on": "2026-08-01"})
    assert reaccepted.status_code == 200, reaccepted.text
    body = reaccepted.json()
    assert (body["accepted_on"], body["conclusion"]) == ("2026-08-01", "accepted")
    assert body["failed_before"] == {"accepted_on": "2026-07-01", "conclusion": "rejected",
                                     "opinion": "多处路段未清扫"}
    [entry] = audited(db, "acceptance.reaccept")
    assert entry["failed"]["opinion"] == "多处路段未清扫"


# ---------------------------------------------------------------- reopening a result


def reopen_path(evaluation) -> str:
    return f"/api/evaluations/{evaluation.id}/result/reopen"


def test_the_department_reopens_a_computed_result_with_a_reason(client, db, world, feed,
                                                                clock):
    evaluation = fed(db, world, feed)
    results.compute(db, principal(world.finance), evaluation.id)
    db.refresh(evaluation)
    version = evaluation.version
    headers = sign_in(client, world.purchaser)
    blank = client.post(reopen_path(evaluation), headers=headers, json={"reason": " "})
    assert blank.status_code == 422
    assert blank.json()["errors"] == {"reason": "重新开启评价必须填写理由。"}
    stale = client.post(reopen_path(evaluation), headers=headers,
                        json={"reason": "补录", "expected_version": version + 5})
    assert stale.status_code == 409
    db.expire_all()
    assert db.get(Evaluation, evaluation.id).status == EvaluationStatus.computed
    reopened = client.post(reopen_path(evaluation), headers=headers,
                           json={"reason": "6 月考核表补录安全生产扣分",
                                 "expected_version": version})
    assert reopened.status_code == 200, reopened.text
    assert (reopened.json()["status"], reopened.json()["version"]) == ("scoring", version + 1)
    db.expire_all()
    assert db.get(Evaluation, evaluation.id).status == EvaluationStatus.scoring
    [entry] = audited(db, "evaluation.scoring")[-1:]
    assert (entry["from"], entry["reason"], entry["version"]) == (
        "computed", "6 月考核表补录安全生产扣分", 1)
    # back in scoring: the department may no longer reopen it (403), finance is told why (409)
    assert client.post(reopen_path(evaluation), headers=headers,
                       json={"reason": "再开"}).status_code == 403
    twice = client.post(reopen_path(evaluation), headers=sign_in(client, world.finance),
                        json={"reason": "再开"})
    assert twice.status_code == 409
    assert twice.json()["detail"] == "只有已计算或已公示的评价可以重新开启。"
    # the next computation makes version 2 with the reason
    second = results.compute(db, principal(world.finance), evaluation.id)
    assert (second.version, second.reason) == (2, "6 月考核表补录安全生产扣分")


def test_a_published_result_is_reopened_by_finance_only(client, db, world, feed, clock,
                                                       make_user, make_org):
    evaluation, _result = published(db, world, feed)
    headers = sign_in(client, world.purchaser)
    refused = client.post(reopen_path(evaluation), headers=headers, json={"reason": "想改一下"})
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("已公示的结果只能由财政部门重新开启")
    for user in (make_user("auditor"), world.supplier_user, make_user("evaluator")):
        headers = sign_in(client, user)
        assert client.post(reopen_path(evaluation), headers=headers,
                           json={"reason": "x"}).status_code == 403, user.role
    other = make_user("purchaser", organisation=make_org("purchasing_department"))
    headers = sign_in(client, other)
    assert client.post(reopen_path(evaluation), headers=headers,
                       json={"reason": "x"}).status_code == 404
    db.expire_all()
    assert db.get(Evaluation, evaluation.id).status == EvaluationStatus.published
    assert audited(db, "evaluation.scoring")[-1]["from"] == "collecting"  # only its closing
    headers = sign_in(client, world.finance)
    done = client.post(reopen_path(evaluation), headers=headers,
                       json={"reason": "复核发现 C1.1 抽查数据录入错误"})
    assert done.status_code == 200 and done.json()["status"] == "scoring"
    assert audited(db, "evaluation.scoring")[-1]["reason"] == "复核发现 C1.1 抽查数据录入错误"


def test_a_result_under_appeal_is_not_reopened_but_the_appeal_decided(client, db, world, feed,
                                                                      clock):
    evaluation, _result = published(db, world, feed)
    appeals.file(db, principal(world.supplier_user), evaluation.id,
                 reasons="6 月 12 日暴雨停工已报备，台账缺记录不应扣分。", today=date(2026, 10, 9))
    headers = sign_in(client, world.finance)
    refused = client.post(reopen_path(evaluation), headers=headers, json={"reason": "复核"})
    assert refused.status_code == 409
    assert refused.json()["detail"] == "该结果有待处理的申诉：请先处理申诉。"
    db.expire_all()
    assert db.get(Evaluation, evaluation.id).status == EvaluationStatus.published
