"""The JSON API of suppliers' standing: the standing pages' roles and visibility (401, 403,
404), the level with its reasons in words, paging and a bad parameter refused naming it."""

from __future__ import annotations

from datetime import date

import pytest

from tests.builders import contracted_world
from tests.conftest import login
from tests.settlement_builders import final_evaluation


@pytest.fixture
def world(db, make_user, make_org):
    return contracted_world(db, make_user, make_org)


def sign_in(client, user):
    client.cookies.clear()
    assert login(client, user.username).status_code == 303


@pytest.mark.parametrize("path", ["/api/standing", "/api/standing/1"])
def test_without_sign_in_the_api_answers_401_in_json(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.json() == {"detail": "请先登录。"}


@pytest.mark.parametrize("role", ["admin", "evaluator"])
def test_roles_without_the_standing_pages_are_refused(client, world, signed_in, role):
    signed_in(role)
    for path in ["/api/standing", f"/api/standing/{world.supplier.id}"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "角色" in response.json()["detail"]


def test_finance_sees_a_barred_supplier_with_the_reason_in_words(client, db, world):
    final_evaluation(db, world, "58.20", "差", final_on=date(2026, 7, 20))
    sign_in(client, world.finance)
    listed = client.get("/api/standing").json()
    item = next(i for i in listed["items"] if i["supplier_id"] == world.supplier.id)
    assert item["level"] == "barred" and item["barred_until"] == "2027-12-31"
    assert "58.20" in item["reasons"][0]
    assert listed["page"] == 1 and listed["total"] == len(listed["items"])
    one = client.get(f"/api/standing/{world.supplier.id}").json()
    assert one == item
    barred = client.get("/api/standing?level=barred").json()
    assert [i["supplier_id"] for i in barred["items"]] == [world.supplier.id]
    assert client.get("/api/standing?level=preferred").json()["total"] == 0


def test_a_supplier_sees_only_its_own_standing(client, db, world, make_user, make_org):
    other = contracted_world(db, make_user, make_org, n=2)
    sign_in(client, world.supplier_user)
    listed = client.get("/api/standing").json()
    assert [i["supplier_id"] for i in listed["items"]] == [world.supplier.id]
    assert client.get(f"/api/standing/{world.supplier.id}").status_code == 200
    # another supplier's standing is not found, as on the page
    response = client.get(f"/api/standing/{other.supplier.id}")
    assert response.status_code == 404
    assert client.get(f"/standing/{other.supplier.id}").status_code == 404
    assert str(other.supplier.id) not in response.text and other.supplier.name not in response.text


def test_an_unknown_supplier_is_404(client, world):
    sign_in(client, world.purchaser)
    response = client.get(f"/api/standing/{world.department.id}")  # not a supplier
    assert response.status_code == 404
    assert response.json() == {"detail": "该承接主体不存在。"}


@pytest.mark.parametrize("query, name", [("level=excellent", "level"), ("page=0", "page"),
                                         ("page=9", "page"), ("per_page=abc", "per_page")])
def test_a_bad_parameter_is_refused_naming_it(client, world, query, name):
    sign_in(client, world.finance)
    response = client.get(f"/api/standing?{query}")
    assert response.status_code == 422, query
    assert name in response.text


def test_the_openapi_document_describes_the_standing(client):
    document = client.get("/api/openapi.json").json()
    assert "/api/standing" in document["paths"]
    assert "/api/standing/{supplier_id}" in document["paths"]
    assert "StandingOut" in document["components"]["schemas"]


def test_an_unknown_level_is_refused_in_the_users_language_with_the_values(client, world):
    sign_in(client, world.finance)
    response = client.get("/api/standing?level=bared")
    assert response.status_code == 422
    assert response.json()["errors"]["level"].startswith("请从以下承接主体等级中选择")
    assert "barred" in response.json()["errors"]["level"]


def test_a_provisional_result_counts_only_once_its_appeal_window_has_closed(
        client, db, world, monkeypatch):
    """A 差 result under publication does not count; once its window has closed with no appeal
    it bars, though no results page has loaded since to mark it final."""
    from evalplatform.services import projects
    from tests.test_standing import published_evaluation

    published_evaluation(db, world, "55.00", "差", date(2026, 7, 10))
    sign_in(client, world.supplier_user)
    monkeypatch.setattr(projects, "today", lambda: date(2026, 7, 10))  # the last day to appeal
    own = client.get(f"/api/standing/{world.supplier.id}").json()
    assert own["level"] == "unrated" and own["barred_until"] is None
    monkeypatch.setattr(projects, "today", lambda: date(2026, 7, 11))
    own = client.get(f"/api/standing/{world.supplier.id}").json()
    assert own["level"] == "barred" and own["barred_until"] == "2027-12-31"
    assert "55.00" in own["reasons"][0] and "2026-07-11" in own["reasons"][0]
    assert client.get("/api/standing?level=barred").json()["total"] == 1
