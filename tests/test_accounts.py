"""Organisation and user rules: each refusal names the field and changes nothing."""

import json

import pytest
from sqlalchemy import func
from sqlmodel import select

from evalplatform.models import AuditEntry, Organisation, User
from evalplatform.services import accounts
from evalplatform.services.audit import SYSTEM
from evalplatform.services.credit_code import is_valid_credit_code
from evalplatform.services.errors import ValidationFailed


def _count(db, model):
    return db.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize("code, valid", [
    ("91350100M000100Y43", True),
    ("91110000600037341L", True),
    ("91110000600037341X", False),   # wrong check character
    ("9111000060003734", False),     # too short
    ("9111000060003734IL", False),   # I is not in the alphabet
])
def test_credit_code_check_character(code, valid):
    assert is_valid_credit_code(code) is valid


def test_an_invalid_credit_code_is_refused_and_nothing_is_stored(db):
    before = (_count(db, Organisation), _count(db, AuditEntry))
    with pytest.raises(ValidationFailed) as error:
        accounts.create_organisation(db, SYSTEM, name="某公司", kind="supplier",
                                     credit_code="91110000600037341X")
    assert "统一社会信用代码" in error.value.errors["credit_code"]
    assert (_count(db, Organisation), _count(db, AuditEntry)) == before


def test_duplicate_names_are_refused(db, make_org):
    make_org("supplier", name="临江市某某中心")
    with pytest.raises(ValidationFailed) as error:
        accounts.create_organisation(db, SYSTEM, name="临江市某某中心", kind="supplier",
                                     credit_code="91110000600037341L")
    assert error.value.errors == {"name": "已有同名机构。"}


@pytest.mark.parametrize("kind", ["supplier", "third_party_firm"])
def test_a_supplier_or_firm_without_a_credit_code_is_refused(db, kind):
    before = (_count(db, Organisation), _count(db, AuditEntry))
    with pytest.raises(ValidationFailed) as error:
        accounts.create_organisation(db, SYSTEM, name="临江市某某中心", kind=kind,
                                     credit_code="  ")
    assert "统一社会信用代码" in error.value.errors["credit_code"]
    assert "机关" in error.value.errors["credit_code"]
    assert (_count(db, Organisation), _count(db, AuditEntry)) == before


def test_a_state_organ_may_go_without_a_credit_code(db):
    org = accounts.create_organisation(db, SYSTEM, name="临江市教育局",
                                       kind="purchasing_department")
    assert org.credit_code is None


def test_a_role_must_match_its_organisation_kind(db, make_org):
    supplier = make_org("supplier")
    with pytest.raises(ValidationFailed) as error:
        accounts.create_user(db, SYSTEM, username="wrong", display_name="某人",
                             role="finance", organisation_id=supplier.id,
                             password="long-enough-pw")
    assert "财政部门" in error.value.errors["organisation_id"]
    assert _count(db, User) == 0


@pytest.mark.parametrize("role, kind, message", [
    ("admin", "oversight_body", "该角色的用户不属于任何机构，请将所属机构留空。"),
    ("evaluator", "supplier", "该角色的用户必须属于：第三方评价机构，或不属于任何机构。"),
    ("auditor", "supplier", "该角色的用户必须属于：财政部门、纪检监察 / 审计机关。"),
])
def test_the_organisation_rule_of_a_role_reads_in_chinese(db, make_org, role, kind, message):
    """It said 该角色的用户必须属于：no organisation。 for an administrator: the words for "no
    organisation" were English, and a list of kinds was joined with an ASCII comma."""
    with pytest.raises(ValidationFailed) as error:
        accounts.create_user(db, SYSTEM, username="wrong", display_name="某人", role=role,
                             organisation_id=make_org(kind).id, password="long-enough-pw")
    assert error.value.errors == {"organisation_id": message}
    assert _count(db, User) == 0


def test_a_name_longer_than_its_column_is_refused_naming_it(db):
    """A 101-character name was stored by SQLite and would fail PostgreSQL's varchar(100) with
    a server error; it is refused like any other rule."""
    with pytest.raises(ValidationFailed) as error:
        accounts.create_user(db, SYSTEM, username="longname", display_name="张" * 101,
                             role="admin", organisation_id=None, password="long-enough-pw")
    assert error.value.errors == {"display_name": "名称不能超过 100 个字符。"}
    assert _count(db, User) == 0
    user = accounts.create_user(db, SYSTEM, username="longname", display_name="张" * 100,
                                role="admin", organisation_id=None, password="long-enough-pw")
    assert len(user.display_name) == 100


