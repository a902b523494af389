"""The half-year statistics report: the period's projects, results, settlements and late items."""

import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from evalplatform.services import contracts, half_year, settlements
from evalplatform.services.errors import ValidationFailed
from tests.builders import contracted_world
from tests.conftest import login
from tests.settlement_builders import approved_on_signing, final_evaluation, instalment, principal


def test_periods_and_their_due_dates():
    assert half_year.latest_closed(date(2026, 7, 3)) == half_year.Period(2026, 1)
    assert half_year.latest_closed(date(2027, 1, 10)) == half_year.Period(2026, 2)
    period = half_year.Period(2026, 2)
    # 31 January 2027 is a Sunday: the report is due on the working day after it
    assert (period.start, period.end, period.due) == (date(2026, 7, 1), date(2026, 12, 31),
                                                      date(2027, 2, 1))
    assert half_year.Period(2026, 1).due == date(2026, 7, 31)  # a Friday
    assert half_year.Period(2025, 2).due == date(2026, 2, 2)  # Saturday 31 January → Monday
    for year, half in (("26", "1"), ("2026", "3"), ("x", "")):
        try:
            half_year.parse(year, half, date(2026, 7, 3))
        except ValidationFailed:
            continue
        raise AssertionError((year, half))


def test_the_report_counts_the_periods_figures(client, db, make_user, make_org):
    world = contracted_world(db, make_user, make_org)  # signed 2026-01-05: the first half
    final_evaluation(db, world, "86.35", "良", final_on=date(2026, 7, 20))  # the second half
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    settlements.approve(db, principal(world.finance), settlement.id)
    first = half_year.build(db, half_year.Period(2026, 1))
    assert (first.total.projects, first.total.contracts, first.total.amount_fen) == (
        1, 1, 78_000_000)
    assert sum(first.grades.values()) == 0
    second = half_year.build(db, half_year.Period(2026, 2))
    assert second.total.contracts == 0 and second.grades["良"] == 1
    assert second.mean_total == Decimal("86.35")
    today = settlements.projects.today()
    period = half_year.Period(today.year, 1 if today.month <= 6 else 2)
    now = half_year.build(db, period)
    assert now.settled_total == {"count": 1, "instalment": 31_200_000, "payable": 29_640_000,
                                 "deduction": 1_560_000}
    assert now.settled["良"]["deduction"] == 1_560_000
    login(client, world.finance.username)
    page = client.get(f"/reports/half-year?year={period.year}&half={period.half}")
    assert page.status_code == 200 and "¥15,600.00" in page.text
    assert client.get("/reports/half-year?year=26&half=9").status_code == 422
    book = client.get(f"/reports/half-year.xlsx?year={period.year}&half={period.half}")
    sheets = load_workbook(io.BytesIO(book.content))
    assert {"汇总", "按类别", "结算"} <= set(sheets.sheetnames)
    total = list(sheets["结算"].iter_rows(values_only=True))[-1]
    assert total[0] == "合计" and total[3] == 296400 and total[4] == 15600
    client.cookies.clear()
    login(client, world.supplier_user.username)
    assert client.get("/reports/half-year").status_code == 403


def test_a_running_period_counts_the_overdue_interest_as_of_today(db, make_user, make_org,
                                                                  monkeypatch):
    # The on-signing instalment (¥234,000) fell due on 4 February 2026 and is still unpaid.
    contracted_world(db, make_user, make_org)
    monkeypatch.setattr("evalplatform.services.projects.today", lambda: date(2026, 9, 9))
    listed = [r for r in settlements.payments(db) if r.state == "overdue"]
    assert [(r.late_days, r.interest_fen) for r in listed] == [(217, 2_538_900)]
    running = half_year.build(db, half_year.Period(2026, 2))
    # as on the payment-due list, not projected to 31 December (330 days, ¥38,610.00)
    assert running.overdue == {"count": 1, "amount": 23_400_000, "interest": 2_538_900}
    closed = half_year.build(db, half_year.Period(2026, 1))  # counted on 30 June: 146 days
    assert closed.overdue["interest"] == 1_708_200


