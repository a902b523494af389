"""Signing in and out, the session cookie, and the per-account throttle."""

import pytest
from sqlmodel import select

from evalplatform.models import AuditEntry, ThrottleCounter
from evalplatform.services import accounts
from evalplatform.services.errors import Throttled, ValidationFailed
from evalplatform.settings import get_settings
from tests.conftest import PASSWORD, csrf_from, login


def test_sign_in_sets_a_signed_httponly_lax_cookie(client, make_user):
    user = make_user("finance")
    response = login(client, user.username)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "evalplatform_session=" in cookie
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert client.get("/api/me").json()["username"] == user.username


def test_wrong_password_is_refused_with_a_message_naming_the_field(client, make_user):
    user = make_user("finance")
    response = login(client, user.username, "wrong-password")
    assert response.status_code == 422
    assert "用户名或密码不正确" in response.text
    assert 'id="e-password"' in response.text
    assert client.get("/api/me").status_code == 401


def test_an_empty_form_asks_for_what_is_missing_and_counts_no_failure(client, make_user, db):
    user = make_user("finance")
    token = csrf_from(client, "/login")
    page = client.post("/login", data={"username": "", "password": "", "csrf_token": token})
    assert page.status_code == 422
    assert "请输入用户名" in page.text and "请输入密码" in page.text
    assert "用户名或密码不正确" not in page.text
    page = client.post("/login", data={"username": user.username, "password": "",
                                       "csrf_token": token})
    assert "请输入密码" in page.text and "请输入用户名" not in page.text
    assert db.exec(select(ThrottleCounter)).all() == []  # nothing was tried


def test_five_failures_lock_the_account_even_for_the_right_password(client, make_user, db):
    user = make_user("purchaser")
    for _ in range(4):
        assert login(client, user.username, "nope-nope-nope").status_code == 422
    response = login(client, user.username, "nope-nope-nope")
    assert response.status_code == 429
    assert "登录失败次数过多" in response.text
    response = login(client, user.username)  # the right password, but locked
    assert response.status_code == 429
    assert client.get("/api/me").status_code == 401


def test_the_login_throttle_counts_each_account_apart(client, make_user, db):
    locked, other = make_user("purchaser"), make_user("purchaser")
    for _ in range(5):
        login(client, locked.username, "nope-nope-nope")
    assert login(client, other.username).status_code == 303
    keys = {c.key for c in db.exec(select(ThrottleCounter)).all()}
    # the one account's count, and the address's (the test client's) over all accounts
    assert keys == {f"login:{locked.username}", "login-address:testclient"}


def test_success_clears_earlier_failures(client, make_user, db):
    user = make_user("supplier")
    login(client, user.username, "nope-nope-nope")
    assert login(client, user.username).status_code == 303
    db.expire_all()
    assert db.get(ThrottleCounter, f"login:{user.username}") is None


