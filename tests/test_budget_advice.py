"""Results applied to next year's budget (预算安排建议): each project goes by the result that
speaks for it, each grade by the adjustment finance sets, amounts to the fen."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from evalplatform.services import budget_advice, catalogue, projects
from evalplatform.services.errors import ValidationFailed
from tests.builders import contracted_world
from tests.conftest import login
from tests.results_feed import clock_fixture  # noqa: F401  (the clock fixture)
from tests.settlement_builders import final_evaluation

BUDGET = 80_000_000  # every builder project: ¥800,000.00


@pytest.fixture
def city(db, make_user, make_org):
    """Four departments' 2026 projects: graded 优, 中 and 差, and one without a result."""
    worlds = [contracted_world(db, make_user, make_org, n=n) for n in range(1, 5)]
    for world, (total, grade) in zip(worlds[:3], [("92.00", "优"), ("70.00", "中"),
                                                  ("55.00", "差")], strict=True):
        final_evaluation(db, world, total, grade)
    return worlds


def by_project(advice) -> dict:
    return {r.project.id: r for r in advice.rows}


def test_each_grade_advises_and_adjusts_the_budget_as_finance_sets_it(db, city):
    advice = budget_advice.build(db, 2026)
    rows = by_project(advice)
    best, fair, poor, unknown = (rows[w.project.id] for w in city)
    assert (best.level, best.adjustment, best.suggested_fen) == ("优", 0, BUDGET)
    assert (fair.level, fair.adjustment, fair.suggested_fen) == ("中", -10, 72_000_000)
    assert (poor.level, poor.adjustment, poor.suggested_fen) == ("差", -20, 64_000_000)
    assert (unknown.level, unknown.result, unknown.suggested_fen) == (None, None, BUDGET)
    assert "核减" in poor.advice and "支持" in best.advice and "尚无" in unknown.advice
    assert advice.budget_year == 2027
    assert advice.total.projects == 4 and advice.total.without_result == 1
    assert advice.total.budget_fen == 4 * BUDGET
    assert advice.total.suggested_fen == BUDGET + 72_000_000 + 64_000_000 + BUDGET
    assert advice.total.change_fen == -24_000_000
    assert advice.total.levels == {"优": 1, "良": 0, "中": 1, "差": 1}
    assert sum(d.suggested_fen for d in advice.departments) == advice.total.suggested_fen
    typed = budget_advice.parse_adjustments({"adjust_优": "5", "adjust_中": "−15%",
                                             "adjust_差": ""})
    rows = by_project(budget_advice.build(db, 2026, typed))
    assert rows[city[0].project.id].suggested_fen == 84_000_000
    assert rows[city[1].project.id].suggested_fen == 68_000_000
    assert rows[city[2].project.id].suggested_fen == 64_000_000  # empty: the default


def test_amounts_are_rounded_half_up_to_the_fen_and_never_below_nothing():
    assert budget_advice.suggested(333_335, Decimal(-10)) == 300_002  # 300,001.5 fen
    assert budget_advice.suggested(5, Decimal(-50)) == 3  # 2.5 fen
    assert budget_advice.suggested(333_333, Decimal("-12.5")) == 291_666  # 291,666.375
    assert budget_advice.suggested(BUDGET, Decimal(-100)) == 0
    assert budget_advice.suggested(BUDGET, Decimal(0)) == BUDGET


