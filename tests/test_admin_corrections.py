"""The administrator helps a user who forgot the password (a temporary one, changed at the next
sign-in before anything else) and corrects users' and organisations' details: the same rules
as at creation, each refusal naming the field and changing nothing, each change audited."""

import json
import re

import pytest
from sqlalchemy import func
from sqlmodel import select

from evalplatform.models import AuditEntry, Organisation, User
from evalplatform.security import verify_password
from evalplatform.services import accounts
from evalplatform.services.audit import SYSTEM, Actor
from evalplatform.services.demo import credit_code
from evalplatform.services.errors import NotFound, ValidationFailed
from tests.conftest import PASSWORD, csrf_from, login
from tests.test_punctuation import label_colons, spaced_parentheses

TEMPORARY = "temporary-pw-2026"
CHOSEN = "my-own-new-password"


def _entries(db, action=None):
    statement = select(AuditEntry).order_by(AuditEntry.seq)
    if action:
        statement = statement.where(AuditEntry.action == action)
    return list(db.exec(statement).all())


def _count(db, model):
    return db.exec(select(func.count()).select_from(model)).one()


def _admin_actor(admin):
    return Actor(admin.id, admin.username)


def _fresh(db, user):
    db.expire_all()
    return db.get(User, user.id)


# ---------------------------------------------------------------- the reset, as a service


def test_a_reset_sets_the_temporary_password_ends_sessions_and_is_audited_without_it(
        db, make_user):
    admin, user = make_user("admin"), make_user("purchaser")
    epoch = user.session_epoch
    reset = accounts.reset_password(db, _admin_actor(admin), user.id, TEMPORARY)
    assert reset.generated is None  # typed by the administrator: nothing to show
    user = _fresh(db, user)
    assert user.must_change_password is True
    assert user.session_epoch == epoch + 1  # every open session of the account ends
    assert verify_password(user.password_hash, TEMPORARY)
    assert not verify_password(user.password_hash, PASSWORD)
    [entry] = _entries(db, "user.password_reset")
    assert (entry.actor_id, entry.entity_type, entry.entity_id) == (admin.id, "user", str(user.id))
    assert json.loads(entry.change) == {"generated": False, "must_change_password": True}
    assert not any(TEMPORARY in e.change for e in _entries(db))  # never in clear


def test_a_reset_without_a_password_generates_one_with_secrets_shown_once(
        db, make_user, monkeypatch):
    admin, user = make_user("admin"), make_user("supplier")
    reset = accounts.reset_password(db, _admin_actor(admin), user.id)
    assert re.fullmatch(r"[A-Za-z2-9]{4}-[A-Za-z2-9]{4}-[A-Za-z2-9]{4}", reset.generated)
    assert not set(reset.generated) & set("0O1lI")  # nothing to misread
    assert accounts.validate_password(reset.generated) is None
    assert verify_password(_fresh(db, user).password_hash, reset.generated)
    [entry] = _entries(db, "user.password_reset")
    assert json.loads(entry.change)["generated"] is True
    assert reset.generated not in entry.change
    # the characters come from the secrets module, not from a predictable generator
    monkeypatch.setattr(accounts.secrets, "choice", lambda chars: chars[-1])
    assert accounts.generate_temporary_password() == "9999-9999-9999"


def test_a_reset_is_refused_for_a_short_password_or_the_admins_own_account(db, make_user):
    admin, user = make_user("admin"), make_user("finance")
    before = (user.password_hash, user.session_epoch, len(_entries(db)))
    with pytest.raises(ValidationFailed) as short:
        accounts.reset_password(db, _admin_actor(admin), user.id, "short")
    assert short.value.errors == {"password": "密码至少需要 10 个字符。"}
    with pytest.raises(ValidationFailed) as own:
        accounts.reset_password(db, _admin_actor(admin), admin.id, TEMPORARY)
    assert "我的账户" in own.value.errors["user"]
    with pytest.raises(NotFound):
        accounts.reset_password(db, _admin_actor(admin), 987654, TEMPORARY)
    user = _fresh(db, user)
    assert (user.password_hash, user.session_epoch, len(_entries(db))) == before
    assert not user.must_change_password and not _fresh(db, admin).must_change_password