def test_an_instalment_paid_after_the_period_was_overdue_at_its_end(db, make_user, make_org):

    # The on-signing instalment (¥234,000) fell due on 4 February 2026 and was paid on 10 July.
    world = contracted_world(db, make_user, make_org)
    settlement = approved_on_signing(db, world)
    settlements.record_payment(db, principal(world.finance), settlement.id,
                               voucher_no="GK-2026-0710", paid_on="2026-07-10",
                               today=date(2026, 11, 1))
    on_30_june = next(r for r in settlements.payments(db, today=date(2026, 6, 30))
                      if r.instalment.seq == 1)
    assert (on_30_june.state, on_30_june.late_days, on_30_june.interest_fen) == (
        "overdue", 146, 1_708_200)
    first = half_year.build(db, half_year.Period(2026, 1))
    assert first.overdue == {"count": 1, "amount": 23_400_000, "interest": 1_708_200}
    assert first.paid["count"] == 0
    second = half_year.build(db, half_year.Period(2026, 2))
    assert (second.paid["count"], second.paid["late"], second.overdue["count"]) == (1, 1, 0)


def test_late_filings_are_counted_as_they_stood_on_the_periods_last_day(db, make_user, make_org):
    # Signed on 5 January 2026 and published only on 10 July, long after its deadline.
    world = contracted_world(db, make_user, make_org)
    world.contract.published_on = date(2026, 7, 10)
    db.add(world.contract)
    db.commit()
    assert half_year.build(db, half_year.Period(2025, 2)).late == {}  # not signed yet
    on_30_june = [i for i in contracts.due_and_late(db, organisation_id=None,
                                                    today=date(2026, 6, 30)).late
                  if i.kind == "publication"]
    assert [str(i.label) for i in on_30_june] == ["合同未公开（2 个工作日内）"]  # not yet
    assert half_year.build(db, half_year.Period(2026, 1)).late == {"未按时公开的合同": 1}


def test_a_payment_to_a_large_supplier_counts_as_paid_in_the_period(db, make_user, make_org):
    from datetime import UTC, datetime

    from evalplatform.models import Contract, SupplierProfile

    world = contracted_world(db, make_user, make_org)
    contract = db.get(Contract, world.contract.id)
    contract.payment_days = None
    profile = db.get(SupplierProfile, world.supplier.id)
    profile.small_medium = False  # no statutory due date, no interest
    db.add(contract)
    db.add(profile)
    db.commit()
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 1).id)
    settlement = settlements.approve(db, principal(world.finance), settlement.id)
    settlement.decided_at = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    db.add(settlement)
    db.commit()
    settlements.record_payment(db, principal(world.finance), settlement.id,
                               voucher_no="GK-2026-0310", paid_on="2026-03-10",
                               today=date(2026, 11, 1))
    first = half_year.build(db, half_year.Period(2026, 1))
    assert first.paid == {"count": 1, "amount": 23_400_000, "late": 0, "interest": 0}
    assert first.settled_total["payable"] == 23_400_000  # approved and paid, both counted


def _registered_in_march(db, rows):
    """The projects registered, and those finance decided on decided, in March 2026."""
    from datetime import UTC, datetime

    for project in rows:
        db.refresh(project)
        project.created_at = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
        if project.decided_at is not None:
            project.decided_at = datetime(2026, 3, 16, 7, 0, tzinfo=UTC)
        db.add(project)
    db.commit()


def test_projects_of_the_year_are_those_being_bought_as_the_budget_disclosure_lists_them(
        client, db, make_user, make_org):
    from evalplatform.services import disclosure, projects
    from evalplatform.services.audit import Actor
    from tests.project_world import project_world

    # 2026: care (contracted), meals and green (below ¥1,000,000), streets (approved),
    # toilets (returned, ¥1,100,000); and one more waiting for finance to approve ¥2,000,000.
    world = project_world(db, make_user, make_org)
    purchaser = world.city_purchaser
    waiting = projects.register(db, Actor(purchaser.id, purchaser.username),
                                department_id=purchaser.organisation_id, values={
        "name": "生活垃圾分类指导", "catalogue_entry_id": str(world.projects["toilets"]
                                                            .catalogue_entry_id),
        "content": "入户指导", "recipients": "居民", "year": "2026", "budget": "2000000",
        "budget_line": "2026年专项资金", "procurement_method": "public_tender"})
    assert waiting.status == projects.ProjectStatus.awaiting_approval
    _registered_in_march(db, [*world.projects.values(), waiting])
    disclosed = disclosure.budget(db, 2026)
    report = half_year.build(db, half_year.Period(2026, 1))
    assert (report.total.projects, report.total.budget_fen) == (disclosed.count,
                                                                disclosed.total_fen)
    assert (report.total.projects, report.total.budget_fen) == (4, 979_000_000)
    assert sum(r.projects for r in report.by_category) == 4
    assert sum(r.projects for r in report.by_method) == 4
    bars = report.charts()["category"]["yAxis"]  # the chart reads top down, as the table
    assert bars["data"] == [r.label for r in report.by_category] and bars["inverse"] is True
    # the two not yet being bought are shown apart, so the project list's 6 is explained
    assert (report.not_cleared.projects, report.not_cleared.budget_fen) == (2, 310_000_000)
    login(client, world.finance.username)
    page = client.get("/reports/half-year?year=2026&half=1").text
    assert "未计入：待财政审批或被退回的项目" in page and "2 · ¥3,100,000.00" in page
    book = load_workbook(io.BytesIO(
        client.get("/reports/half-year.xlsx?year=2026&half=1").content))
    lines = {row[0]: row[1] for row in book["汇总"].iter_rows(values_only=True)}
    assert lines["本年度项目"] == 4 and lines["预算"] == 9_790_000
    assert lines["未计入：待财政审批或被退回的项目"] == 2


