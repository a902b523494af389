"""Weights of an indicator's children from data (数据赋权): the entropy method over the published
results of the scheme's family, and combined weights of AHP and the entropy method."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pytest
from sqlmodel import select

import scoring
from evalplatform.models import AuditEntry, IndicatorScheme
from evalplatform.models.results import EvaluationResult
from evalplatform.services import scheme_weights, schemes
from evalplatform.services.errors import Conflict, ValidationFailed
from tests.builders import contracted_world
from tests.conftest import csrf_from, login
from tests.settlement_builders import add_result, final_evaluation, schedule


def _scored(db, evaluation, shares: dict[str, tuple[str, str]]) -> EvaluationResult:
    """Give the evaluation's result the node figures ``id → (score, applicable)``."""
    result = db.exec(select(EvaluationResult)
                     .where(EvaluationResult.evaluation_id == evaluation.id)).one()
    result.result = {**result.result, "nodes": {
        node: {"status": "scored", "score": score, "applicable": applicable,
               "points": applicable} for node, (score, applicable) in shares.items()}}
    db.add(result)
    db.commit()
    return result


@pytest.fixture
def family(db, make_user, make_org):
    """Two departments' contracts on copies of the street-cleaning template, three published
    results on them, and an editable copy of the template to weigh: the node weighed is the
    first part's root, its children the columns."""
    one = contracted_world(db, make_user, make_org, n=1)
    two = contracted_world(db, make_user, make_org, n=2)
    root = one.scheme.document["parts"][0]["tree"]
    ids = [c["id"] for c in root["children"]]
    points = [Decimal(c["points"]) for c in root["children"]]
    assert len(ids) == 3  # the purchaser's part: three indicators
    rows = []
    for world, total, title, stage, fractions in (
            (one, "91.00", "一号 2026 年度", "final", [Decimal("0.9"), Decimal("0.8"), Decimal("1")]),
            (two, "78.00", "二号 2026 年度", "final", [Decimal("0.6"), Decimal("0.8"), Decimal("0.9")]),
            (two, "85.00", "二号 2026 年中", "interim",
             [Decimal("0.75"), Decimal("0.8"), Decimal("0.5")])):
        evaluation = final_evaluation(db, world, total, "良", title=title, stage=stage)
        shares = {node: (str(p * f), str(p)) for node, p, f in zip(ids, points, fractions, strict=True)}
        _scored(db, evaluation, shares)
        rows.append([float(f) for f in fractions])
    copy = schemes.copy_scheme(db, one.purchaser_principal, one.scheme.id, name="2027 年度方案")
    return one, two, copy, root["id"], ids, points, rows


def test_the_entropy_method_weighs_the_children_by_how_much_past_results_differ(db, family):
    one, two, copy, node, ids, points, rows = family
    outcome = scheme_weights.run_entropy(db, copy.id, node)
    assert [r.title for r in outcome.rows] == ["一号 2026 年度", "二号 2026 年度", "二号 2026 年中"]
    assert outcome.skipped == 0
    expected = scoring.entropy_weights(np.array(rows))
    assert [float(w) for w in outcome.weights] == pytest.approx(list(expected.weights), abs=1e-12)
    assert sum(outcome.points) == sum(points)  # the node's points, shared out to the fen
    assert outcome.weights[1] == 0  # every result scored the second child alike: no weight
    assert outcome.weights[0] > 0 and outcome.entropy[1] == 1


def test_results_that_are_unpublished_or_miss_a_child_are_not_data(db, family):
    one, two, copy, node, ids, points, rows = family
    late = schedule(db, one, stage="interim", start="2026-01-05", end="2026-06-30",
                    opens="2026-07-01", closes="2026-07-05", title="未公示")
    add_result(db, late, "60.00", "中")
    result = db.exec(select(EvaluationResult).where(EvaluationResult.evaluation_id == late.id)
                     ).one()
    result.published_at = None
    db.add(result)
    db.commit()
    missing = final_evaluation(db, one, "70.00", "中", title="缺一项", stage="interim")
    _scored(db, missing, {ids[0]: ("10", "20")})
    outcome = scheme_weights.run_entropy(db, copy.id, node)
    assert len(outcome.rows) == 3 and outcome.skipped == 1


