"""The project list page: every filter (year, department, category, method, status, amount
range), paging and sorting, for finance and for a purchaser limited to its department."""

import re
from html import unescape

import pytest

from tests.conftest import login
from tests.project_world import project_world

ROW = re.compile(r'<td data-label="[^"]*"><a href="/projects/(\d+)">')


@pytest.fixture
def world(db, make_user, make_org):
    return project_world(db, make_user, make_org)


def sign_in(client, user):
    client.cookies.clear()
    assert login(client, user.username).status_code == 303


def listed(client, query: str = "", **headers) -> list[int]:
    response = client.get(f"/projects?{query}", headers=headers)
    assert response.status_code == 200
    return [int(i) for i in ROW.findall(response.text)]


@pytest.mark.parametrize("query, expected", [
    ("", {"care", "meals", "social", "streets", "green", "toilets"}),
    ("year=2025", {"social"}),
    ("year=2026", {"care", "meals", "streets", "green", "toilets"}),
    ("department_id={civil}", {"care", "meals", "social"}),
    ("catalogue=A", {"care", "meals"}),
    ("catalogue=D02", {"streets", "toilets"}),
    ("method=competitive_consultation", {"meals", "social"}),
    ("status=awaiting_approval", {"social"}),
    ("status=approved", {"streets"}),
    ("min_yuan=1,100,000", {"care", "social", "streets", "toilets"}),
    ("max_yuan=1100000", {"meals", "green", "toilets"}),
    ("min_yuan=500000&max_yuan=1,860,000.00", {"care", "meals", "social", "toilets"}),
    ("year=2026&department_id={city}&min_yuan=1000000&status=approved", {"streets"}),
    ("q=清扫", {"streets"}),
])
def test_each_filter_on_the_page(client, world, query, expected):
    sign_in(client, world.finance)
    query = query.format(civil=world.civil.id, city=world.city.id)
    assert set(listed(client, query)) == world.ids(*expected), query


def test_a_purchaser_filters_within_its_own_department_only(client, world):
    sign_in(client, world.civil_purchaser)
    assert set(listed(client)) == world.ids("care", "meals", "social")
    assert set(listed(client, "year=2026")) == world.ids("care", "meals")
    assert listed(client, f"department_id={world.city.id}") == []
    assert listed(client, "catalogue=D") == []
    page = client.get("/projects").text
    assert 'id="f-department_id"' not in page  # no department choice for a purchaser


def test_the_form_keeps_the_chosen_filters(client, world):
    sign_in(client, world.finance)
    page = client.get(f"/projects?year=2026&department_id={world.city.id}&catalogue=D02"
                      "&method=public_tender&status=approved&min_yuan=100&max_yuan=9000000").text
    assert '<option value="2026" selected>' in page
    assert f'<option value="{world.city.id}" selected>' in page
    assert '<option value="D02" selected>' in page
    assert '<option value="public_tender" selected>' in page
    assert '<option value="approved" selected>' in page
    assert 'name="min_yuan" inputmode="decimal" value="100"' in page
    assert set(ROW.findall(page)) == {str(world.projects["streets"].id)}


@pytest.mark.parametrize("query, label, words", [
    ("min_yuan=abc", "预算下限（元）", "金额"),
    ("min_yuan=2000000&max_yuan=1000000", "上限（元）", "下限"),
    ("status=paid", "状态", "项目状态"),
    ("catalogue=Z9", "类别", "目录编码"),
])
def test_a_bad_filter_is_named_and_not_applied(client, world, query, label, words):
    sign_in(client, world.finance)
    response = client.get(f"/projects?{query}")
    assert response.status_code == 200
    text = unescape(response.text)
    errors = text[text.index('id="filter-errors"'):]
    errors = errors[:errors.index("</div>")]
    assert label in errors and words in errors
    if "min_yuan=2000000" in query:  # the good lower bound still applies
        assert set(ROW.findall(text)) == {str(world.projects["streets"].id)}
    else:
        assert len(ROW.findall(text)) == 6


def test_sorting_by_each_column(client, world):
    sign_in(client, world.finance)
    p = world.projects
    by_budget = [x.id for x in sorted(p.values(), key=lambda x: x.budget_fen)]
    assert listed(client, "sort=budget") == by_budget
    assert listed(client, "sort=-budget") == by_budget[::-1]
    assert listed(client, "sort=year")[0] == p["social"].id
    assert listed(client, "sort=catalogue") == [p[k].id for k in
                                                 ("care", "meals", "social", "streets",
                                                  "toilets", "green")]
    assert listed(client, "sort=status") == [p[k].id for k in
                                              ("social", "toilets", "streets", "meals", "green",
                                               "care")]
    # procurement methods in the order of the law: 公开招标 first, 单一来源 last
    assert listed(client, "sort=method")[:2] == sorted([p["care"].id, p["streets"].id])
    assert listed(client, "sort=method")[-1] == p["toilets"].id
    assert listed(client, "sort=-created_at")[0] == p["toilets"].id
    # an unknown key falls back to the default rather than failing
    assert listed(client, "sort=nonsense") == listed(client)
    page = client.get("/projects?sort=-budget").text
    assert 'aria-sort="descending"' in page


def test_paging_keeps_filters_and_sort(client, world):
    sign_in(client, world.finance)
    p = world.projects
    by_budget = [x.id for x in sorted(p.values(), key=lambda x: x.budget_fen)]
    first = listed(client, "sort=budget&per_page=4")
    second = listed(client, "sort=budget&per_page=4&page=2")
    assert first + second == by_budget
    assert listed(client, "sort=budget&per_page=4&page=99") == second  # clamped to the last page
    assert listed(client, "sort=budget&per_page=4&page=x") == first
    response = client.get("/projects?year=2026&sort=-budget&per_page=2",
                          headers={"HX-Request": "true"})
    text = unescape(response.text)
    assert "<html" not in text and 'id="projects-table"' in text  # the table alone, for htmx
    assert "第 1 / 3 页" in text
    next_link = re.search(r'href="(\?[^"]*page=2[^"]*)"[^>]*rel="next"', text).group(1)
    assert "year=2026" in next_link and "sort=-budget" in next_link and "per_page=2" in next_link
    assert listed(client, next_link[1:]) == [p["toilets"].id, p["meals"].id]
    # the filter form carries the sort and page size, so a new filter keeps them
    assert re.search(r'name="sort" value="-budget" form="project-filters"', text)
    assert re.search(r'name="per_page" value="2" form="project-filters"', text)
