"""The demo city's expert pool and its panel-scored evaluation load through the services."""

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
    assert scoresheets.self_evaluation_of(db, evaluation.id).claimed_total == "95"
    assert audit.verify(db).ok
