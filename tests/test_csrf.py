"""Every state-changing request needs the session's CSRF token; without it nothing changes."""

from sqlalchemy import func
from sqlmodel import select

from evalplatform.models import Organisation
from evalplatform.services.demo import credit_code
from tests.conftest import csrf_from

CODE = credit_code("52", "10000001")  # a supplier is registered with its credit code


def _org_count(db):
    return db.exec(select(func.count()).select_from(Organisation)).one()


def test_post_without_token_is_refused_and_changes_nothing(client, signed_in, db):
    signed_in("admin")
    before = _org_count(db)
    response = client.post("/admin/organisations", data={"name": "某某局", "kind": "supplier"})
    assert response.status_code == 403
    assert "表单已过期或并非来自本站" in response.text
    assert _org_count(db) == before


def test_post_with_a_wrong_token_is_refused(client, signed_in, db):
    signed_in("admin")
    before = _org_count(db)
    response = client.post("/admin/organisations",
                           data={"name": "某某局", "kind": "supplier", "csrf_token": "forged"})
    assert response.status_code == 403
    assert _org_count(db) == before
    # the refusal is read by the signed-in user, with their menu, not a visitor's
    assert 'action="/logout"' in response.text and 'href="/login"' not in response.text


def test_form_token_lets_the_post_through(client, signed_in, db):
    signed_in("admin")
    token = csrf_from(client, "/admin/organisations")
    response = client.post("/admin/organisations",
                           data={"name": "临江市某某服务社", "kind": "supplier",
                                 "credit_code": CODE, "csrf_token": token})
    assert response.status_code == 303
    assert db.exec(select(Organisation).where(Organisation.name == "临江市某某服务社")).one()


def test_htmx_header_token_lets_the_post_through(client, signed_in):
    signed_in("admin")
    token = csrf_from(client, "/admin/organisations")
    response = client.post("/admin/organisations", data={"name": "甲", "kind": "supplier",
                                                      "credit_code": CODE},
                           headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/admin/organisations"


def test_json_api_post_needs_the_header_token(client, signed_in, db):
    signed_in("admin")
    body = {"username": "newbie", "display_name": "新用户", "role": "admin",
            "password": "long-enough-pass"}
    assert client.post("/api/users", json=body).status_code == 403
    token = csrf_from(client, "/")
    response = client.post("/api/users", json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 201, response.text
    assert response.json()["username"] == "newbie"


def test_login_itself_needs_the_token(client, make_user):
    user = make_user("finance")
    response = client.post("/login", data={"username": user.username,
                                           "password": "correct-horse-battery"})
    assert response.status_code == 403
    assert client.get("/api/me").status_code == 401


def test_a_signed_out_api_write_is_told_to_sign_in_not_that_its_token_is_wrong(client, db):
    """A program that has not signed in learns what to do (401), whatever it sends; signing in
    itself still needs the token, and a signed-in session still needs it on every write."""
    before = _org_count(db)
    for path in ("/api/users", "/api/contracts/1/settlements", "/api/settlements/1/approve"):
        response = client.post(path, json={"username": "x"})
        assert response.status_code == 401, path
        assert response.json() == {"detail": "请先登录。"}
    assert client.delete("/api/session").status_code == 401
    assert client.post("/api/session", json={"username": "x", "password": "y"}).status_code == 403
    assert _org_count(db) == before