def test_fewer_than_two_results_or_results_all_alike_are_refused(db, make_user, make_org):
    world = contracted_world(db, make_user, make_org, n=5)
    root = world.scheme.document["parts"][0]["tree"]
    copy = schemes.copy_scheme(db, world.purchaser_principal, world.scheme.id, name="新方案")
    with pytest.raises(ValidationFailed) as refused:
        scheme_weights.run_entropy(db, copy.id, root["id"])
    assert "至少需要两次评价" in refused.value.errors["entropy"]
    for title, stage in (("甲", "interim"), ("乙", "final")):
        evaluation = final_evaluation(db, world, "80.00", "良", title=title, stage=stage)
        _scored(db, evaluation, {c["id"]: ("1", "2") for c in root["children"]})
    with pytest.raises(ValidationFailed) as refused:
        scheme_weights.run_entropy(db, copy.id, root["id"])
    assert "完全相同" in refused.value.errors["entropy"]


def test_combined_weights_are_a_share_of_ahp_and_the_rest_of_the_entropy_method(db, family):
    one, two, copy, node, ids, points, rows = family
    upper = {(i, j): "2" if i == 0 else "1" for i in range(len(ids)) for j in range(i + 1, len(ids))}
    ahp = schemes.run_ahp(db, copy.id, node, upper)
    entropy = scheme_weights.run_entropy(db, copy.id, node)
    combined = scheme_weights.run_combined(db, copy.id, node, upper, "0.7")
    for k in range(len(ids)):
        assert float(combined.weights[k]) == pytest.approx(
            0.7 * float(ahp.weights[k]) + 0.3 * float(entropy.weights[k]), abs=1e-12)
    assert sum(combined.points) == sum(points) and combined.share == Decimal("0.7")
    with pytest.raises(ValidationFailed) as refused:  # every problem named at once
        scheme_weights.run_combined(db, copy.id, node, {**upper, (0, 1): "10"}, "1.2")
    assert set(refused.value.errors) == {"share", "a_0_1"}


def test_accepting_sets_the_points_and_audits_the_method_and_the_data(db, family):
    one, two, copy, node, ids, points, rows = family
    upper = {(i, j): "1" for i in range(len(ids)) for j in range(i + 1, len(ids))}
    outcome = scheme_weights.run_combined(db, copy.id, node, upper, "0.5")
    scheme_weights.accept(db, one.purchaser_principal, copy.id, node, "combined", upper, "0.5")
    db.expire_all()
    children = schemes.locate(db.get(IndicatorScheme, copy.id).document, node).node["children"]
    assert [Decimal(c["points"]) for c in children] == outcome.points
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "scheme.node.weights")).one()
    change = json.loads(entry.change)
    assert change["weighting"] == "combined" and change["share"] == "0.5"
    assert len(change["evaluations"]) == 3 and change["node"] == node
    assert change["points"] == [schemes.plain(p) for p in outcome.points]


def test_a_frozen_scheme_or_a_wrong_method_is_refused(db, family):
    one, two, copy, node, ids, points, rows = family
    with pytest.raises(Conflict):
        scheme_weights.accept(db, one.purchaser_principal, one.scheme.id, node, "entropy", {},
                              None)
    with pytest.raises(ValidationFailed) as refused:
        scheme_weights.accept(db, one.purchaser_principal, copy.id, node, "guess", {}, None)
    assert set(refused.value.errors) == {"method"}