def test_sign_out_kills_the_old_cookie_even_if_replayed(client, make_user):
    user = make_user("auditor")
    login(client, user.username)
    stolen = dict(client.cookies)
    token = csrf_from(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    client.cookies.clear()
    client.cookies.update(stolen)
    assert client.get("/api/me").status_code == 401


def test_deactivating_a_user_ends_their_session(client, make_user, db):
    from evalplatform.services import accounts
    from evalplatform.services.audit import SYSTEM

    user = make_user("evaluator")
    login(client, user.username)
    assert client.get("/api/me").status_code == 200
    accounts.set_active(db, SYSTEM, user.id, False)
    assert client.get("/api/me").status_code == 401
    assert login(client, user.username).status_code == 422


def test_sign_in_is_audited(client, make_user, db):
    user = make_user("finance")
    login(client, user.username)
    actions = [e.action for e in db.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()]
    assert actions[-1] == "user.login"


def test_next_parameter_never_leads_off_site(client, make_user):
    user = make_user("finance")
    token = csrf_from(client, "/login")
    response = client.post("/login", data={"username": user.username,
                                           "password": "correct-horse-battery",
                                           "next": "//evil.example/", "csrf_token": token})
    assert response.headers["location"] == "/"


def test_changing_the_password_needs_the_current_one(client, signed_in):
    signed_in("supplier")
    token = csrf_from(client, "/account")
    response = client.post("/account/password", data={
        "current_password": "wrong", "new_password": "another-long-one",
        "confirm_password": "another-long-one", "csrf_token": token})
    assert response.status_code == 422
    assert "当前密码不正确" in response.text
    response = client.post("/account/password", data={
        "current_password": "correct-horse-battery", "new_password": "another-long-one",
        "confirm_password": "another-long-one", "csrf_token": token})
    assert response.status_code == 303
    assert client.get("/api/me").status_code == 200  # this session stays signed in


def test_a_program_signs_in_and_takes_the_sessions_csrf_token_from_api_me(client, make_user):
    """Signing in starts a fresh session with a fresh token; a program had to read it out of a
    page to send any state-changing request. /api/me gives it."""
    admin = make_user("admin")
    assert login(client, admin.username).status_code == 303
    token = client.get("/api/me").json()["csrf_token"]
    assert token and token == csrf_from(client, "/")
    body = {"username": "made-by-api", "display_name": "接口", "role": "admin",
            "password": "long-enough-pw"}
    assert client.post("/api/users", json=body, headers={"x-csrf-token": "wrong"}).status_code \
        == 403
    created = client.post("/api/users", json=body, headers={"x-csrf-token": token})
    assert created.status_code == 201, created.text


def test_a_program_signs_in_and_out_with_json_alone(client, make_user, db):
    """A program reads the session's CSRF token from GET /api/session, signs in with
    POST /api/session (no page to read), works with the new token, and signs out with
    DELETE /api/session."""
    admin = make_user("admin")
    state = client.get("/api/session").json()
    assert state["signed_in"] is False and state["csrf_token"]
    credentials = {"username": admin.username, "password": PASSWORD}
    assert client.post("/api/session", json=credentials).status_code == 403  # no token
    me = client.post("/api/session", json=credentials,
                     headers={"x-csrf-token": state["csrf_token"]})
    assert me.status_code == 200, me.text
    assert me.json()["username"] == admin.username and me.json()["role"] == "admin"
    token = me.json()["csrf_token"]
    assert token != state["csrf_token"]  # a fresh session
    assert client.get("/api/session").json() == {"signed_in": True, "csrf_token": token}
    created = client.post("/api/users", headers={"x-csrf-token": token}, json={
        "username": "made-by-program", "display_name": "接口", "role": "admin",
        "password": "long-enough-pw"})
    assert created.status_code == 201, created.text
    assert db.exec(select(AuditEntry).where(AuditEntry.action == "user.login")).first()
    assert client.delete("/api/session", headers={"x-csrf-token": token}).status_code == 204
    assert client.get("/api/me").status_code == 401


def test_a_wrong_password_over_json_names_the_field_and_locks_like_the_page(client, make_user):
    user = make_user("purchaser")
    token = client.get("/api/session").json()["csrf_token"]
    wrong = {"username": user.username, "password": "nope-nope-nope"}
    refused = client.post("/api/session", json=wrong, headers={"x-csrf-token": token})
    assert refused.status_code == 422
    assert "用户名或密码不正确" in refused.json()["errors"]["password"]
    for _ in range(4):
        refused = client.post("/api/session", json=wrong, headers={"x-csrf-token": token})
    assert refused.status_code == 429 and "登录失败次数过多" in refused.json()["detail"]
    right = {"username": user.username, "password": PASSWORD}
    assert client.post("/api/session", json=right,
                       headers={"x-csrf-token": token}).status_code == 429  # locked
    assert client.get("/api/me").status_code == 401


@pytest.fixture
def address_limit(monkeypatch):
    """At most 6 failed sign-ins from one address (30 by default)."""
    monkeypatch.setenv("EVAL_LOGIN_ADDRESS_MAX_FAILURES", "6")
    get_settings.cache_clear()
    yield 6
    monkeypatch.delenv("EVAL_LOGIN_ADDRESS_MAX_FAILURES")
    get_settings.cache_clear()


def test_guessing_across_accounts_locks_the_address_not_the_accounts(
        client, make_user, db, address_limit):
    """Password spraying: one guess at each of many accounts never reaches an account's
    limit, but the address's count over all of them does; the accounts stay usable from
    elsewhere."""
    users = [make_user("purchaser") for _ in range(address_limit + 1)]
    for user in users[:address_limit - 1]:
        assert login(client, user.username, "Spring2026!").status_code == 422
    response = login(client, users[address_limit - 1].username, "Spring2026!")
    assert response.status_code == 429
    assert "此网络地址登录失败次数过多" in response.text
    # the right password of an untouched account, from the locked address: refused unchecked
    assert login(client, users[-1].username).status_code == 429
    assert client.get("/api/me").status_code == 401
    # the JSON sign-in shares the lock
    token = csrf_from(client, "/login")
    refused = client.post("/api/session", json={"username": users[-1].username,
                                                "password": PASSWORD},
                          headers={"X-CSRF-Token": token})
    assert refused.status_code == 429 and "网络地址" in refused.json()["detail"]
    # no account was locked: each had one failure
    db.expire_all()
    counts = {c.key: c.count for c in db.exec(select(ThrottleCounter)).all()}
    assert counts["login-address:testclient"] == address_limit
    assert all(counts.get(f"login:{u.username}", 0) <= 1 for u in users)
    # from another address the same account signs in
    assert accounts.authenticate(db, users[0].username, PASSWORD,
                                 address="10.1.2.3").user.id == users[0].id


def test_a_success_does_not_clear_the_addresss_failures(db, make_user, address_limit):
    """One's own valid sign-in between guesses does not buy more guesses."""
    mine, target = make_user("supplier"), make_user("finance")
    for attempt in range(address_limit - 1):
        with pytest.raises(ValidationFailed):
            accounts.authenticate(db, f"nobody{attempt}", "guess-guess", address="10.9.9.9")
    assert accounts.authenticate(db, mine.username, PASSWORD, address="10.9.9.9").user == mine
    with pytest.raises(Throttled) as locked:
        accounts.authenticate(db, target.username, "guess-guess", address="10.9.9.9")
    assert "network address" in locked.value.message or "网络地址" in locked.value.message
    with pytest.raises(Throttled):
        accounts.authenticate(db, mine.username, PASSWORD, address="10.9.9.9")
    # other addresses are not affected, and without an address (the CLI) nothing changes
    assert accounts.authenticate(db, target.username, PASSWORD, address="10.9.9.8").user == target
    assert accounts.authenticate(db, target.username, PASSWORD).user == target
