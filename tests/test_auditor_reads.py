"""The auditor (纪检监察 / 审计) reads everything and changes nothing: the administrator's pages of
users and organisations open to the auditor, the holiday calendar to the auditor and finance
(whose deadlines count its working days), each without a write form; every write stays the
administrator's; no page shows a password hash or any other secret."""

import re

import pytest
from sqlmodel import select

from evalplatform.models import AuditEntry, Organisation, User
from tests.conftest import csrf_from

#: The forms every signed-in page has (the layout's): signing out and the language switch.
LAYOUT_FORMS = {"/logout", "/language"}
READ_ONLY = 'id="read-only"'


def post_forms(page: str) -> set[str]:
    """Where the page's POST forms (and htmx posts) send to."""
    forms = set(re.findall(r'<form[^>]*method="post"[^>]*action="([^"]+)"', page))
    return forms | set(re.findall(r'hx-post="([^"]+)"', page))


@pytest.fixture
def accounts_to_read(make_user, make_org):
    org = make_org("supplier", name="临江市洁美环境服务有限公司")
    user = make_user("supplier", username="jiemei", display_name="赵六", organisation=org)
    return user, org


def test_the_auditor_reads_users_and_organisations_without_a_write_form(
        client, signed_in, accounts_to_read, db):
    user, org = accounts_to_read
    signed_in("auditor")
    pages = {path: client.get(path) for path in (
        "/admin/users", f"/admin/users/{user.id}", "/admin/organisations",
        f"/admin/organisations/{org.id}", "/admin/holidays")}
    for path, response in pages.items():
        assert response.status_code == 200, path
        assert post_forms(response.text) <= LAYOUT_FORMS, (path, post_forms(response.text))
        assert READ_ONLY in response.text, path
    listing = pages["/admin/users"].text
    assert "jiemei" in listing and "赵六" in listing and "临江市洁美环境服务有限公司" in listing
    assert 'href="/admin/users/new"' not in listing and "停用" not in listing
    one = pages[f"/admin/users/{user.id}"].text
    assert "赵六" in one and "临江市洁美环境服务有限公司" in one and "重置密码" not in one
    assert org.credit_code in pages["/admin/organisations"].text
    assert org.credit_code in pages[f"/admin/organisations/{org.id}"].text
    assert "新建机构" not in pages["/admin/organisations"].text
    # the htmx table of users is read-only too
    table = client.get("/admin/users", params={"q": "jiemei"}, headers={"hx-request": "true"})
    assert table.status_code == 200 and "赵六" in table.text
    assert post_forms(table.text) == set()
    # no secret of any account, on any page
    hashes = [u.password_hash for u in db.exec(select(User)).all()]
    for path, response in pages.items():
        assert not any(h in response.text for h in hashes), path
        assert "password_hash" not in response.text and "argon2" not in response.text, path


def test_finance_reads_the_holiday_calendar_but_not_the_accounts(client, signed_in):
    signed_in("finance")
    calendar = client.get("/admin/holidays")
    assert calendar.status_code == 200 and READ_ONLY in calendar.text
    assert post_forms(calendar.text) <= LAYOUT_FORMS and 'name="schedule"' not in calendar.text
    for path in ("/admin/users", "/admin/organisations"):
        assert client.get(path).status_code == 403, path


@pytest.mark.parametrize("role", ["auditor", "finance"])
def test_every_write_of_the_admin_pages_stays_refused(client, signed_in, accounts_to_read, db,
                                                      role):
    user, org = accounts_to_read
    signed_in(role)
    token = csrf_from(client, "/admin/holidays")
    before = len(db.exec(select(AuditEntry)).all())
    assert client.get("/admin/users/new").status_code == 403
    for path, data in [
        ("/admin/users", {"username": "newbie", "display_name": "新人", "role": "auditor",
                          "password": "long-enough-pw"}),
        (f"/admin/users/{user.id}", {"display_name": "改名", "organisation_id": ""}),
        (f"/admin/users/{user.id}/active", {"active": "false"}),
        (f"/admin/users/{user.id}/password-reset", {"password": "temporary-pw-123"}),
        ("/admin/organisations", {"name": "新机构", "kind": "supplier"}),
        (f"/admin/organisations/{org.id}", {"name": "改名"}),
        ("/admin/holidays", {"year": "2030", "schedule": "2030-01-01 休 元旦"}),
    ]:
        response = client.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 403, path
        assert "您的角色无权访问此页面" in response.text, path
    db.expire_all()
    assert (db.get(User, user.id).display_name, db.get(User, user.id).active) == ("赵六", True)
    assert db.get(Organisation, org.id).name == "临江市洁美环境服务有限公司"
    assert len(db.exec(select(AuditEntry)).all()) == before  # nothing done, nothing logged


def test_the_administrator_still_has_every_form(client, signed_in, accounts_to_read):
    user, org = accounts_to_read
    signed_in("admin")
    expected = {"/admin/users": {f"/admin/users/{user.id}/active"},
                f"/admin/users/{user.id}": {f"/admin/users/{user.id}",
                                            f"/admin/users/{user.id}/password-reset"},
                "/admin/organisations": {"/admin/organisations"},
                f"/admin/organisations/{org.id}": {f"/admin/organisations/{org.id}"},
                "/admin/holidays": {"/admin/holidays"}}
    for path, forms in expected.items():
        page = client.get(path).text
        assert forms <= post_forms(page), path
        assert READ_ONLY not in page, path
    assert 'href="/admin/users/new"' in client.get("/admin/users").text


def test_the_auditor_reads_the_users_through_the_api_and_writes_none(
        client, signed_in, accounts_to_read, db):
    """GET /api/users answers the auditor as the users page does; every write stays refused."""
    user, _org = accounts_to_read
    signed_in("auditor")
    listing = client.get("/api/users", params={"q": "jiemei"})
    assert listing.status_code == 200
    assert [(u["username"], u["display_name"], u["organisation_name"])
            for u in listing.json()["items"]] == [("jiemei", "赵六", "临江市洁美环境服务有限公司")]
    assert "password_hash" not in listing.text
    before = len(db.exec(select(AuditEntry)).all())
    headers = {"X-CSRF-Token": csrf_from(client, "/")}  # refused for the role, not the token
    for response in (
            client.post("/api/users", headers=headers,
                        json={"username": "newbie", "display_name": "新人", "role": "auditor",
                              "password": "long-enough-pw"}),
            client.patch(f"/api/users/{user.id}", headers=headers, json={"display_name": "改名"}),
            client.post(f"/api/users/{user.id}/password-reset", headers=headers)):
        assert response.status_code == 403 and "角色" in response.json()["detail"], response.text
    db.expire_all()
    assert db.get(User, user.id).display_name == "赵六"
    assert len(db.exec(select(AuditEntry)).all()) == before
    client.cookies.clear()
    signed_in("finance")
    assert client.get("/api/users").status_code == 403  # finance reads the calendar only