def test_several_errors_are_reported_at_once(db):
    with pytest.raises(ValidationFailed) as error:
        accounts.create_user(db, SYSTEM, username="Bad Name!", display_name="",
                             role="wizard", organisation_id=None, password="short")
    assert set(error.value.errors) == {"username", "display_name", "role", "password"}
    assert "至少需要 10 个字符" in error.value.errors["password"]


def test_an_admin_cannot_deactivate_themself(db, make_user):
    admin = make_user("admin")
    with pytest.raises(ValidationFailed):
        accounts.set_active(db, SYSTEM.__class__(admin.id, admin.username), admin.id, False)
    db.refresh(admin)
    assert admin.active


def test_users_page_sorts_and_pages(db, make_user):
    for name in ["carol", "alice", "bob"]:
        make_user("admin", username=name)
    first = accounts.page_users(db, sort="username", per_page=2, page=1)
    assert [u.username for u, _ in first.items] == ["alice", "bob"]
    assert first.pages == 2 and first.has_next
    second = accounts.page_users(db, sort="-username", per_page=2, page=1)
    assert [u.username for u, _ in second.items] == ["carol", "bob"]
    fallback = accounts.page_users(db, sort="password_hash", per_page=10)
    assert fallback.sort == "username"  # unknown sort keys fall back, they do not leak