def test_the_forced_change_refuses_the_temporary_password_then_lifts_the_demand(db, make_user):
    admin, user = make_user("admin"), make_user("evaluator")
    accounts.reset_password(db, _admin_actor(admin), user.id, TEMPORARY)
    me = Actor(user.id, user.username)
    with pytest.raises(ValidationFailed) as same:
        accounts.change_own_password(db, me, user.id, TEMPORARY, TEMPORARY, TEMPORARY)
    assert "临时密码" in same.value.errors["new_password"]
    assert _fresh(db, user).must_change_password
    epoch = _fresh(db, user).session_epoch
    accounts.change_own_password(db, me, user.id, TEMPORARY, CHOSEN, CHOSEN)
    user = _fresh(db, user)
    assert not user.must_change_password and user.session_epoch == epoch + 1
    assert json.loads(_entries(db, "user.password")[-1].change) == {"after_reset": True}
    # an ordinary change later is no longer "after a reset"
    accounts.change_own_password(db, me, user.id, CHOSEN, "yet-another-password",
                                 "yet-another-password")
    assert json.loads(_entries(db, "user.password")[-1].change) == {}


# ---------------------------------------------------------------- correcting a user


def test_a_users_name_and_organisation_are_corrected_and_audited_before_and_after(
        db, make_user, make_org):
    admin = make_user("admin")
    old_dept = make_org("purchasing_department", name="市民政局")
    new_dept = make_org("purchasing_department", name="市卫生健康委")
    user = make_user("purchaser", organisation=old_dept, display_name="张丽")
    accounts.update_user(db, _admin_actor(admin), user.id, display_name="  张莉 ",
                         organisation_id=str(new_dept.id))
    user = _fresh(db, user)
    assert (user.display_name, user.organisation_id) == ("张莉", new_dept.id)
    [entry] = _entries(db, "user.update")
    assert json.loads(entry.change) == {
        "before": {"display_name": "张丽", "organisation_id": old_dept.id,
                   "organisation": "市民政局"},
        "after": {"display_name": "张莉", "organisation_id": new_dept.id,
                  "organisation": "市卫生健康委"}}
    # the same values again: nothing to record
    accounts.update_user(db, _admin_actor(admin), user.id, display_name="张莉",
                         organisation_id=new_dept.id)
    assert len(_entries(db, "user.update")) == 1


def test_a_users_organisation_follows_the_rules_of_the_role_and_the_role_stays(
        db, make_user, make_org):
    admin = make_user("admin")
    user = make_user("purchaser", display_name="张丽")
    supplier = make_org("supplier")
    before = (user.display_name, user.organisation_id, user.role, len(_entries(db)))
    with pytest.raises(ValidationFailed) as refused:
        accounts.update_user(db, _admin_actor(admin), user.id, display_name="",
                             organisation_id=supplier.id, role="finance")
    assert refused.value.errors == {
        "display_name": "请填写名称。",
        "organisation_id": "该角色的用户必须属于：购买主体。",
        "role": accounts.role_is_fixed(),
    }
    assert "用户角色不可更改" in refused.value.errors["role"]
    with pytest.raises(ValidationFailed) as none:
        accounts.update_user(db, _admin_actor(admin), user.id, organisation_id=None)
    assert list(none.value.errors) == ["organisation_id"]
    with pytest.raises(ValidationFailed) as unknown:
        accounts.update_user(db, _admin_actor(admin), user.id, organisation_id=987654)
    assert unknown.value.errors == {"organisation_id": "请选择已登记的机构。"}
    with pytest.raises(ValidationFailed) as long_name:
        accounts.update_user(db, _admin_actor(admin), user.id, display_name="名" * 101)
    assert list(long_name.value.errors) == ["display_name"]
    user = _fresh(db, user)
    assert (user.display_name, user.organisation_id, user.role, len(_entries(db))) == before
    # an evaluator may leave its firm and work alone: the role allows no organisation
    expert = make_user("evaluator")
    accounts.update_user(db, _admin_actor(admin), expert.id, organisation_id=None)
    assert _fresh(db, expert).organisation_id is None


# ---------------------------------------------------------------- correcting an organisation


