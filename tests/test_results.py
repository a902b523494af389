"""Results (评价结果): computed from the sources' contributions, checked against a hand
computation; versions; the missing-score policy; publication (公示) and finalisation by date.

The inputs come from collectors registered here (the way the survey and scoresheet
capabilities feed the package), never from those capabilities' own code.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

import scoring
from evalplatform.models import (
    AuditEntry,
    Evaluation,
    EvaluationResult,
    EvaluationStatus,
    IndicatorScheme,
)
from evalplatform.services import evaluations, results
from evalplatform.services.clock import as_utc
from evalplatform.services.errors import Conflict, PermissionDenied, ValidationFailed
from tests.builders import contracted_world, schedule
from tests.results_feed import (  # noqa: F401  (feed_fixture, world_fixture: fixtures)
    HAND_TOTAL,
    PUBLISHED_AT,
    count,
    fed,
    feed_fixture,
    hand_inputs,
    principal,
    published,
    world_fixture,
)
from tests.test_audit import cli_env  # noqa: F401

# ---------------------------------------------------------------- computing


def test_the_result_is_computed_from_the_collected_inputs_as_by_hand(db, world, feed):
    evaluation = fed(db, world, feed)
    result = results.compute(db, principal(world.finance), evaluation.id)
    assert (result.version, result.total, result.grade, result.final_ready) == (1, HAND_TOTAL, "良",
                                                                               True)
    parts = {p["id"]: p for p in result.result["parts"]}
    assert parts["A"]["score"] == "91.0000" and parts["A"]["weighted"] == "36.4000"
    assert parts["B"]["score"] == "89.3333" and parts["C"]["score"] == "84.6667"
    nodes = result.result["nodes"]
    assert nodes["A1.2"]["score"] == "13.5000" and nodes["A3.2"]["score"] == "6.0000"
    assert nodes["A2.1"]["score"] == "8.5000" and nodes["B1"]["score"] == "53.3333"
    assert nodes["C1.2"]["score"] == "12.0000" and nodes["C2.2"]["score"] == "16.6667"
    chosen = [s["scorer"] for s in parts["C"]["sheets"] if s["chosen"]]
    assert chosen == ["E2", "E3", "E4"]
    payment = result.result["payment"]
    assert (payment["amount"], payment["ratio"], payment["payable"], payment["deduction"]) == (
        "312000.00", "0.95", "296400.00", "15600.00")
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.computed
    # the stored package reproduces the stored result, as `python -m scoring evaluate` would
    assert scoring.evaluate(result.package).as_dict() == result.result
    assert result.package["meta"]["sources"][0]["notes"]
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "result.compute")).one()
    assert json.loads(entry.change)["total"] == HAND_TOTAL


def test_the_result_view_explains_every_number(db, world, feed):
    evaluation = fed(db, world, feed)
    view = results.explain(results.compute(db, principal(world.finance), evaluation.id))
    rows = {n.id: n for n in view.nodes}
    assert rows["A3.2"].rule == "ratio_le" and rows["A3.2"].rule_label == "比率（越低越好）"
    assert "8 × min(24 / 32, 1) = 6.00" in rows["A3.2"].trace[0]
    assert "作业人员未穿反光背心" in rows["A2.2"].trace[0]  # the deduction's reason
    assert "E1" in rows["C1.3"].trace[0] and "E2、E3、E4" in rows["C1.3"].trace[0]
    assert rows["C2.2"].lost and not rows["A1.1"].lost
    assert any("88.60" in line for line in view.total_trace)
    assert view.quality["responses"] == 10 and view.quality["panels"][0]["part"] == "C"
    assert set(view.charts) >= {"indicators", "parts", "survey"}
    survey = view.charts["survey_table"]
    q1 = next(r for r in survey["rows"] if r["question"] == "Q1")
    assert q1["counts"]["满意"] == 5 and q1["counts"]["不满意"] == 1


def test_compute_waits_for_collection_to_close_and_refuses_outsiders(db, world, feed, make_user,
                                                                     make_org):
    evaluation = schedule(db, world)
    feed[evaluation.id] = hand_inputs()
    with pytest.raises(Conflict):
        results.compute(db, principal(world.finance), evaluation.id)
    evaluations.advance(db, world.p_actor, evaluation.id, "collecting")
    evaluations.advance(db, world.p_actor, evaluation.id, "scoring")
    other = make_user("purchaser", organisation=make_org("purchasing_department", name="别的局"))
    for outsider in (other, world.supplier_user, make_user("auditor")):
        with pytest.raises(PermissionDenied):
            results.compute(db, principal(outsider), evaluation.id)
    assert count(db, EvaluationResult) == 0
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.scoring
    # the department's purchaser may compute
    assert results.compute(db, principal(world.purchaser), evaluation.id).total == HAND_TOTAL


def test_a_stale_page_cannot_compute(db, world, feed):
    evaluation = fed(db, world, feed)
    with pytest.raises(Conflict):
        results.compute(db, principal(world.finance), evaluation.id,
                        expected_version=evaluation.version - 1)
    assert count(db, EvaluationResult) == 0


def test_a_bad_contribution_is_refused_naming_the_package_path(db, world, feed):
    inputs = hand_inputs()
    inputs["sheets"][0]["scores"]["A2.1"] = "超额完成"  # not a tier of the leaf
    evaluation = fed(db, world, feed, inputs)
    with pytest.raises(ValidationFailed) as caught:
        results.compute(db, principal(world.finance), evaluation.id)
    assert "package" in caught.value.errors and "A2.1" in caught.value.errors["package"]
    assert count(db, EvaluationResult) == 0
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.scoring


# ---------------------------------------------------------------- missing scores


def test_a_missing_score_blocks_publication_and_says_what_is_missing(db, world, feed):
    inputs = hand_inputs()
    del inputs["data"]["A3.2"]
    del inputs["sheets"][3]["scores"]["C1.3"]  # expert E2 left C1.3 empty
    evaluation = fed(db, world, feed, inputs)
    result = results.compute(db, principal(world.finance), evaluation.id)
    assert result.final_ready is False and result.total  # computed and readable
    missing = results.explain(result).missing
    assert any("A3.2" in m.where and m.what == "没有测量数据" for m in missing)
    assert any("C1.3" in m.where and m.what == "评分人 E2 的评分表未评此项" for m in missing)
    with pytest.raises(Conflict) as caught:
        results.publish(db, principal(world.finance), evaluation.id, at=PUBLISHED_AT)
    assert "A3.2" in caught.value.message
    db.refresh(result)
    db.refresh(evaluation)
    assert result.published_at is None and evaluation.status == EvaluationStatus.computed


@pytest.mark.parametrize("policy, total", [
    # A3.2 missing: zero → A = 85, total = 0.4 × 85 + 26.8 + 25.4 = 86.20
    ("zero", "86.20"),
    # redistribute → A = 85 / 92 × 100 = 92.3913, total = 36.9565 + 52.2 = 89.16
    ("redistribute", "89.16"),
])
def test_the_schemes_missing_policy_is_applied(db, world, feed, policy, total):
    scheme = db.get(IndicatorScheme, world.scheme.id)
    document = copy.deepcopy(scheme.document)
    document["missing"] = policy
    scheme.document = document
    db.add(scheme)
    db.commit()
    inputs = hand_inputs()
    del inputs["data"]["A3.2"]
    evaluation = fed(db, world, feed, inputs)
    result = results.compute(db, principal(world.finance), evaluation.id)
    assert (result.total, result.final_ready) == (total, True)
    view = results.explain(result)
    assert view.missing_policy == policy and len(view.missing) == 1
    results.publish(db, principal(world.finance), evaluation.id, at=PUBLISHED_AT)


# ---------------------------------------------------------------- publication


def test_publication_opens_an_appeal_window_of_working_days(db, world, feed):
    evaluation = fed(db, world, feed)
    results.compute(db, principal(world.finance), evaluation.id)
    result = results.publish(db, principal(world.purchaser), evaluation.id, at=PUBLISHED_AT)
    # Mon 28 Sep 2026 + 5 working days: 29, 30 Sep; 1–7 Oct National Day off; 8, 9 Oct and
    # Saturday 10 Oct (a 调休 working day)
    assert result.appeal_deadline == date(2026, 10, 10)
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.published
    assert result.published_by == world.purchaser.id
    with pytest.raises(Conflict):  # published once
        results.publish(db, principal(world.finance), evaluation.id, at=PUBLISHED_AT)


def test_the_appeal_window_is_a_setting(db, world, feed, monkeypatch):
    from evalplatform.settings import get_settings

    monkeypatch.setattr(get_settings(), "appeal_working_days", 2)
    evaluation = fed(db, world, feed)
    results.compute(db, principal(world.finance), evaluation.id)
    result = results.publish(db, principal(world.finance), evaluation.id, at=PUBLISHED_AT)
    assert result.appeal_deadline == date(2026, 9, 30)


def test_only_the_organisers_publish(db, world, feed, make_user, make_org):
    evaluation = fed(db, world, feed)
    results.compute(db, principal(world.finance), evaluation.id)
    other = make_user("purchaser", organisation=make_org("purchasing_department", name="别的局"))
    for outsider in (other, world.supplier_user, make_user("auditor")):
        with pytest.raises(PermissionDenied):
            results.publish(db, principal(outsider), evaluation.id, at=PUBLISHED_AT)
    assert results.current(db, evaluation.id).published_at is None


# ---------------------------------------------------------------- finalisation by date


def test_the_result_becomes_final_the_day_after_the_window_closes(db, world, feed):
    evaluation, result = published(db, world, feed)
    assert results.finalise_due(db, date(2026, 10, 10)) == []  # the last day to appeal
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.published
    done = results.finalise_due(db, date(2026, 10, 11))
    assert [r.id for r in done] == [result.id]
    db.refresh(evaluation)
    db.refresh(result)
    assert evaluation.status == EvaluationStatus.final and result.final_at is not None
    assert results.finalise_due(db, date(2026, 10, 12)) == []  # only once
    actions = db.exec(select(AuditEntry.action).where(AuditEntry.entity_id == str(evaluation.id),
                                                      AuditEntry.entity_type == "evaluation")).all()
    assert actions[-1] == "evaluation.final"


def test_a_result_finalised_late_is_final_since_its_window_closed(client, db, world, feed):
    # Nobody loaded a page between 11 and 19 October: the result was final since the 11th.
    evaluation, result = published(db, world, feed)
    assert [r.id for r in results.finalise_due(db, date(2026, 10, 20))] == [result.id]
    db.refresh(result)
    assert as_utc(result.final_at) == datetime(2026, 10, 10, 16, 0, tzinfo=UTC)  # 11 Oct 0:00
    page = client.get(f"/results/{result.id}")
    assert page.status_code == 200 and "2026-10-11" in page.text


def test_an_unpublished_or_blocked_result_never_becomes_final(db, world, feed):
    evaluation = fed(db, world, feed)
    results.compute(db, principal(world.finance), evaluation.id)
    assert results.finalise_due(db, date(2027, 1, 1)) == []
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.computed


def test_the_cli_finalises_due_results(db, world, feed, cli_env):  # noqa: F811
    from typer.testing import CliRunner

    from evalplatform.cli import app

    evaluation, _result = published(db, world, feed)
    runner = CliRunner()
    early = runner.invoke(app, ["results", "finalise", "--today", "2026-10-09"])
    assert early.exit_code == 0 and "0 result(s) made final" in early.output
    late = runner.invoke(app, ["results", "finalise", "--today", "2026-10-12"])
    assert late.exit_code == 0, late.output
    assert f"evaluation {evaluation.id}: version 1 is final ({HAND_TOTAL} 良" in late.output
    db.expire_all()
    assert db.get(Evaluation, evaluation.id).status == EvaluationStatus.final
    bad = runner.invoke(app, ["results", "finalise", "--today", "10/12/2026"])
    assert bad.exit_code == 2


# ---------------------------------------------------------------- versions


def test_recomputing_after_a_reasoned_reopening_adds_a_version(db, world, feed):
    evaluation = fed(db, world, feed)
    first = results.compute(db, principal(world.finance), evaluation.id)
    with pytest.raises(Conflict):  # a computed result is not silently recomputed
        results.compute(db, principal(world.finance), evaluation.id)
    with pytest.raises(ValidationFailed):
        results.reopen(db, principal(world.purchaser), evaluation.id, "   ")
    results.reopen(db, principal(world.purchaser), evaluation.id, "6 月考核表补录安全生产扣分")
    feed[evaluation.id]["sheets"][1]["scores"]["A2.2"] = {"points": 6, "reason": "两处未戴安全帽"}
    second = results.compute(db, principal(world.finance), evaluation.id)
    # A2.2 (10 + 6) / 2 = 8 → A = 90 → total 36.0 + 26.8 + 25.4 = 88.20
    assert (second.version, second.total, second.reason) == (2, "88.20", "6 月考核表补录安全生产扣分")
    db.refresh(first)
    assert first.superseded and first.total == HAND_TOTAL  # kept as it was
    assert [r.version for r in results.versions(db, evaluation.id)] == [1, 2]


def test_a_published_result_is_reopened_only_by_finance_and_stays_readable(db, world, feed):
    evaluation, result = published(db, world, feed)
    with pytest.raises(PermissionDenied):
        results.reopen(db, principal(world.purchaser), evaluation.id, "想改一下")
    results.reopen(db, principal(world.finance), evaluation.id, "复核发现 C1.1 抽查数据录入错误")
    feed[evaluation.id]["data"]["C1.1"] = "96"  # band ≥ 95 → 30 points: C = 89.6667
    second = results.compute(db, principal(world.finance), evaluation.id)
    # total = 36.4 + 26.8 + 0.3 × 89.6667 = 90.10 → 优
    assert (second.total, second.grade) == ("90.10", "优")
    db.refresh(result)
    assert result.published_at is not None and result.total == HAND_TOTAL  # never changed
    # the public list keeps the first publication (under review) until the new one is published
    rows = results.public_page(db, today=date(2026, 10, 16)).items
    assert [(r.result.version, r.state) for r in rows] == [(1, "under_review")]
    results.publish(db, principal(world.finance), evaluation.id,
                    at=datetime(2026, 10, 19, 2, 0, tzinfo=UTC))
    rows = results.public_page(db, today=date(2026, 10, 20)).items
    assert [(r.result.version, r.result.total, r.state) for r in rows] == [
        (2, "90.10", "appeal_window")]
    assert results.state(db, result, db.get(Evaluation, evaluation.id)) == "superseded"


def test_a_supplier_reads_only_published_versions(db, world, feed):
    evaluation = fed(db, world, feed)
    results.compute(db, principal(world.finance), evaluation.id)
    supplier = principal(world.supplier_user)
    assert results.visible_versions(db, supplier, evaluation) == []
    results.publish(db, principal(world.finance), evaluation.id, at=PUBLISHED_AT)
    assert [r.version for r in results.visible_versions(db, supplier, evaluation)] == [1]


def test_the_public_list_is_paged_sorted_and_searchable(db, world, feed, make_user, make_org):
    published(db, world, feed)
    second = contracted_world(db, make_user, make_org, n=2)
    inputs = hand_inputs()
    inputs["data"]["A1.2"] = "1"  # A1.2 15 → A = 92.5 → total 37.0 + 52.2 = 89.20
    published(db, second, feed, inputs)
    page = results.public_page(db, sort="-total")
    assert [r.result.total for r in page.items] == ["89.20", HAND_TOTAL]
    assert [r.result.total for r in results.public_page(db, sort="total").items] == [
        HAND_TOTAL, "89.20"]
    assert results.public_page(db, q="洁美环境服务有限公司2").total == 1
    assert results.public_page(db, grade="优").total == 0
    assert results.public_page(db, grade="良").total == 2
    one_per_page = results.public_page(db, sort="-total", per_page=1, page_number=2)
    assert one_per_page.pages == 2 and one_per_page.items[0].result.total == HAND_TOTAL
