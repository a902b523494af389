"""The demo city carries results: one final, one published and open to appeal, one blocked."""

from sqlmodel import select

from evalplatform.models import Evaluation, EvaluationResult, EvaluationStatus
from evalplatform.services import audit, demo, results


def test_the_demo_has_a_final_a_published_and_a_blocked_result(db):
    demo.load(db)
    by_status = {}
    for evaluation in db.exec(select(Evaluation)).all():
        if not evaluation.title.endswith("第一季度监控"):  # the past year's results of settlement
            continue
        by_status.setdefault(evaluation.status, []).append(evaluation)
    assert len(by_status[EvaluationStatus.final]) == 1
    assert len(by_status[EvaluationStatus.published]) == 1
    assert len(by_status[EvaluationStatus.computed]) == 1
    final = results.current(db, by_status[EvaluationStatus.final][0].id)
    assert final.final_at is not None and final.final_ready and final.total
    blocked = results.current(db, by_status[EvaluationStatus.computed][0].id)
    assert not blocked.final_ready and results.explain(blocked).missing
    for result in db.exec(select(EvaluationResult)).all():  # every demo result reproduces
        import scoring

        assert scoring.evaluate(result.package).as_dict() == result.result
    # the demo's answers hang together as real ones do: every survey scale is reliable
    # enough to show (independent answers gave α of −0.32 to 0.38 and a warning on half)
    alphas = [r.result["quality"]["alpha"] for r in db.exec(select(EvaluationResult)).all()
              if r.result["quality"].get("alpha")]
    assert len(alphas) >= 6 and min(a["statistic"] for a in alphas) >= 0.6
    public = results.public_page(db)
    published = {r.evaluation_id for r in db.exec(select(EvaluationResult)).all() if r.published_at}
    assert public.total == len(published) >= 2
    assert audit.verify(db).ok


def test_a_reopened_demo_result_is_computed_again_from_the_same_generated_inputs(db):
    """The demo's generated sheets and data are handed to the first computation, not stored:
    a reopening (an upheld appeal) computes the new version from the same inputs, so a
    demo user's appeal does not turn a complete result into one with every score missing."""
    from evalplatform.models import Role, User
    from evalplatform.web.access import Principal

    demo.load(db)
    published = next(e for e in db.exec(select(Evaluation)).all()
                     if e.status == EvaluationStatus.published)
    first = results.current(db, published.id)
    finance = db.exec(select(User).where(User.role == Role.finance)).first()
    who = Principal(finance.id, finance.username, finance.display_name, finance.role,
                    finance.organisation_id, None, None)
    results.reopen(db, who, published.id, "复核第一季度考核记录")
    again = results.compute(db, who, published.id)
    assert again.version == first.version + 1
    assert again.final_ready and again.total == first.total and again.grade == first.grade
    assert again.package["inputs"] == first.package["inputs"]
