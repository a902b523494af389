"""The demo city's past year: final results, settlements, one overdue payment, standings."""

from decimal import Decimal

from sqlmodel import select

from evalplatform.models import Evaluation, EvaluationResult, Settlement, SettlementStatus
from evalplatform.services import audit, demo, selection, settlements, standing
from evalplatform.services import results as results_service
from evalplatform.services.clock import LOCAL_TZ, as_utc
from evalplatform.services.workdays import add_working_days


def test_the_demo_settles_the_past_year_and_shows_every_standing(db):
    demo.load(db)
    results = [r for r, e in db.exec(select(EvaluationResult, Evaluation).where(
        EvaluationResult.evaluation_id == Evaluation.id)).all() if e.period_start.year == 2025]
    assert len(results) == 5 and all(r.final_ready and r.final_at for r in results)
    for r in results:  # each was open to appeal for 5 working days after its publication
        published = r.published_at.date()
        assert r.appeal_deadline == add_working_days(published, results_service.appeal_working_days())
        # final once the window has closed: in China, the day after its last day at the earliest
        final_day = as_utc(r.final_at).astimezone(LOCAL_TZ).date()
        assert published < r.appeal_deadline < final_day
    levels = {s.supplier.name: s.level for s in standing.all_standings(db)}
    assert levels["临江市福康居家养老服务中心"] == "preferred"
    assert levels["临江市洁城环境服务有限公司"] == "warned"
    assert levels["临江市安康养老服务有限公司"] == "barred"
    every = db.exec(select(Settlement)).all()
    assert {s.status for s in every} == {SettlementStatus.paid, SettlementStatus.approved,
                                         SettlementStatus.proposed}
    for s in every:
        assert s.payable_fen + s.deduction_fen == s.instalment_amount_fen
        if s.evaluation_id is not None:  # the result shows the payment its settlement applies
            payment = results_service.current(db, s.evaluation_id).result["payment"]
            assert (Decimal(payment["payable"]) * 100, Decimal(payment["deduction"]) * 100) == (
                s.payable_fen, s.deduction_fen)
        assert s.decided_by is None or s.decided_by not in settlements.proposers(db, s)
    overdue = [r for r in settlements.payments(db) if r.state == "overdue"]
    assert len(overdue) == 1 and overdue[0].settlement.status == SettlementStatus.approved
    row = overdue[0]
    assert row.interest_fen == settlements.interest_owed(row.payable_fen, row.interest_per_day,
                                                         row.late_days) > 0
    waiting = [p for p in selection.awaiting_contract(db) if p.name == "残疾人托养服务"]
    ranking = selection.rank(db, waiting[0].id)
    assert [s.name for s, _bar in ranking.barred] == ["临江市安康养老服务有限公司"]
    assert ranking.candidates[0].supplier.name == "临江市福康居家养老服务中心"
    assert audit.verify(db).ok


def test_the_demo_reports_the_past_years_monitoring_as_it_stood(db):
    from datetime import date

    from evalplatform.services import evaluations, half_year

    demo.load(db)
    # On 30 June 2026 the 2025 contract years had ended; only 社区老年助餐 had no monitoring
    # round (the others' rounds were scheduled in 2025, when their periods began).
    gaps = evaluations.monitoring_gaps(db, organisation_id=None, today=date(2026, 6, 30))
    late = sorted(g.project.name for g in gaps if g.late_days > 0)
    assert late == ["2025年社区老年助餐服务"]
    report = half_year.build(db, half_year.Period(2026, 1))
    assert report.late["未开展事中监控的合同年度"] == 1
    # the contracted 2026 projects were registered before their signing in the first half
    assert (report.total.projects, report.total.contracts) == (7, 7)