def test_a_monitoring_round_created_after_the_periods_last_day_did_not_exist_on_it(
        db, make_user, make_org):
    from datetime import UTC, datetime

    from evalplatform.services import evaluations
    from tests.builders import schedule

    # Signed on 6 January 2025 for 12 months: its contract year ended on 5 January 2026. The
    # round of monitoring for it is created only now (December 2026 or later), after the fact.
    world = contracted_world(db, make_user, make_org, signed_on="2025-01-06")
    monitoring = schedule(db, world, stage="interim", start="2025-01-06", end="2025-06-30",
                          opens="2025-07-01", closes="2025-07-20", title="2025 年上半年监控")

    def gaps(day):
        return [(g.year_start, g.late_days) for g in
                evaluations.monitoring_gaps(db, organisation_id=None, today=day)]

    assert gaps(date(2026, 6, 30)) == [(date(2025, 1, 6), 176)]  # none existed on 30 June
    assert gaps(settlements.projects.today()) == []  # it exists today
    kind = "未开展事中监控的合同年度"
    assert half_year.build(db, half_year.Period(2026, 1)).late[kind] == 1
    # Had the round been created in July 2025, the year was covered on 30 June 2026.
    monitoring.created_at = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)
    db.add(monitoring)
    db.commit()
    assert gaps(date(2026, 6, 30)) == []
    assert kind not in half_year.build(db, half_year.Period(2026, 1)).late


def test_procurement_methods_are_listed_in_the_laws_order_in_either_language(
        db, make_user, make_org):
    from evalplatform.i18n import language
    from evalplatform.services import projects
    from evalplatform.services.audit import Actor
    from tests.project_world import project_world

    world = project_world(db, make_user, make_org)  # 公开招标, 竞争性磋商, 询价 cleared in 2026
    purchaser = world.city_purchaser
    guards = projects.register(db, Actor(purchaser.id, purchaser.username),
                               department_id=purchaser.organisation_id, values={
        "name": "公园保安服务", "catalogue_entry_id": str(world.projects["green"]
                                                        .catalogue_entry_id),
        "content": "巡逻", "recipients": "游客", "year": "2026", "budget": "300000",
        "budget_line": "2026年专项资金", "procurement_method": "competitive_negotiation"})
    _registered_in_march(db, [*world.projects.values(), guards])
    with language("zh_CN"):  # not 竞争性磋商 before 竞争性谈判, as the characters sort
        assert [r.label for r in half_year.build(db, half_year.Period(2026, 1)).by_method] == [
            "公开招标", "竞争性谈判", "竞争性磋商", "询价"]
    with language("en"):  # not alphabetically, public tender last
        assert [r.label for r in half_year.build(db, half_year.Period(2026, 1)).by_method] == [
            "Public tender", "Competitive negotiation", "Competitive consultation",
            "Price inquiry"]


def test_the_report_writes_its_colons_as_the_readers_language_does(client, db, make_user,
                                                                   make_org):
    from tests.conftest import csrf_from

    world = contracted_world(db, make_user, make_org)  # signed 5 January 2026, not published
    login(client, world.finance.username)
    url = "/reports/half-year?year=2026&half=1"
    page = client.get(url).text
    assert "半年统计报告：2026 年上半年</h1>" in page and "<li>未按时公开的合同：1</li>" in page
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client, url)})
    page = client.get(url).text
    assert "Half-year statistics report: 2026, first half</h1>" in page
    assert "<li>Contracts not published in time: 1</li>" in page