def test_the_admin_form_rerenders_field_errors_for_htmx(client, signed_in, db):
    from tests.conftest import csrf_from

    signed_in("admin")
    token = csrf_from(client, "/admin/users/new")
    before = _count(db, User)
    response = client.post("/admin/users", data={
        "username": "", "display_name": "张三", "role": "purchaser", "organisation_id": "",
        "password": "x", "csrf_token": token}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert response.text.lstrip().startswith("<form")  # the partial, not the whole page
    assert 'id="e-username"' in response.text and 'id="e-password"' in response.text
    assert 'value="张三"' in response.text  # what was typed is kept
    assert _count(db, User) == before


def test_an_organisations_kind_is_in_the_readers_parentheses(client, signed_in, make_org):
    """The user form's organisation choices: 名称（供应商） in Chinese, Name (Supplier) in English."""
    from tests.conftest import csrf_from

    signed_in("admin")
    make_org("supplier", name="乐龄服务社")
    assert "乐龄服务社（" in client.get("/admin/users/new").text
    token = csrf_from(client, "/admin/users/new")
    client.post("/language", data={"language": "en", "csrf_token": token})
    english = client.get("/admin/users/new").text
    assert "乐龄服务社 (" in english and "乐龄服务社（" not in english


# ---------------------------------------------------------------- lengths


def test_names_fill_their_columns_exactly_and_one_more_character_is_refused(db):
    org = accounts.create_organisation(db, SYSTEM, name="机" * 200, kind="purchasing_department")
    with pytest.raises(ValidationFailed) as error:
        accounts.create_organisation(db, SYSTEM, name="构" * 201, kind="purchasing_department")
    assert error.value.errors == {"name": "名称不能超过 200 个字符。"}
    with pytest.raises(ValidationFailed) as error:
        accounts.update_organisation(db, SYSTEM, org.id, name="构" * 201)
    assert list(error.value.errors) == ["name"]
    user = accounts.create_user(db, SYSTEM, username="u" * 64, display_name="名" * 100,
                                role="purchaser", organisation_id=org.id,
                                password="long-enough-pw")
    with pytest.raises(ValidationFailed) as error:
        accounts.create_user(db, SYSTEM, username="v" * 65, display_name="名",
                             role="purchaser", organisation_id=org.id, password="long-enough-pw")
    assert list(error.value.errors) == ["username"] and "64" in error.value.errors["username"]
    db.expire_all()
    assert db.get(Organisation, org.id).name == "机" * 200
    assert (db.get(User, user.id).username, _count(db, User)) == ("u" * 64, 1)


def test_a_password_is_at_most_256_characters_when_set_and_none_longer_is_hashed(db, monkeypatch):
    """A password of 1,000,000 characters was accepted and hashed; every way of setting one
    now refuses it one character past 256, naming the field, and changes nothing."""
    longest = "p" * accounts.MAX_PASSWORD_LENGTH
    user = accounts.create_user(db, SYSTEM, username="longpass", display_name="长密码",
                                role="admin", organisation_id=None, password=longest)
    with pytest.raises(ValidationFailed) as error:
        accounts.create_user(db, SYSTEM, username="toolong", display_name="过长",
                             role="admin", organisation_id=None, password=longest + "p")
    assert error.value.errors == {"password": "密码：最多 256 个字符。"}
    assert _count(db, User) == 1
    hashed = user.password_hash
    for attempt in (lambda: accounts.change_password(db, SYSTEM, user.id, longest + "p"),
                    lambda: accounts.reset_password(db, SYSTEM, user.id, longest + "p"),
                    lambda: accounts.change_own_password(db, SYSTEM, user.id, longest,
                                                         longest + "p", longest + "p")):
        with pytest.raises(ValidationFailed) as error:
            attempt()
        assert "256" in " ".join(error.value.errors.values())
    db.expire_all()
    assert db.get(User, user.id).password_hash == hashed
    assert accounts.authenticate(db, "longpass", longest).user.id == user.id

    hashed_lengths = []
    real = accounts.verify_password
    monkeypatch.setattr(accounts, "verify_password",
                        lambda stored, given: hashed_lengths.append(len(given)) or real(stored, given))
    with pytest.raises(ValidationFailed) as error:
        accounts.authenticate(db, "longpass", "p" * 1_000_000)
    assert error.value.errors == {"password": "用户名或密码不正确。"}
    with pytest.raises(ValidationFailed) as error:
        accounts.change_own_password(db, SYSTEM, user.id, "p" * 1_000_000, "new-password-1",
                                     "new-password-1")
    assert list(error.value.errors) == ["current_password"]
    assert hashed_lengths == []  # refused without hashing a megabyte


def test_signing_in_with_a_name_longer_than_any_username_is_refused_not_a_server_error(db):
    """The sign-in throttle keeps ``login:<username>`` in a column of 200 characters: a long
    name made PostgreSQL refuse the failure count with a server error."""
    from evalplatform.models import ThrottleCounter

    with pytest.raises(ValidationFailed) as error:
        accounts.authenticate(db, "x" * 300, "whatever-password")
    assert error.value.errors == {"password": "用户名或密码不正确。"}
    assert _count(db, ThrottleCounter) == 0


def test_a_user_the_administrator_creates_must_choose_their_own_password_first(
        client, signed_in, make_org, db):
    """The administrator typed the initial password, so it is not the user's secret: at the
    first sign-in the user sees nothing but the password form, on the pages and in the API."""
    from tests.conftest import csrf_from, login

    signed_in("admin")
    dept = make_org("purchasing_department", name="临江市民政局")
    token = csrf_from(client, "/admin/users/new")
    created = client.post("/admin/users", data={
        "username": "xiaoli", "display_name": "李小", "role": "purchaser",
        "organisation_id": str(dept.id), "password": "given-by-admin-1", "csrf_token": token})
    assert created.status_code == 303
    user = db.exec(select(User).where(User.username == "xiaoli")).one()
    assert user.must_change_password is True
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "user.create",
                                             AuditEntry.entity_id == str(user.id))).one()
    assert json.loads(entry.change)["must_change_password"] is True
    api = client.post("/api/users", headers={"x-csrf-token": client.get("/api/me").json()[
        "csrf_token"]}, json={"username": "xiaowang", "display_name": "王小", "role": "admin",
                              "password": "given-by-admin-2"})
    assert api.status_code == 201 and api.json()["must_change_password"] is True

    client.cookies.clear()
    assert login(client, "xiaoli", "given-by-admin-1").status_code == 303
    page = client.get("/projects")
    assert page.status_code == 303 and page.headers["location"] == "/account"
    assert "您的密码由管理员设置" in client.get("/account").text
    refused = client.get("/api/projects")
    assert refused.status_code == 403 and refused.json()["code"] == "password_change_required"
    token = csrf_from(client, "/account")
    changed = client.post("/account/password", data={
        "current_password": "given-by-admin-1", "new_password": "xiaoli-own-secret",
        "confirm_password": "xiaoli-own-secret", "csrf_token": token})
    assert changed.status_code == 303
    assert client.get("/projects").status_code == 200


def test_accounts_made_outside_the_admin_pages_keep_their_password(db, make_org):
    """The command line's first administrator and the demo users chose or were told their
    own password: they are not asked to change it."""
    user = accounts.create_user(db, SYSTEM, username="first-admin", display_name="管理员",
                                role="admin", organisation_id=None, password="long-enough-pw")
    assert user.must_change_password is False