def test_an_organisation_is_renamed_and_its_code_corrected_under_the_rules_of_a_new_one(
        db, make_user, make_org):
    admin = make_user("admin")
    taken = make_org("supplier", name="乐龄服务社")
    org = make_org("supplier", name="夕阳红服务中心")
    old_code = org.credit_code
    before = len(_entries(db))
    for changes, field, message in [
        ({"name": "乐龄服务社", "credit_code": old_code}, "name", "已有同名机构。"),
        ({"name": "", "credit_code": old_code}, "name", "请填写名称。"),
        ({"name": "夕阳红", "credit_code": taken.credit_code}, "credit_code",
         "该统一社会信用代码已登记。"),
        ({"name": "夕阳红", "credit_code": "91110000600037341X"}, "credit_code",
         "统一社会信用代码应为 18 位，且末位校验码正确。"),
        ({"name": "夕阳红", "credit_code": ""}, "credit_code", None),
        ({"name": "夕阳红", "credit_code": old_code, "kind": "finance_bureau"}, "kind", None),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            accounts.update_organisation(db, _admin_actor(admin), org.id, **changes)
        assert list(refused.value.errors) == [field], changes
        if message:
            assert refused.value.errors[field] == message
    db.expire_all()
    assert (db.get(Organisation, org.id).name, len(_entries(db))) == ("夕阳红服务中心", before)
    # its own name and code are not "taken"
    accounts.update_organisation(db, _admin_actor(admin), org.id, name="夕阳红服务中心",
                                 credit_code=old_code.lower(), kind="supplier")
    assert len(_entries(db)) == before
    accounts.update_organisation(db, _admin_actor(admin), org.id, name="夕阳红养老服务中心",
                                 credit_code=old_code)
    [entry] = _entries(db, "organisation.update")
    assert json.loads(entry.change) == {"before": {"name": "夕阳红服务中心"},
                                        "after": {"name": "夕阳红养老服务中心"}}
    db.expire_all()
    assert db.get(Organisation, org.id).name == "夕阳红养老服务中心"


def test_a_state_organ_may_drop_its_code_and_the_kind_is_fixed(db, make_user, make_org):
    admin = make_user("admin")
    dept = make_org("purchasing_department", name="市民政局",
                    credit_code=credit_code("11", "00000001"))
    accounts.update_organisation(db, _admin_actor(admin), dept.id, name="市民政局",
                                 credit_code="")
    db.expire_all()
    assert db.get(Organisation, dept.id).credit_code is None
    [entry] = _entries(db, "organisation.update")
    assert json.loads(entry.change)["after"] == {"credit_code": None}
    with pytest.raises(ValidationFailed) as refused:
        accounts.update_organisation(db, _admin_actor(admin), dept.id, name="市民政局",
                                     kind="supplier")
    assert refused.value.errors == {"kind": accounts.kind_is_fixed()}
    assert "机构类型不可更改" in accounts.kind_is_fixed()
    with pytest.raises(NotFound):
        accounts.update_organisation(db, SYSTEM, 987654, name="x")


# ---------------------------------------------------------------- the admin's pages


@pytest.mark.parametrize("role", ["finance", "purchaser", "evaluator", "supplier", "auditor"])
def test_only_the_admin_reaches_the_correction_pages(client, signed_in, make_user, make_org,
                                                      role, db):
    """Only the administrator corrects; the auditor reads the pages (without their forms:
    tests/test_auditor_reads.py), every other role is refused them."""
    target = make_user("supplier", display_name="李四")
    org = make_org("purchasing_department")
    signed_in(role)
    token = csrf_from(client, "/account")
    for method, path, data in [
        ("get", f"/admin/users/{target.id}", None),
        ("post", f"/admin/users/{target.id}", {"display_name": "改名", "organisation_id": ""}),
        ("post", f"/admin/users/{target.id}/password-reset", {"password": TEMPORARY}),
        ("get", f"/admin/organisations/{org.id}", None),
        ("post", f"/admin/organisations/{org.id}", {"name": "改名"}),
    ]:
        if data is None:
            response = client.get(path)
            if role == "auditor":  # reads everything, changes nothing
                assert response.status_code == 200, (method, path)
                continue
        else:
            response = client.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 403, (method, path)
        assert "您的角色无权访问此页面" in response.text
    for path, body in [(f"/api/users/{target.id}", {"display_name": "改名"})]:
        assert client.patch(path, json=body, headers={"x-csrf-token": token}).status_code == 403
    assert client.post(f"/api/users/{target.id}/password-reset", json={},
                       headers={"x-csrf-token": token}).status_code == 403
    target = _fresh(db, target)
    assert (target.display_name, target.must_change_password) == ("李四", False)
    assert _entries(db, "user.update") == [] and _entries(db, "user.password_reset") == []


def test_the_user_page_corrects_the_name_and_names_a_bad_field_in_chinese(
        client, signed_in, make_user, make_org, db):
    signed_in("admin")
    dept = make_org("purchasing_department", name="市民政局")
    make_org("supplier", name="乐龄服务社")
    user = make_user("purchaser", organisation=dept, display_name="张丽")
    page = client.get(f"/admin/users/{user.id}")
    assert page.status_code == 200
    assert "用户角色不可更改" in page.text  # the page says why the role is not offered
    assert "乐龄服务社" not in page.text  # only organisations the role may belong to
    assert label_colons(page.text) == [] and spaced_parentheses(page.text) == []
    assert f'href="/admin/users/{user.id}"' in client.get("/admin/users").text
    token = csrf_from(client, f"/admin/users/{user.id}")
    refused = client.post(f"/admin/users/{user.id}", data={
        "display_name": "", "organisation_id": str(dept.id), "csrf_token": token})
    assert refused.status_code == 422
    assert '<p class="error" id="e-display_name" role="alert">请填写名称。</p>' in refused.text
    assert _fresh(db, user).display_name == "张丽" and _entries(db, "user.update") == []
    saved = client.post(f"/admin/users/{user.id}", data={
        "display_name": "张莉", "organisation_id": str(dept.id), "csrf_token": token})
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/users"
    assert _fresh(db, user).display_name == "张莉"
    assert f"{user.username} 的信息已保存。" in client.get("/admin/users").text
    assert client.get("/admin/users/987654").status_code == 404


def test_the_organisation_page_corrects_the_name_and_says_the_kind_is_fixed(
        client, signed_in, make_org, db):
    signed_in("admin")
    make_org("supplier", name="乐龄服务社")
    org = make_org("supplier", name="夕阳红服务中心")
    page = client.get(f"/admin/organisations/{org.id}")
    assert page.status_code == 200 and "机构类型不可更改" in page.text
    assert 'name="kind"' not in page.text
    assert label_colons(page.text) == [] and spaced_parentheses(page.text) == []
    assert f'href="/admin/organisations/{org.id}"' in client.get("/admin/organisations").text
    token = csrf_from(client, f"/admin/organisations/{org.id}")
    refused = client.post(f"/admin/organisations/{org.id}", data={
        "name": "乐龄服务社", "credit_code": org.credit_code, "csrf_token": token})
    assert refused.status_code == 422
    assert 'id="e-name" role="alert">已有同名机构。' in refused.text
    assert 'value="乐龄服务社"' in refused.text  # what was typed is kept
    db.expire_all()
    assert db.get(Organisation, org.id).name == "夕阳红服务中心"
    saved = client.post(f"/admin/organisations/{org.id}", data={
        "name": "夕阳红养老服务中心", "credit_code": org.credit_code, "csrf_token": token})
    assert saved.status_code == 303
    db.expire_all()
    assert db.get(Organisation, org.id).name == "夕阳红养老服务中心"
    assert [e.action for e in _entries(db, "organisation.update")] == ["organisation.update"]


def test_the_admin_resets_a_password_on_the_page_and_sees_a_generated_one_once(
        client, signed_in, make_user, db):
    admin = signed_in("admin")
    user = make_user("supplier", display_name="李四")
    page = client.get(f"/admin/users/{user.id}").text
    assert 'id="password-reset-form"' in page
    assert 'id="password-reset-form"' not in client.get(f"/admin/users/{admin.id}").text
    token = csrf_from(client, f"/admin/users/{user.id}")
    short = client.post(f"/admin/users/{user.id}/password-reset",
                        data={"password": "short", "csrf_token": token})
    assert short.status_code == 422 and "密码至少需要 10 个字符。" in short.text
    assert not _fresh(db, user).must_change_password
    own = client.post(f"/admin/users/{admin.id}/password-reset",
                      data={"password": TEMPORARY, "csrf_token": token})
    assert own.status_code == 422 and "不能在此重置您自己的密码" in own.text
    done = client.post(f"/admin/users/{user.id}/password-reset",
                       data={"password": "", "csrf_token": token})
    assert done.status_code == 200
    assert done.headers["cache-control"] == "no-store"
    generated = re.search(r'<code id="temporary-password">([^<]+)</code>', done.text).group(1)
    assert verify_password(_fresh(db, user).password_hash, generated)
    assert "仅在此显示一次" in done.text
    assert label_colons(done.text) == [] and spaced_parentheses(done.text) == []
    # shown once: not on the user's page again, not kept in the session for a later page
    assert generated not in client.get(f"/admin/users/{user.id}").text
    assert generated not in client.get("/admin/users").text
    assert "须设置新密码" in client.get("/admin/users").text  # the list shows who must


# ---------------------------------------------------------------- the forced change


def test_a_reset_user_must_set_a_new_password_before_anything_else(
        client, make_user, db, app):
    from fastapi.testclient import TestClient

    admin = make_user("admin")
    user = make_user("purchaser", display_name="张丽")
    with TestClient(app, follow_redirects=False) as before_reset:
        assert login(before_reset, user.username).status_code == 303
        accounts.reset_password(db, _admin_actor(admin), user.id, TEMPORARY)
        assert before_reset.get("/api/me").status_code == 401  # the open session ended

    assert login(client, user.username, PASSWORD).status_code == 422  # the old one is gone
    assert login(client, user.username, TEMPORARY).status_code == 303
    for path in ("/", "/projects", "/evaluations", "/settlements", "/admin/users"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/account", path
    htmx = client.get("/projects", headers={"HX-Request": "true"})
    assert (htmx.status_code, htmx.headers["hx-redirect"]) == (204, "/account")
    page = client.get("/account")
    assert page.status_code == 200 and 'id="must-change-password"' in page.text
    assert 'href="/projects"' not in page.text  # no menu offers what it cannot open
    assert client.get("/static/app/app.css").status_code == 200

    refused = client.get("/api/projects")
    assert refused.status_code == 403
    assert refused.json()["code"] == "password_change_required"
    assert "请先在“我的账户”页面（/account）或通过 POST /api/session/password 设置新密码" \
        in refused.json()["detail"]
    me = client.get("/api/me").json()
    assert me["must_change_password"] is True
    token = me["csrf_token"]

    same = client.post("/account/password", data={
        "current_password": TEMPORARY, "new_password": TEMPORARY,
        "confirm_password": TEMPORARY, "csrf_token": token})
    assert same.status_code == 422 and "临时密码" in same.text
    assert client.get("/projects").status_code == 303
    changed = client.post("/account/password", data={
        "current_password": TEMPORARY, "new_password": CHOSEN, "confirm_password": CHOSEN,
        "csrf_token": token})
    assert (changed.status_code, changed.headers["location"]) == (303, "/")
    home = client.get("/")
    assert home.status_code == 200 and "新密码已设置" in home.text
    assert client.get("/projects").status_code == 200
    assert client.get("/api/projects").status_code == 200
    assert client.get("/api/me").json()["must_change_password"] is False


def test_a_program_sets_its_new_password_through_the_api_after_a_reset(client, make_user, db):
    """The one write a reset account may make by API; the same rules as the page, then every
    endpoint is open again and the session stays signed in."""
    admin, user = make_user("admin"), make_user("finance")
    accounts.reset_password(db, _admin_actor(admin), user.id, TEMPORARY)
    token = client.get("/api/session").json()["csrf_token"]
    signed = client.post("/api/session", json={"username": user.username,
                                               "password": TEMPORARY},
                         headers={"x-csrf-token": token})
    assert signed.status_code == 200 and signed.json()["must_change_password"] is True
    headers = {"x-csrf-token": signed.json()["csrf_token"]}
    assert client.get("/api/projects").status_code == 403
    wrong = client.post("/api/session/password", headers=headers, json={
        "current_password": "not-it", "new_password": TEMPORARY})
    assert wrong.status_code == 422
    assert set(wrong.json()["errors"]) == {"current_password"}
    same = client.post("/api/session/password", headers=headers, json={
        "current_password": TEMPORARY, "new_password": TEMPORARY})
    assert "临时密码" in same.json()["errors"]["new_password"]
    differ = client.post("/api/session/password", headers=headers, json={
        "current_password": TEMPORARY, "new_password": CHOSEN, "confirm_password": "x" + CHOSEN})
    assert set(differ.json()["errors"]) == {"confirm_password"}
    assert client.post("/api/session/password", json={
        "current_password": TEMPORARY, "new_password": CHOSEN}).status_code == 403  # no token
    db.expire_all()
    assert _fresh(db, user).must_change_password  # nothing refused changed anything
    done = client.post("/api/session/password", headers=headers, json={
        "current_password": TEMPORARY, "new_password": CHOSEN})
    assert done.status_code == 200, done.text
    assert done.json()["must_change_password"] is False
    assert client.get("/api/projects").status_code == 200  # still signed in, open again
    assert verify_password(_fresh(db, user).password_hash, CHOSEN)
    assert _entries(db, "user.password")


def test_a_reset_user_may_still_sign_out(client, make_user, db):
    admin, user = make_user("admin"), make_user("supplier")
    accounts.reset_password(db, _admin_actor(admin), user.id, TEMPORARY)
    assert login(client, user.username, TEMPORARY).status_code == 303
    token = csrf_from(client, "/account")
    out = client.post("/logout", data={"csrf_token": token})
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    assert client.get("/api/me").status_code == 401
    assert _fresh(db, user).must_change_password  # still owed at the next sign-in


# ---------------------------------------------------------------- the JSON API


def _api_admin(client, make_user):
    admin = make_user("admin")
    assert login(client, admin.username).status_code == 303
    return admin, {"x-csrf-token": client.get("/api/me").json()["csrf_token"]}


def test_the_api_resets_a_password_with_the_pages_rules(client, make_user, db):
    user = make_user("evaluator")
    anonymous = client.post(f"/api/users/{user.id}/password-reset", json={},
                            headers={"x-csrf-token": client.get("/api/session").json()[
                                "csrf_token"]})
    assert anonymous.status_code == 401
    admin, headers = _api_admin(client, make_user)
    short = client.post(f"/api/users/{user.id}/password-reset", json={"password": "short"},
                        headers=headers)
    assert short.status_code == 422
    assert short.json()["errors"] == {"password": "密码至少需要 10 个字符。"}
    own = client.post(f"/api/users/{admin.id}/password-reset", json={}, headers=headers)
    assert own.status_code == 422 and "user" in own.json()["errors"]
    missing = client.post("/api/users/987654/password-reset", json={}, headers=headers)
    assert missing.status_code == 404
    assert not _fresh(db, user).must_change_password

    typed = client.post(f"/api/users/{user.id}/password-reset", json={"password": TEMPORARY},
                        headers=headers)
    assert typed.status_code == 200, typed.text
    assert typed.json()["temporary_password"] is None  # the caller knows it
    assert typed.json()["user"]["must_change_password"] is True
    generated = client.post(f"/api/users/{user.id}/password-reset", headers=headers)
    assert generated.status_code == 200, generated.text
    password = generated.json()["temporary_password"]
    assert verify_password(_fresh(db, user).password_hash, password)
    assert [json.loads(e.change)["generated"] for e in _entries(db, "user.password_reset")] \
        == [False, True]


def test_the_api_corrects_a_user_and_refuses_a_role_change(client, make_user, make_org, db):
    firm = make_org("third_party_firm", name="明鉴评估")
    user = make_user("evaluator", organisation=firm, display_name="王五")
    _admin, headers = _api_admin(client, make_user)
    only_name = client.patch(f"/api/users/{user.id}", json={"display_name": "王武"},
                             headers=headers)
    assert only_name.status_code == 200, only_name.text
    assert (only_name.json()["display_name"], only_name.json()["organisation_name"]) \
        == ("王武", "明鉴评估")  # a field left out stays
    role = client.patch(f"/api/users/{user.id}", json={"role": "finance", "display_name": "X"},
                        headers=headers)
    assert role.status_code == 422
    assert set(role.json()["errors"]) == {"role"} and "用户角色不可更改" in role.json()["detail"]
    wrong_org = client.patch(f"/api/users/{user.id}",
                             json={"organisation_id": make_org("supplier").id}, headers=headers)
    assert wrong_org.status_code == 422 and "organisation_id" in wrong_org.json()["errors"]
    assert _fresh(db, user).display_name == "王武"
    alone = client.patch(f"/api/users/{user.id}", json={"organisation_id": None},
                         headers=headers)
    assert alone.status_code == 200 and alone.json()["organisation_id"] is None
    renamed = client.patch(f"/api/users/{user.id}", json={"username": "wangwu"},
                           headers=headers)
    assert renamed.status_code == 422 and set(renamed.json()["errors"]) == {"username"}
    assert _fresh(db, user).username != "wangwu"
    assert client.patch("/api/users/987654", json={"display_name": "x"},
                        headers=headers).status_code == 404
    assert len(_entries(db, "user.update")) == 2


# ---------------------------------------------------------------- the audit log, in words


def test_the_audit_log_names_a_reset_and_a_correction_in_words(client, signed_in, make_user,
                                                               make_org, db):
    admin = make_user("admin")
    dept = make_org("purchasing_department", name="市民政局")
    user = make_user("purchaser", organisation=dept, display_name="张丽")
    accounts.reset_password(db, _admin_actor(admin), user.id)
    accounts.update_user(db, _admin_actor(admin), user.id, display_name="张莉")
    signed_in("auditor")
    table = client.get("/audit").text.split('id="audit-table"')[1]
    assert '<span class="action-name">管理员重置密码</span>' in table
    assert "<dt>由平台生成</dt><dd>是</dd>" in table
    assert "<dt>须设置新密码</dt><dd>是</dd>" in table
    assert '<span class="action-name">用户信息更正</span>' in table
    assert "<dt>修改前</dt><dd>显示名称：张丽</dd>" in table
    assert "<dt>修改后</dt><dd>显示名称：张莉</dd>" in table


def test_a_name_or_username_taken_by_a_concurrent_request_is_refused_naming_the_field(
        db, make_user, make_org, monkeypatch):
    """Two admins register the same name at the same moment: both checks find it free, the
    database refuses the second write, and the second admin reads why, as the check says it."""
    admin = make_user("admin")
    make_org("purchasing_department", name="市民政局")
    checks = {"org": accounts._organisation_problems, "user": accounts._username_problems}
    asked: list[str] = []

    def free_the_first_time(kind):
        def check(*args, **kwargs):
            asked.append(kind)
            return {} if asked.count(kind) == 1 else checks[kind](*args, **kwargs)
        return check

    monkeypatch.setattr(accounts, "_organisation_problems", free_the_first_time("org"))
    monkeypatch.setattr(accounts, "_username_problems", free_the_first_time("user"))
    with pytest.raises(ValidationFailed) as refused:
        accounts.create_organisation(db, _admin_actor(admin), name="市民政局",
                                     kind="purchasing_department")
    assert refused.value.errors == {"name": "已有同名机构。"}
    assert len(db.exec(select(Organisation).where(Organisation.name == "市民政局")).all()) == 1
    taken = make_user("purchaser", username="zhangli").username
    with pytest.raises(ValidationFailed) as refused:
        accounts.create_user(db, _admin_actor(admin), username=taken, display_name="张丽",
                             role="admin", organisation_id=None, password="long-enough-pw")
    assert set(refused.value.errors) == {"username"}
    assert len(db.exec(select(User).where(User.username == taken)).all()) == 1
    other = make_org("purchasing_department", name="市卫生健康委")
    with pytest.raises(ValidationFailed) as refused:
        accounts.update_organisation(db, _admin_actor(admin), other.id, name="市民政局")
    assert refused.value.errors == {"name": "已有同名机构。"}
    db.expire_all()
    assert db.get(Organisation, other.id).name == "市卫生健康委"
    assert [e for e in _entries(db) if e.actor_id == admin.id] == []  # nothing audited


def test_a_write_the_database_refuses_is_a_409_saying_nothing_was_saved(
        client, signed_in, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    def refused(*args, **kwargs):
        raise IntegrityError("INSERT …", {}, Exception("duplicate key"))

    signed_in("admin")
    token = csrf_from(client, "/")
    monkeypatch.setattr(accounts, "create_user", refused)
    response = client.post("/api/users", headers={"x-csrf-token": token}, json={
        "username": "x1", "display_name": "某人", "role": "admin", "password": "long-enough-pw"})
    assert response.status_code == 409
    assert response.json()["detail"].startswith("未保存任何内容")