def test_the_weights_page_shows_the_three_methods_side_by_side(client, db, family):
    one, two, copy, node, ids, points, rows = family
    login(client, one.purchaser.username)
    token = csrf_from(client, f"/schemes/{copy.id}/nodes/{node}/ahp")
    form = {"csrf_token": token, "method": "combined", "share": "0.6", "accept": "0",
            **{f"a_{i}_{j}": "1" for i in range(len(ids)) for j in range(i + 1, len(ids))}}
    page = client.post(f"/schemes/{copy.id}/nodes/{node}/ahp", data=form)
    assert page.status_code == 200, page.text
    table = page.text.split('id="weights-result"', 1)[1].split("</table>", 1)[0]
    assert "层次分析法" in table and "熵权法" in table and "组合" in table
    assert "组合权重 = 0.6 × 层次分析法 + 0.4 × 熵权法。" in page.text
    assert "数据：3 个已公示结果" in page.text
    refused = client.post(f"/schemes/{copy.id}/nodes/{node}/ahp", data={**form, "share": "两成"})
    assert refused.status_code == 422 and 'id="e-share"' in refused.text
    # every result scored the second child alike: the entropy method alone would give it 0
    zero = client.post(f"/schemes/{copy.id}/nodes/{node}/ahp",
                       data={**form, "method": "entropy", "accept": "1"})
    assert zero.status_code == 422 and "将得 0 分" in zero.text
    done = client.post(f"/schemes/{copy.id}/nodes/{node}/ahp", data={**form, "accept": "1"})
    assert done.status_code == 303
    assert "已按权重设定子指标分值" in client.get(f"/schemes/{copy.id}").text


def test_points_that_would_break_the_national_frame_are_flagged_before_they_are_accepted(
        client, db, make_user, make_org):
    """Equal AHP weights on a national-frame part give 产出 + 效益 50 of 100: said at once."""
    world = contracted_world(db, make_user, make_org, template="居家养老", n=7)
    part = next(p for p in world.scheme.document["parts"] if p.get("frame"))
    root, children = part["tree"], part["tree"]["children"]
    copy = schemes.copy_scheme(db, world.purchaser_principal, world.scheme.id, name="新方案")
    equal = {(i, j): "1" for i in range(len(children)) for j in range(i + 1, len(children))}
    outcome = schemes.run_ahp(db, copy.id, root["id"], equal)
    breaks = scheme_weights.problems_after(db, copy.id, root["id"], outcome.points)
    assert len(breaks) == 1 and "60" in breaks[0]
    login(client, world.purchaser.username)
    token = csrf_from(client, f"/schemes/{copy.id}/nodes/{root['id']}/ahp")
    page = client.post(f"/schemes/{copy.id}/nodes/{root['id']}/ahp", data={
        "csrf_token": token, "method": "ahp", "accept": "0",
        **{f"a_{i}_{j}": v for (i, j), v in equal.items()}})
    assert page.status_code == 200
    assert breaks[0] in page.text.split('id="weights-breaks"', 1)[1].split("</div>", 1)[0]
    # the points it has now keep the frame: no warning for them
    kept = [Decimal(c["points"]) for c in children]
    assert scheme_weights.problems_after(db, copy.id, root["id"], kept) == []


def test_new_points_of_a_child_rescale_its_subtree_and_its_bands_in_proportion():
    doc = {"parts": [{"id": "A", "tree": {"id": "A", "points": "100", "children": [
        {"id": "A1", "points": "60", "children": [
            {"id": "A1.1", "points": "40", "rule": {"type": "points"}},
            {"id": "A1.2", "points": "20", "rule": {"type": "thresholds", "bands": [
                {"min": "95", "points": "20"}, {"min": "80", "points": "15"},
                {"min": "0", "points": "0"}]}}]},
        {"id": "A2", "points": "40", "rule": {"type": "points"}}]}}]}
    schemes.give_children_points(doc, "A", [Decimal("50"), Decimal("50")])
    a1 = doc["parts"][0]["tree"]["children"][0]
    assert [c["points"] for c in a1["children"]] == ["33.33", "16.67"]  # 2 : 1, adding up
    assert [b["points"] for b in a1["children"][1]["rule"]["bands"]] == ["16.67", "12.5", "0"]
    assert doc["parts"][0]["tree"]["children"][1]["points"] == "50"