def test_a_refused_adjustment_names_its_grade_and_the_rule():
    with pytest.raises(ValidationFailed) as caught:
        budget_advice.parse_adjustments({"adjust_中": "一成", "adjust_差": "-150",
                                         "adjust_优": "NaN"})
    errors = caught.value.errors
    assert set(errors) == {"adjust_中", "adjust_差", "adjust_优"}
    assert "“中”" in errors["adjust_中"] and "“一成”" in errors["adjust_中"]
    assert "-100 到 100" in errors["adjust_差"] and "“-150”" in errors["adjust_差"]
    # 财预〔2020〕10号: 中 and 差 are cut (核减), never raised; 优 and 良 supported, never cut
    with pytest.raises(ValidationFailed) as caught:
        budget_advice.parse_adjustments({"adjust_差": "50", "adjust_中": "0",
                                         "adjust_良": "-5", "adjust_优": "10"})
    errors = caught.value.errors
    assert set(errors) == {"adjust_差", "adjust_良"}
    assert "核减" in errors["adjust_差"] and "-100 到 0" in errors["adjust_差"]
    assert "予以支持" in errors["adjust_良"]
    with pytest.raises(ValidationFailed) as caught:
        budget_advice.parse_year("二〇二六", 2026)
    assert set(caught.value.errors) == {"year"}
    assert budget_advice.parse_year("", 2026) == 2026


def test_an_ex_post_result_speaks_before_a_later_monitoring_round(db, make_user, make_org):
    world = contracted_world(db, make_user, make_org)
    final_evaluation(db, world, "72.00", "中", final_on=date(2026, 3, 1))
    final_evaluation(db, world, "91.00", "优", stage="interim", final_on=date(2026, 8, 1))
    row = by_project(budget_advice.build(db, 2026))[world.project.id]
    assert (row.level, row.result.evaluation.stage, row.from_last_year) == ("中", "final", False)


def test_last_years_result_of_the_same_service_speaks_while_this_years_has_none(
        db, make_user, make_org):
    last = contracted_world(db, make_user, make_org, signed_on="2025-01-05")
    final_evaluation(db, last, "58.00", "差", start="2025-01-05", end="2025-12-31",
                     final_on=date(2026, 2, 10))
    this = projects.register(db, last.p_actor, department_id=last.department.id, values={
        "name": "2026年主城区道路清扫保洁", "content": "道路清扫保洁", "recipients": "居民",
        "catalogue_entry_id": str(last.project.catalogue_entry_id), "year": "2026",
        "budget": "500,000.00", "budget_line": "城市维护费",
        "procurement_method": "competitive_consultation"})
    other_entry = next(e for e in catalogue.list_entries(db)
                       if e.level == 3 and e.id != last.project.catalogue_entry_id)
    other = projects.register(db, last.p_actor, department_id=last.department.id, values={
        "name": "公共厕所管理", "content": "公厕保洁", "recipients": "居民",
        "catalogue_entry_id": str(other_entry.id), "year": "2026", "budget": "300,000.00",
        "budget_line": "城市维护费", "procurement_method": "competitive_consultation"})
    rows = by_project(budget_advice.build(db, 2026))
    inherited = rows[this.id]
    assert inherited.from_last_year and inherited.result.project.id == last.project.id
    assert (inherited.level, inherited.suggested_fen) == ("差", 40_000_000)
    assert rows[other.id].result is None  # another service learns nothing from it
    assert last.project.id not in rows  # last year's project is not itself arranged again


def test_a_grade_of_another_name_is_placed_by_its_total(db, make_user, make_org):
    world = contracted_world(db, make_user, make_org)
    final_evaluation(db, world, "84.50", "合格")
    row = by_project(budget_advice.build(db, 2026))[world.project.id]
    assert (row.level, row.placed_by_total, row.adjustment) == ("良", True, 0)


def test_the_page_shows_finance_every_department_and_a_purchaser_its_own(client, db, city):
    finance, purchaser = city[0].finance, city[1].purchaser
    login(client, finance.username)
    page = client.get("/reports/budget", params={"year": "2026"})
    assert page.status_code == 200
    assert all(w.project.name in page.text for w in city)
    assert "2027 年度预算" in page.text and "¥720,000.00" in page.text
    assert "¥800,000.00 × 90%" in page.text  # the amount says how it was made
    assert 'data-chart=' in page.text
    refused = client.get("/reports/budget", params={"year": "2025", "adjust_中": "一成"})
    assert refused.status_code == 422 and 'id="e-adjust_中"' in refused.text
    assert "“一成”" in refused.text and "2026 年度预算" in refused.text  # the year asked for
    sheet = client.get("/reports/budget.xlsx", params={"year": "2026", "adjust_差": "-50"})
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.content))
    rows = list(book.worksheets[2].iter_rows(values_only=True))  # the projects
    poor = next(r for r in rows if r[1] == city[2].project.name)
    assert poor[7] == "差" and poor[10] == Decimal("400000.00")
    assert poor[4] == city[2].project.name  # the project whose result it goes by
    client.cookies.clear()
    login(client, purchaser.username)
    own = client.get("/reports/budget", params={"year": "2026"}).text
    assert city[1].project.name in own and city[0].project.name not in own


