"""The demo city's expert pool and its panel-scored evaluation load through the services."""

import re
from decimal import Decimal

from sqlmodel import select

from evalplatform.models import Expert, PanelDraw, Scoresheet, SheetKind, SheetStatus, User
from evalplatform.services import audit, demo, evaluation_inputs, evaluations, panel, scoresheets
from tests.test_scoresheets_world import hashing_once


def test_the_demo_has_a_pool_a_drawn_panel_and_submitted_sheets(db, monkeypatch):
    monkeypatch.setenv("EVAL_DEMO_PASSWORD", "demo-password-for-tests")
    with hashing_once():
        accounts = demo.load(db)
    pool = db.exec(select(Expert)).all()
    assert len(pool) == 12 and len({code for e in pool for code in e.specialities}) >= 8
    draw = db.exec(select(PanelDraw)).one()
    assert sorted(e["name"] for e in draw.excluded) == ["朱丽娟", "马骏"]
    assert len(draw.seats) == 5 and len(draw.alternates) == 2 and panel.replay(db, draw.id).ok
    evaluation = evaluations.get(db, draw.evaluation_id)
    expert_sheets = db.exec(select(Scoresheet).where(Scoresheet.kind == SheetKind.expert)).all()
    assert sorted(s.status.value for s in expert_sheets) == ["draft", "submitted", "submitted",
                                                              "submitted"]
    # the seated experts sign in with their own accounts and see exactly this evaluation
    experts_accounts = [a for a in accounts if a.username.startswith("zhuanjia")]
    assert len(experts_accounts) == 5
    user = db.exec(select(User).where(User.username == "zhuanjia1")).one()
    from evalplatform.web.access import Principal

    me = Principal(user.id, user.username, user.display_name, user.role, None, None, None)
    assert evaluations.assigned_ids(db, me) == [evaluation.id]
    package = evaluation_inputs.build_package(evaluations.scheme_document(db, evaluation),
                                              evaluation_inputs.collect(db, evaluation))
    import scoring

    result = scoring.evaluate(package)
    third = next(p for p in result.parts if p.party == "third_party")
    assert third.score is not None and 60 < third.score <= 100
    assert all(s.status == SheetStatus.submitted for s in db.exec(select(Scoresheet).where(
        Scoresheet.kind == SheetKind.data)))
    # the bureau typed its rates (比例) in percent, as the form asks: 97 is kept as 0.97
    own = next(p for p in evaluations.scheme_document(db, evaluation)["parts"]
               if p["party"] == "purchaser")
    rates = [leaf.id for leaf in scoresheets.sheet_leaves(own, SheetKind.data) if leaf.is_ratio]
    assert rates and {package["inputs"]["data"][leaf]["value"] for leaf in rates} == {"0.97"}
    assert scoresheets.self_evaluation_of(db, evaluation.id).claimed_total == "95"
    assert audit.verify(db).ok


def _leaves(node: dict, found: dict) -> dict:
    if node.get("rule"):
        found[node["id"]] = node
    for child in node.get("children") or []:
        _leaves(child, found)
    return found


#: The street-cleaning scheme's deduction criteria, and what a cited finding costs under them.
COSTS = {
    "垃圾收集点管理": ("每发现一处满溢、散落扣 1 分",
                 lambda why: int(re.search(r"(\d+) 处(?:收集点)?满溢", why).group(1))),
    "应急保障能力": ("缺一项扣 5 分", lambda why: 5 * len(why.split("；"))),
    "安全生产": ("未按规定配备安全防护扣 2 分",
             lambda why: 2 * ("未配备" in why) + 5 * ("安全事故" in why)),
}


def test_every_demo_sheets_points_are_what_its_cited_findings_cost(db, monkeypatch):
    # a scorer who cites "3 full collection points" at 1 point each gives 12 of 15, not 14.5;
    # one missing emergency item at 5 points gives 15 of 20; a shortfall cited on a tiers
    # indicator is never its top tier, and full marks cite nothing
    monkeypatch.setenv("EVAL_DEMO_PASSWORD", "demo-password-for-tests")
    with hashing_once():
        demo.load(db)
    sheets = db.exec(select(Scoresheet).where(Scoresheet.kind != SheetKind.data)).all()
    assert len(sheets) >= 5
    checked = 0
    for sheet in sheets:
        doc = evaluations.scheme_document(db, evaluations.get(db, sheet.evaluation_id))
        leaves = {}
        for part in doc["parts"]:
            _leaves(part["tree"], leaves)
        for leaf_id, given in sheet.scores.items():
            leaf = leaves[leaf_id]
            why = given.get("reason", "") if isinstance(given, dict) else ""
            if leaf["rule"]["type"] == "tiers":
                top = max(leaf["rule"]["tiers"], key=lambda t: Decimal(str(t["coefficient"])))
                assert (given["tier"] != top["name"]) == bool(why), (sheet.scorer_key, leaf_id)
                continue
            criteria, cost = COSTS[leaf["name"]]
            assert criteria in leaf["criteria"]
            expected = Decimal(str(leaf["points"])) - (cost(why) if why else 0)
            assert Decimal(given["points"]) == expected, (sheet.scorer_key, leaf["name"], why)
            checked += 1
    assert checked >= 9