def test_the_workbooks_summary_has_the_pages_amounts_and_the_reports_own_due_date(
        db, make_user, make_org):
    from datetime import datetime

    # The on-signing instalment (¥234,000) fell due on 4 February 2026 and was paid on 10 July.
    world = contracted_world(db, make_user, make_org)
    settlement = approved_on_signing(db, world)
    settlements.record_payment(db, principal(world.finance), settlement.id,
                               voucher_no="GK-2026-0710", paid_on="2026-07-10",
                               today=date(2026, 11, 1))

    def summary(period):
        book = load_workbook(io.BytesIO(half_year.workbook(half_year.build(db, period))))
        return {row[0].value: row[1] for row in book["汇总"].iter_rows()}

    first = summary(half_year.Period(2026, 1))
    # the report's own deadline, not a payment's (付款期限)
    assert first["报送截止日期"].value == datetime(2026, 7, 31) and "付款期限" not in first
    assert first["期末逾期未付"].value == 1
    assert first["逾期未付金额"].value == 234000
    assert first["逾期未付金额"].number_format == '"¥"#,##0.00'
    assert first["应付逾期利息"].value == 17082
    second = summary(half_year.Period(2026, 2))
    assert (second["已支付"].value, second["已支付金额"].value) == (1, 234000)
    # paid 156 days late: ¥234,000 × 0.05 % × 156
    assert (second["逾期支付"].value, second["逾期支付应付利息"].value) == (1, 18252)
    assert second["应付逾期利息"].value == 0  # nothing overdue at the end of December


def test_the_mean_total_is_rounded_half_up_as_every_total_is(db, make_user, make_org):
    world = contracted_world(db, make_user, make_org)
    final_evaluation(db, world, "80.01", "良", stage="interim", title="2026 年上半年监控")
    final_evaluation(db, world, "80.00", "良")
    report = half_year.build(db, half_year.Period(2026, 2))  # both final on 20 July 2026
    assert sum(report.grades.values()) == 2
    assert report.mean_total == Decimal("80.01")  # 80.005 half-up, not 80.00 (half-even)


def test_the_settlement_table_does_not_call_the_instalments_this_periods_amount(
        client, db, make_user, make_org):
    # 本期金额 ("this instalment's amount" on a settlement sheet) reads "this period's amount"
    # in a period's report.
    world = contracted_world(db, make_user, make_org)
    login(client, world.finance.username)
    page = client.get("/reports/half-year?year=2026&half=1").text
    assert '<th scope="col">分期金额</th>' in page and "本期金额" not in page
    book = load_workbook(io.BytesIO(
        client.get("/reports/half-year.xlsx?year=2026&half=1").content))
    header = next(book["结算"].iter_rows(values_only=True))
    assert header == ("等级", "已审核的结算", "分期金额", "应付金额", "扣减金额")


def test_an_approval_withdrawn_after_the_period_still_counts_in_it_at_its_figures(
        db, make_user, make_org):
    """A report of a closed half-year counts what stood at its end: a settlement approved in it
    and withdrawn only later (its result replaced, then proposed and approved again) counts
    there at the figures it was approved at, and its new approval counts in the new period."""
    from datetime import UTC, datetime, timedelta

    world = contracted_world(db, make_user, make_org)
    evaluation = final_evaluation(db, world, "86.35", "良")
    today = settlements.projects.today()
    closed = half_year.latest_closed(today)
    running = half_year.latest_closed(today + timedelta(days=200))
    assert running != closed  # the half-year today falls in
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    settlement = settlements.approve(db, principal(world.finance), settlement.id)
    settlement.decided_at = datetime.combine(closed.start + timedelta(days=40),
                                             datetime.min.time(), tzinfo=UTC)
    db.add(settlement)
    db.commit()
    old = db.get(settlements.EvaluationResult, settlement.result_id)
    old.superseded = True  # re-evaluated after the half-year ended
    db.add(old)
    db.commit()
    final_result = settlements.EvaluationResult(
        evaluation_id=evaluation.id, version=2, total="91.00", grade="优", final_ready=True,
        package={}, result={"total": "91.00", "grade": "优", "parts": []},
        published_at=old.published_at, appeal_deadline=old.appeal_deadline,
        final_at=old.final_at)
    db.add(final_result)
    db.commit()
    settlements.withdraw_approval(db, principal(make_user("finance")), settlement.id,
                                  "结果已重新评价")
    before = half_year.build(db, closed)
    assert before.settled_total == {"count": 1, "instalment": 31_200_000,
                                    "payable": 29_640_000, "deduction": 1_560_000}
    assert list(before.settled) == ["良"]
    assert half_year.build(db, running).settled_total["count"] == 0  # withdrawn in it
    settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    settlements.approve(db, principal(world.finance), settlement.id)
    assert half_year.build(db, closed).settled_total == before.settled_total
    now = half_year.build(db, running)
    assert now.settled_total == {"count": 1, "instalment": 31_200_000, "payable": 31_200_000,
                                 "deduction": 0}
    assert list(now.settled) == ["优"]
    # a purchaser's own report counts it; another department's does not
    assert half_year.build(db, closed, organisation_id=world.department.id
                           ).settled_total["count"] == 1
    other = make_org("purchasing_department", name="别的局")
    assert half_year.build(db, closed, organisation_id=other.id).settled_total["count"] == 0