@pytest.mark.parametrize("role", ["supplier", "evaluator", "admin"])
def test_roles_without_budgets_may_not_read_the_advice(client, signed_in, role):
    signed_in(role)
    assert client.get("/reports/budget").status_code == 403
    assert client.get("/reports/budget.xlsx").status_code == 403


def test_the_api_gives_the_same_advice_and_refuses_what_the_page_refuses(client, db, city):
    login(client, city[0].finance.username)
    found = client.get("/api/reports/budget", params={"year": "2026", "adjust_差": "-50",
                                                      "sort": "change"})  # cuts first
    assert found.status_code == 200, found.text
    body = found.json()
    assert (body["year"], body["budget_year"], body["adjustments"]["差"]) == (2026, 2027, "-50")
    first = body["items"][0]
    assert (first["project_id"], first["level"], first["suggested_fen"], first["change_fen"]) \
        == (city[2].project.id, "差", 40_000_000, -40_000_000)
    assert body["total"]["suggested_fen"] == sum(r["suggested_fen"] for r in body["items"])
    assert body["sort"] == "change"
    refused = client.get("/api/reports/budget", params={"adjust_中": "一成", "sort": "name"})
    assert refused.status_code == 422 and set(refused.json()["errors"]) == {"adjust_中"}
    assert client.get("/api/reports/budget", params={"sort": "name"}).status_code == 422


def test_finance_and_the_department_see_the_cuts_advised_on_their_home_page(client, db, city,
                                                                             clock):
    login(client, city[0].finance.username)
    home = client.get("/").text
    card = home.split("建议核减 2027 年度预算的项目", 1)[1].split("</li>", 1)[0]
    assert '<span class="card-value">2</span>' in card  # 中 and 差
    assert "¥240,000.00" in card and 'href="/reports/budget"' in home
    client.cookies.clear()
    login(client, city[0].purchaser.username)  # its own project was graded 优: nothing to cut
    assert "建议核减" not in client.get("/").text
    client.cookies.clear()
    login(client, city[2].purchaser.username)
    own = client.get("/").text.split("建议核减 2027 年度预算的项目", 1)[1].split("</li>", 1)[0]
    assert '<span class="card-value">1</span>' in own and "¥160,000.00" in own


def test_one_result_of_last_year_going_for_several_projects_says_so(client, db, make_user,
                                                                      make_org):
    """Two of this year's projects of the same service go by last year's one 差: each row
    says the result goes for 2 projects, so finance sees one result cutting two budgets."""
    last = contracted_world(db, make_user, make_org, signed_on="2025-01-05")
    final_evaluation(db, last, "58.00", "差", start="2025-01-05", end="2025-12-31",
                     final_on=date(2026, 2, 10))
    made = [projects.register(db, last.p_actor, department_id=last.department.id, values={
        "name": name, "content": "道路清扫保洁", "recipients": "居民",
        "catalogue_entry_id": str(last.project.catalogue_entry_id), "year": "2026",
        "budget": "500,000.00", "budget_line": "城市维护费",
        "procurement_method": "competitive_consultation"})
        for name in ("2026年主城区道路清扫保洁", "2026年新区道路清扫保洁")]
    rows = by_project(budget_advice.build(db, 2026))
    assert [rows[p.id].shared_by for p in made] == [2, 2]
    login(client, last.finance.username)
    page = client.get("/reports/budget", params={"year": "2026"}).text
    assert page.count('data-testid="shared-by"') == 2 and "同一结果用于今年 2 个项目" in page
