"""The JSON API of projects and the due-and-late list: the pages' roles and ownership, filters,
paging, and amounts as exact fen and yuan strings."""

import pytest

from tests.conftest import login
from tests.project_world import project_world


@pytest.fixture
def world(db, make_user, make_org):
    return project_world(db, make_user, make_org)


def sign_in(client, user):
    client.cookies.clear()
    assert login(client, user.username).status_code == 303


def ids(response) -> set[int]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


@pytest.mark.parametrize("path", ["/api/projects", "/api/projects/1", "/api/due"])
def test_without_sign_in_the_api_answers_401_in_json(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.json() == {"detail": "请先登录。"}


@pytest.mark.parametrize("role", ["supplier", "evaluator", "admin"])
def test_other_roles_are_refused(client, world, signed_in, role):
    signed_in(role)
    for path in ["/api/projects", f"/api/projects/{world.projects['care'].id}", "/api/due"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "角色" in response.json()["detail"]


def test_a_purchaser_lists_and_reads_only_its_own_department(client, world):
    sign_in(client, world.civil_purchaser)
    assert ids(client.get("/api/projects")) == world.ids("care", "meals", "social")
    # Asking for the other department shows nothing rather than its projects.
    assert ids(client.get(f"/api/projects?department_id={world.city.id}")) == set()
    response = client.get(f"/api/projects/{world.projects['streets'].id}")
    assert response.status_code == 404
    assert response.json()["detail"]
    assert client.get(f"/api/projects/{world.projects['meals'].id}").status_code == 200
    due = client.get("/api/due").json()
    assert {i["department_id"] for i in due["items"]} == {world.civil.id}


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_finance_and_auditors_see_every_department(client, world, signed_in, role):
    signed_in(role)
    assert ids(client.get("/api/projects")) == {p.id for p in world.projects.values()}
    assert client.get(f"/api/projects/{world.projects['streets'].id}").status_code == 200
    kinds = {(i["kind"], i["project_id"]) for i in client.get("/api/due").json()["items"]}
    assert ("approval", world.projects["social"].id) in kinds
    assert ("publication", world.projects["care"].id) in kinds


@pytest.mark.parametrize("query, expected", [
    ("year=2025", {"social"}),
    ("year=2026&department_id={city}", {"streets", "green", "toilets"}),
    ("category=A05", {"care", "meals"}),
    ("category=d", {"streets", "green", "toilets"}),
    ("category=D0201", {"streets"}),
    ("method=public_tender", {"care", "streets"}),
    ("status=ready", {"meals", "green"}),
    ("status=returned", {"toilets"}),
    ("status=contracted", {"care"}),
    ("min_yuan=1000000", {"care", "social", "streets", "toilets"}),
    ("min_yuan=0&max_yuan=680000", {"meals", "green"}),
    ("min_yuan=680000&max_yuan=1,250,000", {"meals", "social", "toilets"}),
    ("min_yuan=1000000&method=competitive_consultation&year=2025", {"social"}),
    ("q=老", {"care", "meals"}),
])
def test_filters(client, world, query, expected):
    sign_in(client, world.finance)
    query = query.format(city=world.city.id)
    assert ids(client.get(f"/api/projects?{query}")) == world.ids(*expected), query


@pytest.mark.parametrize("query, field, words", [
    ("min_yuan=abc", "min_yuan", "金额"),
    ("min_yuan=2000000&max_yuan=1000000", "max_yuan", "下限"),
    ("category=a9", "category", "目录编码"),
    ("status=paid", "status", "状态"),
    ("method=lottery", "method", "采购方式"),
    ("year=26", "year", "年度"),
])
def test_a_bad_filter_is_refused_naming_it(client, world, query, field, words):
    sign_in(client, world.finance)
    response = client.get(f"/api/projects?{query}")
    assert response.status_code == 422
    assert words in response.json()["errors"][field]


def test_paging_and_sorting(client, world):
    sign_in(client, world.finance)
    by_budget = [p.id for p in sorted(world.projects.values(), key=lambda p: p.budget_fen)]
    first = client.get("/api/projects?sort=budget&per_page=4").json()
    second = client.get("/api/projects?sort=budget&per_page=4&page=2").json()
    assert (first["total"], first["pages"], first["page"], first["sort"]) == (6, 2, 1, "budget")
    assert [i["id"] for i in first["items"] + second["items"]] == by_budget
    descending = client.get("/api/projects?sort=-budget&per_page=1").json()
    assert descending["items"][0]["id"] == world.projects["streets"].id
    statuses = [i["status"] for i in client.get("/api/projects?sort=status").json()["items"]]
    assert statuses == ["awaiting_approval", "returned", "approved", "ready", "ready",
                        "contracted"]
    methods = [i["procurement_method"] for i in
               client.get("/api/projects?sort=-method&per_page=1").json()["items"]]
    assert methods == ["single_source"]


def test_a_project_with_its_contract_and_instalments_in_fen_and_yuan(client, world):
    sign_in(client, world.civil_purchaser)
    body = client.get(f"/api/projects/{world.projects['care'].id}").json()
    assert body["budget_fen"] == 186_000_000 and body["budget_yuan"] == "1860000.00"
    assert body["catalogue_path"] == ["A 基本公共服务", "A05 养老", "A0501 居家养老上门服务"]
    assert body["status"] == "contracted" and body["department_name"] == "临江市民政局"
    contract = body["contract"]
    assert contract["amount_fen"] == 180_000_001 and contract["amount_yuan"] == "1800000.01"
    assert contract["supplier_name"] == "临江市福康居家养老服务中心"
    assert contract["payment_days"] == 30
    instalments = contract["instalments"]
    assert [(i["seq"], i["amount_fen"], i["amount_yuan"], i["due_condition"])
            for i in instalments] == [
        (1, 54_000_000, "540000.00", "on_signing"),
        (2, 54_000_000, "540000.00", "after_interim"),
        (3, 72_000_001, "720000.01", "after_final")]
    assert sum(i["amount_fen"] for i in instalments) == contract["amount_fen"]
    assert all(isinstance(i["amount_fen"], int) for i in instalments)
    assert client.get(f"/api/projects/{world.projects['meals'].id}").json()["contract"] is None


def test_the_openapi_document_describes_the_endpoints(client):
    document = client.get("/api/openapi.json").json()
    assert {"/api/projects", "/api/projects/{project_id}", "/api/due"} <= set(document["paths"])
    due = document["paths"]["/api/due"]["get"]
    assert {p["name"] for p in due["parameters"]} == {"sort", "page", "per_page"}
    assert set(due["responses"]) >= {"200", "401", "403", "422"}
    assert {"today", "late", "items", "total", "page", "pages", "per_page", "sort"} \
        <= set(document["components"]["schemas"]["DueListOut"]["properties"])
    parameters = {p["name"] for p in document["paths"]["/api/projects"]["get"]["parameters"]}
    assert {"year", "department_id", "category", "method", "status", "min_yuan", "max_yuan",
            "page", "per_page", "sort"} <= parameters
    schemas = document["components"]["schemas"]
    assert schemas["ContractOut"]["properties"]["amount_fen"]["type"] == "integer"
    assert schemas["InstalmentOut"]["properties"]["amount_yuan"]["type"] == "string"


def test_the_due_list_sorts_by_the_pages_keys_and_refuses_an_unknown_one(client, world):
    sign_in(client, world.finance)
    own = client.get("/api/due").json()
    assert own["sort"] == "" and len(own["items"]) >= 3
    for sort in ("due", "-due", "late", "-late", "project", "-project", "department"):
        listed = client.get(f"/api/due?sort={sort}").json()
        assert listed["sort"] == sort
        key = {"due": "due", "late": "late_days", "project": "project_name",
               "department": "department_name"}[sort.lstrip("-")]
        values = [i[key] for i in listed["items"] if i[key] is not None]
        assert values == sorted(values, reverse=sort.startswith("-")), sort
        assert sorted(map(str, listed["items"])) == sorted(map(str, own["items"]))
        # items without a value (e.g. no due date) come last either way, as on the page
        blanks = [i[key] is None for i in listed["items"]]
        assert blanks == sorted(blanks), sort
    for bad in ("bogus", "-amount", "-"):
        response = client.get(f"/api/due?sort={bad}")
        assert response.status_code == 422, bad
        message = response.json()["errors"]["sort"]
        assert "排序" in message and "due" in message and "late" in message


def test_the_due_list_is_paged_as_every_list_and_counts_the_late_items_of_all_pages(client,
                                                                                    world):
    sign_in(client, world.finance)
    whole = client.get("/api/due?sort=due").json()
    assert whole["total"] == len(whole["items"]) >= 3
    assert (whole["page"], whole["pages"], whole["per_page"]) == (1, 1, 20)
    late = sum(1 for i in whole["items"] if i["late_days"] > 0)
    assert whole["late"] == late
    pages = [client.get(f"/api/due?sort=due&per_page=2&page={n}").json()
             for n in range(1, (whole["total"] + 1) // 2 + 1)]
    assert all(len(p["items"]) <= 2 for p in pages)
    assert all((p["total"], p["pages"], p["per_page"], p["sort"], p["late"], p["today"])
               == (whole["total"], len(pages), 2, "due", late, whole["today"]) for p in pages)
    assert [p["page"] for p in pages] == list(range(1, len(pages) + 1))
    # the pages, one after the other, are the whole list in its order
    assert [i for p in pages for i in p["items"]] == whole["items"]
    past = client.get(f"/api/due?per_page=2&page={len(pages) + 1}")
    assert past.status_code == 422
    assert set(past.json()["errors"]) == {"page"}
    assert f"1 至 {len(pages)}" in past.json()["errors"]["page"]
    for query, field in (("page=0", "page"), ("per_page=0", "per_page"),
                         ("per_page=201", "per_page"), ("page=x", "page"),
                         ("sort=amount", "sort")):
        response = client.get(f"/api/due?{query}")
        assert response.status_code == 422, query
        assert set(response.json()["errors"]) == {field}, query


def test_the_due_page_lists_the_same_page_as_the_api_and_still_forgives_a_stale_link(client,
                                                                                       world):
    import re

    sign_in(client, world.finance)

    def rows(html: str) -> list[str]:
        return re.findall(r'<td data-label="项目">([^<]*)</td>', html)

    for number in (1, 2):
        api = client.get(f"/api/due?sort=-project&per_page=2&page={number}").json()
        page = client.get(f"/due?sort=-project&per_page=2&page={number}")
        assert page.status_code == 200 and api["items"]
        assert rows(page.text) == [i["project_name"] for i in api["items"]], number
    # what the API refuses, the page forgives: its own order, the last page
    stale = client.get("/due?sort=bogus&per_page=2&page=999")
    assert stale.status_code == 200 and len(rows(stale.text)) >= 1


def test_moments_carry_their_offset(client, world, signed_in):
    """SQLite hands timestamps back without an offset; the API said 2026-11-24T16:00:00, which
    a program reads as its own local time. Every moment is UTC, with its offset."""
    from datetime import UTC, datetime

    sign_in(client, world.finance)
    items = client.get("/api/projects").json()["items"]
    detail = client.get(f"/api/projects/{world.projects['care'].id}").json()
    moments = [i["created_at"] for i in items] + [detail["created_at"]]
    assert moments
    for moment in moments:
        assert datetime.fromisoformat(moment).utcoffset() is not None, moment
    created = datetime.fromisoformat(items[0]["created_at"])
    assert abs((datetime.now(UTC) - created).total_seconds()) < 3600  # read as UTC, not local
    client.cookies.clear()
    signed_in("admin")
    users = client.get("/api/users?sort=-last_login_at").json()["items"]
    # the latest sign-in first, on PostgreSQL as on SQLite; who never signed in comes last
    assert datetime.fromisoformat(users[0]["last_login_at"]).utcoffset().total_seconds() == 0
    assert users[-1]["last_login_at"] is None
