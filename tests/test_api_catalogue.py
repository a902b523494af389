"""The JSON API of the guiding catalogue, its issues and the negative list: the pages' readers
(401, 403), the same entries, dates and terms the pages show, filters and paging refused in
Chinese naming the parameter, and nothing written by reading."""

from __future__ import annotations

import re

import pytest
from sqlmodel import func, select

from evalplatform.models import AuditEntry, CatalogueEntry, NegativeKind
from evalplatform.services import catalogue
from evalplatform.services.audit import Actor
from tests.conftest import login

#: each endpoint and the page that shows the same
PAGES = {"/api/catalogue": "/catalogue", "/api/catalogue/issues": "/catalogue",
         "/api/negative-list": "/negative-list"}
PATHS = list(PAGES)


@pytest.fixture
def finance(db, make_user):
    catalogue.seed(db)
    return make_user("finance")


def sign_in(client, user) -> None:
    client.cookies.clear()
    assert login(client, user.username).status_code == 303


def audit_count(db) -> int:
    return db.exec(select(func.count()).select_from(AuditEntry)).one()


@pytest.mark.parametrize("path", PATHS)
def test_without_sign_in_the_api_answers_401_in_json(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.json() == {"detail": "请先登录。"}


@pytest.mark.parametrize("role", ["supplier", "evaluator", "admin"])
def test_roles_without_the_catalogue_pages_are_refused(client, finance, signed_in, role):
    signed_in(role)
    for path in PATHS:
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.json()["detail"] == "您的角色无权使用此接口。"
        assert client.get(PAGES[path]).status_code == 403  # as the page


@pytest.mark.parametrize("role", ["finance", "purchaser", "auditor"])
def test_the_catalogue_is_the_pages_entries_by_code_with_level_and_parent(
        client, db, finance, make_user, role):
    withdrawn = catalogue.save_entry(db, Actor(finance.id, finance.username), code="A0103",
                                     name="校外培训监管辅助", active=False)
    sign_in(client, finance if role == "finance" else make_user(role))
    before = audit_count(db)
    body = client.get("/api/catalogue?per_page=200").json()
    assert body["total"] == db.exec(select(func.count()).select_from(CatalogueEntry)).one() == 66
    assert (body["page"], body["pages"], body["per_page"], body["sort"]) == (1, 1, 200, "")
    items = body["items"]
    page = client.get("/catalogue").text
    table = page[page.index('id="catalogue"'):]
    shown = re.findall(r"<code>([A-Z0-9]+)</code></td>\s*<td[^>]*>([^<]+)", table)
    assert [(i["code"], i["name"]) for i in items] == [(c, n.strip()) for c, n in shown]
    by_code = {i["code"]: i for i in items}
    assert by_code["A"] == {"id": by_code["A"]["id"], "code": "A", "name": "基本公共服务",
                            "level": 1, "parent_id": None, "parent_code": None,
                            "description": "", "active": True}
    assert (by_code["A05"]["level"], by_code["A05"]["parent_code"]) == (2, "A")
    assert by_code["A0501"]["parent_id"] == by_code["A05"]["id"]
    assert (by_code["A0501"]["level"], by_code["A0501"]["name"]) == (3, "居家养老上门服务")
    assert by_code["A0103"]["active"] is False and by_code["A0103"]["id"] == withdrawn.id
    assert audit_count(db) == before  # reading writes nothing


def test_the_catalogue_filters_by_level_and_words_and_pages(client, finance):
    sign_in(client, finance)
    level1 = client.get("/api/catalogue?level=1").json()
    assert [i["code"] for i in level1["items"]] == ["A", "B", "C", "D", "E", "F"]
    care = client.get("/api/catalogue", params={"level": 3, "q": "养老"}).json()
    assert [i["code"] for i in care["items"]] == ["A0501", "A0503"]  # not 社区老年助餐 (A0502)
    by_code = client.get("/api/catalogue", params={"q": "d02"}).json()
    assert [i["code"] for i in by_code["items"]] == ["D02", "D0201", "D0202", "D0203"]
    every = [i["code"] for i in client.get("/api/catalogue?per_page=200").json()["items"]]
    second = client.get("/api/catalogue?per_page=20&page=2").json()
    assert (second["total"], second["pages"], len(second["items"])) == (65, 4, 20)
    assert [i["code"] for i in second["items"]] == every[20:40]
    assert client.get("/api/catalogue?q=没有这种服务").json()["total"] == 0


@pytest.mark.parametrize("query, field, message", [
    ("level=4", "level", "level须为以下之一：1, 2, 3。"),
    ("level=0", "level", "level须为以下之一：1, 2, 3。"),
    ("level=x", "level", "level须为整数。"),
    ("page=5", "page", "页码须在 1 至 4（末页）之间。"),
    ("per_page=0", "per_page", None),
    ("q=%00", "q", "q不得包含空字符（NUL）。"),
])
def test_a_bad_parameter_is_refused_naming_it_in_chinese(client, finance, query, field,
                                                         message):
    sign_in(client, finance)
    response = client.get(f"/api/catalogue?{query}")
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert set(errors) == {field}
    if message:
        assert errors[field] == message


def test_the_issues_say_when_to_publish_and_how_late_as_the_page_does(client, db, finance):
    actor = Actor(finance.id, finance.username)
    late = catalogue.record_issue(db, actor, year="2025", issued_on="2025-09-26")
    catalogue.record_publication(db, actor, late.id, "2025-10-20")  # 4 days after 16 October
    on_time = catalogue.record_issue(db, actor, year="2026", issued_on="2026-01-09")
    catalogue.record_publication(db, actor, on_time.id, "2026-01-21")
    sign_in(client, finance)
    before = audit_count(db)
    items = client.get("/api/catalogue/issues").json()["items"]
    assert [(i["year"], i["status"]) for i in items] == [(2026, "published"), (2025, "late")]
    assert items[1] == {"id": late.id, "year": 2025, "issued_on": "2025-09-26",
                        "publish_by": "2025-10-16", "publish_by_problem": None,
                        "published_on": "2025-10-20", "late_days": 4, "status": "late",
                        "status_label": "逾期 4 天"}
    assert (items[0]["late_days"], items[0]["status_label"]) == (0, "已公开")
    page = client.get("/catalogue").text
    rows = page[page.index('id="issues"'):page.index("</table>", page.index('id="issues"'))]
    for item in items:
        assert item["publish_by"] in rows and item["status_label"] in rows
    english = client.get("/api/catalogue/issues", headers={"Accept-Language": "en"}).json()
    assert english["items"][1]["status_label"] == "4 days late"
    assert audit_count(db) == before


def test_the_negative_list_gives_each_entry_its_kind_and_terms_as_the_page(client, db, finance,
                                                                         make_user):
    entry = next(e for e in catalogue.list_negative(db) if e.kind == NegativeKind.financing)
    catalogue.save_negative_terms(db, Actor(finance.id, finance.username), entry.id,
                                  "融资\n贷款\n借款+垫付")
    sign_in(client, make_user("purchaser"))
    items = client.get("/api/negative-list").json()["items"]
    assert [i["kind"] for i in items] == [k.value for k in NegativeKind]
    financing = next(i for i in items if i["id"] == entry.id)
    assert financing["terms"] == ["融资", "贷款", "借款+垫付"]
    assert (financing["kind_label"], financing["active"]) == ("融资行为", True)
    bundle = next(i for i in items if i["kind"] == "goods_and_works")
    assert "工程+打包" in bundle["terms"]
    page = client.get("/negative-list").text
    for item in items:
        shown = re.search(rf'data-testid="terms-{item["id"]}">([^<]*)<', page).group(1)
        assert shown == "、".join(item["terms"])
        assert f"<strong>{item['name']}</strong>" in page


def test_an_english_reader_gets_the_labels_in_english(client, finance):
    sign_in(client, finance)
    items = client.get("/api/negative-list", headers={"Accept-Language": "en"}).json()["items"]
    assert items[3]["kind_label"] == "Financing"
    refused = client.get("/api/catalogue?level=9", headers={"Accept-Language": "en"}).json()
    assert refused["errors"] == {"level": "level must be one of: 1, 2, 3."}


def test_the_catalogue_endpoints_are_listed_under_their_own_group(client):
    document = client.get("/api/openapi.json").json()
    for path in PATHS:
        operation = document["paths"][path]["get"]
        assert operation["tags"] == ["catalogue"]
        assert "(" in operation["summary"] and operation["description"]