def test_projects_of_the_year_are_counted_as_they_stood_on_the_periods_last_day(
        client, db, make_user, make_org):
    """A report for a period says what held in it, and says the same when made again later: a
    project approved after the period counted as awaiting approval, one registered after it not
    at all, a correction made after it at the particulars of its last day."""
    from datetime import UTC, datetime

    from evalplatform.services import projects
    from evalplatform.services.audit import Actor
    from tests.project_world import project_world

    world = project_world(db, make_user, make_org)
    rows = world.projects
    _registered_in_march(db, rows.values())
    first = half_year.Period(2026, 1)
    before = half_year.build(db, first)
    assert (before.total.projects, before.total.budget_fen) == (4, 979_000_000)
    assert (before.not_cleared.projects, before.not_cleared.budget_fen) == (1, 110_000_000)
    # approved only on 10 August: on 30 June it still awaited finance
    streets = rows["streets"]
    streets.decided_at = datetime(2026, 8, 10, 2, 0, tzinfo=UTC)
    db.add(streets)
    db.commit()
    streets_budget = streets.budget_fen
    report = half_year.build(db, first)
    assert (report.total.projects, report.total.budget_fen) == (
        3, 979_000_000 - streets_budget)
    assert (report.not_cleared.projects, report.not_cleared.budget_fen) == (
        2, 110_000_000 + streets_budget)
    # in the second half (still running) it is being bought
    assert half_year.build(db, half_year.Period(2026, 2)).total.projects == 4
    # the returned project corrected now, after the period: counted at its budget of 30 June
    purchaser = world.city_purchaser
    toilets = rows["toilets"]
    values = projects.form_values(toilets) | {"budget": "1200000"}
    projects.revise(db, principal(purchaser), toilets.id, values)
    report = half_year.build(db, first)
    assert report.not_cleared.budget_fen == 110_000_000 + streets_budget
    # registered now, after the period: not a project of that period at all
    projects.register(db, Actor(purchaser.id, purchaser.username),
                      department_id=purchaser.organisation_id, values={
        "name": "生活垃圾分类指导", "catalogue_entry_id": str(toilets.catalogue_entry_id),
        "content": "入户指导", "recipients": "居民", "year": "2026", "budget": "900000",
        "budget_line": "2026年专项资金", "procurement_method": "public_tender"})
    again = half_year.build(db, first)
    assert (again.total, again.not_cleared) == (report.total, report.not_cleared)
    login(client, world.finance.username)
    page = client.get("/reports/half-year?year=2026&half=1").text
    assert "3 · ¥" in page and "截至 2026-06-30 已登记并可以采购的项目" in page
    assert half_year.build(db, half_year.Period(2026, 2)).total.projects == 5


def test_a_half_year_that_has_not_begun_is_refused_naming_the_field():
    """Figures "as of today" for a half-year still to come would be the current one's: its
    overdue payments and late filings counted again. The year or the half is named."""
    today = date(2026, 7, 3)
    assert half_year.parse("2026", "2", today) == half_year.Period(2026, 2)  # running: shown
    for year, half, named in (("2027", "1", "year"), ("2026", "2", "half")):
        try:
            half_year.parse(year, half, date(2026, 6, 30))
        except ValidationFailed as refused:
            assert list(refused.errors) == [named]
            assert "has not begun" in refused.errors[named] or "尚未开始" in refused.errors[named]
            continue
        raise AssertionError((year, half))


def test_the_page_refuses_a_future_half_year_and_its_tables_end_with_total_rows(
        client, db, make_user, make_org):
    world = contracted_world(db, make_user, make_org)  # one contract of ¥780,000, signed 2026-01-05
    login(client, world.finance.username)
    next_year = settlements.projects.today().year + 1
    refused = client.get(f"/reports/half-year?year={next_year}&half=2")
    assert refused.status_code == 422 and "尚未开始" in refused.text
    assert client.get(f"/reports/half-year.xlsx?year={next_year}&half=2").status_code == 422
    page = client.get("/reports/half-year?year=2026&half=1").text
    # one total row under each breakdown (by category, by method), the same figures as the
    # summary and the workbook's total rows
    assert page.count('data-testid="total-row"') == 2
    total_row = page.split('data-testid="total-row"')[1].split("</tr>")[0]
    assert "合计" in total_row and "¥780,000.00" in total_row
