"""Organisations and users: registration, sign-in with a per-account throttle, activation."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from evalplatform.db import row_named
from evalplatform.i18n import _
from evalplatform.labels import ORGANISATION_KIND_LABELS
from evalplatform.models import Organisation, OrganisationKind, Role, User
from evalplatform.models.accounts import ROLE_ORGANISATION_KINDS
from evalplatform.security import hash_password, verify_password
from evalplatform.services import audit, throttle
from evalplatform.services.audit import Actor
from evalplatform.services.clock import now
from evalplatform.services.credit_code import is_valid_credit_code
from evalplatform.services.errors import NotFound, Throttled, ValidationFailed
from evalplatform.services.paging import Page, any_contains, paginate
from evalplatform.settings import get_settings

MIN_PASSWORD_LENGTH = 10
#: A passphrase fits with room to spare; a longer "password" would only make the server hash
#: megabytes (a denial of service), at setting and at every sign-in.
MAX_PASSWORD_LENGTH = 256
MAX_USERNAME_LENGTH = 64  # the column's length
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


@contextmanager
def _taken_meanwhile(session: Session, problems: Callable[[], dict[str, str]]) -> Iterator[None]:
    """A write of a unique name, code or username that was checked free a moment before: when
    a concurrent request has taken it since, the database refuses the write, and the refusal
    is put as the check would have put it, naming the field (``problems()``, asked again
    after the rollback), not as a server error. Nothing is written."""
    try:
        yield
    except IntegrityError:
        session.rollback()
        errors = problems()
        if errors:
            raise ValidationFailed(errors) from None
        raise


def _clean(value: str | None) -> str:
    return (value or "").strip()


# ---------------------------------------------------------------- organisations

#: Registered bodies (companies, social organisations, firms) always hold a unified social
#: credit code; only state organs (finance, purchasing departments, oversight) may go without.
CREDIT_CODE_REQUIRED = frozenset({OrganisationKind.supplier, OrganisationKind.third_party_firm})


def _organisation_problems(
    session: Session,
    name: str,
    kind: OrganisationKind | None,
    code: str | None,
    *,
    registered: Organisation | None = None,
) -> dict[str, str]:
    """What is wrong with an organisation's name and credit code (cleaned) for its kind: the
    rules of a new organisation and of a corrected one (``registered``, which may keep its
    own name and code)."""
    errors: dict[str, str] = {}

    def taken(column, value) -> bool:
        other = session.exec(select(Organisation).where(column == value)).first()
        return other is not None and (registered is None or other.id != registered.id)

    if not name:
        errors["name"] = _("Name is required.")
    elif len(name) > 200:
        errors["name"] = _("Name must be at most 200 characters.")
    elif taken(Organisation.name, name):
        errors["name"] = _("An organisation with this name already exists.")
    if code is None:
        if kind in CREDIT_CODE_REQUIRED:
            errors["credit_code"] = _(
                "%(kind)s needs its unified social credit code; only state organs may leave "
                "it blank.", kind=str(ORGANISATION_KIND_LABELS[kind]))
    elif not is_valid_credit_code(code):
        errors["credit_code"] = _(
            "The unified social credit code must be 18 characters and end with a "
            "valid check character."
        )
    elif taken(Organisation.credit_code, code):
        errors["credit_code"] = _("This credit code is already registered.")
    return errors


def create_organisation(
    session: Session,
    actor: Actor,
    *,
    name: str,
    kind: str,
    credit_code: str | None = None,
) -> Organisation:
    name, code = _clean(name), _clean(credit_code).upper() or None
    errors: dict[str, str] = {}
    try:
        kind_value = OrganisationKind(kind)
    except ValueError:
        errors["kind"] = _("Choose one of the listed organisation kinds.")
        kind_value = None
    errors.update(_organisation_problems(session, name, kind_value, code))
    errors = {key: errors[key] for key in ("name", "kind", "credit_code") if key in errors}
    if errors:
        raise ValidationFailed(errors)
    org = Organisation(name=name, kind=kind_value, credit_code=code)
    with _taken_meanwhile(session, lambda: _organisation_problems(session, name, kind_value, code)):
        session.add(org)
        session.flush()
        audit.record(
            session, actor, "organisation.create", "organisation", org.id,
            {"name": name, "kind": kind_value, "credit_code": code},
        )
        session.commit()
    session.refresh(org)
    return org


def kind_is_fixed() -> str:
    """Why an organisation's kind is not offered for correction, in the reader's language."""
    return _("The kind of an organisation cannot be changed: its users' roles, its projects "
             "and its records rest on it. Register a new organisation of the right kind "
             "instead.")


def update_organisation(
    session: Session,
    actor: Actor,
    organisation_id: int,
    *,
    name: str,
    credit_code: str | None = None,
    kind: str | None = None,
) -> Organisation:
    """Correct an organisation's name and unified social credit code, by the rules of a new
    one (the name and the code unique, the code required of registered bodies). Its kind
    stays: ``kind``, when given, must be the kind it has. Audited with the values before and
    after; a correction that changes nothing leaves no entry."""
    org = get_organisation(session, organisation_id)
    name, code = _clean(name), _clean(credit_code).upper() or None
    errors = _organisation_problems(session, name, OrganisationKind(org.kind), code,
                                    registered=org)
    if kind not in (None, "", org.kind):
        errors["kind"] = kind_is_fixed()
    if errors:
        raise ValidationFailed(errors)
    after = {"name": name, "credit_code": code}
    before = {field: getattr(org, field) for field in after}
    changed = [field for field in after if after[field] != before[field]]
    if changed:
        for field in changed:
            setattr(org, field, after[field])
        kind_value = OrganisationKind(org.kind)

        def taken() -> dict[str, str]:
            return _organisation_problems(session, name, kind_value, code,
                                          registered=get_organisation(session, organisation_id))

        with _taken_meanwhile(session, taken):
            session.add(org)
            audit.record(session, actor, "organisation.update", "organisation", org.id,
                         {"before": {f: before[f] for f in changed},
                          "after": {f: after[f] for f in changed}})
            session.commit()
        session.refresh(org)
    return org


def display_names(session: Session, entries) -> dict[int, str]:
    """The display names (姓名) of the people who made these audit entries, by user id: a
    history shows who did what by name, never by a login name that is no one else's business."""
    ids = {e.actor_id for e in entries if e.actor_id is not None}
    if not ids:
        return {}
    return {u.id: u.display_name for u in session.exec(select(User).where(
        User.id.in_(ids)))}  # type: ignore[union-attr]


def list_organisations(session: Session, kind: OrganisationKind | None = None) -> list[Organisation]:
    statement = select(Organisation).order_by(Organisation.kind, Organisation.name)
    if kind is not None:
        statement = statement.where(Organisation.kind == kind)
    return list(session.exec(statement).all())


def get_organisation(session: Session, organisation_id: int) -> Organisation:
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound(_("No such organisation."))
    return org


def organisation_filter_problems(kind: str = "") -> dict[str, str]:
    """The organisation list's filter → why it cannot be applied, in the reader's language."""
    if kind and kind not in OrganisationKind.__members__:
        return {"kind": _("Choose one of the organisation kinds: %(choices)s.",
                          choices=", ".join(OrganisationKind.__members__))}
    return {}


def page_organisations(session: Session, *, q: str | None = None, kind: str | None = None,
                       sort=None, page=1, per_page=20) -> Page:
    statement = select(Organisation)
    if q and q.strip():
        statement = statement.where(any_contains(q, Organisation.name, Organisation.credit_code))
    if kind in OrganisationKind.__members__:
        statement = statement.where(Organisation.kind == OrganisationKind(kind))
    return paginate(
        session,
        statement,
        sort_columns={"name": Organisation.name, "kind": Organisation.kind,
                      "created_at": Organisation.created_at},
        sort=sort,
        default_sort="name",
        page=page,
        per_page=per_page,
    )


# ---------------------------------------------------------------- users


def _too_long(field, limit: int) -> str:
    """The refusal of a text longer than ``limit`` characters, naming the field by its label."""
    return _("%(field)s: %(problem)s", field=str(field),
             problem=_("At most %(n)s characters.", n=limit))


def validate_password(password: str) -> str | None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return _("The password must be at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _too_long(_("Password"), MAX_PASSWORD_LENGTH)
    return None


def _password_right(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the account's; one longer than any password may be is wrong
    without being hashed."""
    return len(password or "") <= MAX_PASSWORD_LENGTH and verify_password(password_hash, password)


def _organisation_rule(allowed: set[OrganisationKind | None]) -> str:
    """The organisations a user of a role may belong to (``ROLE_ORGANISATION_KINDS``), as a
    rule in the reader's language: the kinds, and whether none at all is allowed."""
    kinds = _(", ").join(str(ORGANISATION_KIND_LABELS[k]) for k in sorted(k for k in allowed if k))
    if not kinds:
        return _("A user with this role belongs to no organisation: leave the organisation "
                 "empty.")
    if None in allowed:
        return _("A user with this role belongs to: %(kinds)s, or to no organisation.",
                 kinds=kinds)
    return _("A user with this role must belong to: %(kinds)s.", kinds=kinds)


def _display_name_problem(display_name: str) -> str | None:
    if not display_name:
        return _("Name is required.")
    if len(display_name) > 100:  # the column's length: PostgreSQL would refuse it with a 500
        return _("Name must be at most 100 characters.")
    return None


def _membership(
    session: Session, role: Role | None, organisation_id: int | str | None
) -> tuple[Organisation | None, str | None]:
    """The organisation a user of ``role`` is to belong to, and what is wrong with it (an
    unknown organisation, or one of a kind the role may not belong to)."""
    org = None
    if organisation_id not in (None, ""):
        org = row_named(session, Organisation, organisation_id)
        if org is None:
            return None, _("Choose an existing organisation.")
    if role is not None:
        allowed = ROLE_ORGANISATION_KINDS[role]
        if (org.kind if org else None) not in allowed:
            return org, _organisation_rule(allowed)
    return org, None


def _username_problems(session: Session, username: str) -> dict[str, str]:
    if session.exec(select(User).where(User.username == username)).first():
        return {"username": _("This username is taken.")}
    return {}


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    role: str,
    organisation_id: int | str | None,
    password: str,
    temporary: bool = False,
) -> User:
    """Register a user. ``temporary``: the password was chosen by the administrator who
    creates the account for someone else, so the user must choose their own at the first
    sign-in before anything else (``User.must_change_password``), as after a reset."""
    username = _clean(username).lower()
    display_name = _clean(display_name)
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = _("Username is required.")
    elif not set(username) <= USERNAME_CHARS or len(username) > MAX_USERNAME_LENGTH:
        errors["username"] = _(
            "Username may use only letters, digits, '.', '_' and '-' (at most 64)."
        )
    else:
        errors.update(_username_problems(session, username))
    if problem := _display_name_problem(display_name):
        errors["display_name"] = problem
    try:
        role_value = Role(role)
    except ValueError:
        errors["role"] = _("Choose one of the listed roles.")
        role_value = None
    org, problem = _membership(session, role_value, organisation_id)
    if problem:
        errors["organisation_id"] = problem
    if problem := validate_password(password):
        errors["password"] = problem
    if errors:
        raise ValidationFailed(errors)
    user = User(
        username=username,
        display_name=display_name,
        role=role_value,
        organisation_id=org.id if org else None,
        password_hash=hash_password(password),
        must_change_password=temporary,
    )
    with _taken_meanwhile(session, lambda: _username_problems(session, username)):
        session.add(user)
        session.flush()
        audit.record(
            session, actor, "user.create", "user", user.id,
            {"username": username, "display_name": display_name, "role": role_value,
             "organisation_id": user.organisation_id,
             **({"must_change_password": True} if temporary else {})},
        )
        session.commit()
    session.refresh(user)
    return user


def role_is_fixed() -> str:
    """Why a user's role is not offered for correction, in the reader's language."""
    return _("The role of a user cannot be changed: the sheets, settlements and audit "
             "history of the account rest on it. Create a new account with the other role "
             "and deactivate this one.")


#: ``update_user``'s "leave this field as it is".
UNCHANGED = object()


def update_user(
    session: Session,
    actor: Actor,
    user_id: int,
    *,
    display_name=UNCHANGED,
    organisation_id=UNCHANGED,
    role: str | None = None,
) -> User:
    """Correct a user's name and organisation, by the rules of a new user of the same role
    (the organisation's kind must suit the role). The role stays: ``role``, when given, must
    be the role the user has. Audited with the values before and after; a correction that
    changes nothing leaves no entry."""
    user = get_user(session, user_id)
    role_value = Role(user.role)
    errors: dict[str, str] = {}
    after: dict = {}
    if display_name is not UNCHANGED:
        after["display_name"] = _clean(display_name)
        if problem := _display_name_problem(after["display_name"]):
            errors["display_name"] = problem
    if organisation_id is not UNCHANGED:
        org, problem = _membership(session, role_value, organisation_id)
        if problem:
            errors["organisation_id"] = problem
        after["organisation_id"] = org.id if org else None
    if role not in (None, "", role_value):
        errors["role"] = role_is_fixed()
    if errors:
        raise ValidationFailed(errors)
    before = {field: getattr(user, field) for field in after}
    changed = [field for field in after if after[field] != before[field]]
    if changed:
        for field in changed:
            setattr(user, field, after[field])
        before, after = ({f: values[f] for f in changed} for values in (before, after))
        if "organisation_id" in changed:  # the auditor reads the organisations by name
            for values in (before, after):
                org = session.get(Organisation, values["organisation_id"]) \
                    if values["organisation_id"] else None
                values["organisation"] = org.name if org else None
        session.add(user)
        audit.record(session, actor, "user.update", "user", user.id,
                     {"before": before, "after": after})
        session.commit()
        session.refresh(user)
    return user


def filter_problems(role: str = "") -> dict[str, str]:
    """The user list's filter → why it cannot be applied, in the reader's language. The page
    ignores an unknown role (a stale link still lists); the JSON API refuses it rather than
    hand a program every user as if they had that role."""
    if role and role not in Role.__members__:
        return {"role": _("Choose one of the roles: %(choices)s.",
                          choices=", ".join(Role.__members__))}
    return {}


def page_users(session: Session, *, q: str | None = None, role: str | None = None,
               sort=None, page=1, per_page=20) -> Page:
    statement = select(User, Organisation).join(
        Organisation, User.organisation_id == Organisation.id, isouter=True
    )
    if q and q.strip():
        statement = statement.where(any_contains(q, User.username, User.display_name))
    if role in Role.__members__:
        statement = statement.where(User.role == Role(role))
    return paginate(
        session,
        statement,
        sort_columns={
            "username": User.username,
            "display_name": User.display_name,
            "role": User.role,
            "organisation": Organisation.name,
            "last_login_at": User.last_login_at,
        },
        sort=sort,
        default_sort="username",
        page=page,
        per_page=per_page,
    )


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


def set_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    if actor.id == user_id and not active:
        raise ValidationFailed({"active": _("You cannot deactivate your own account.")})
    user = get_user(session, user_id)
    if user.active != active:
        user.active = active
        user.session_epoch += 1  # a deactivated user's open sessions end now
        session.add(user)
        audit.record(session, actor, "user.activate" if active else "user.deactivate",
                     "user", user.id, {"active": active})
        session.commit()
    return user


def change_password(session: Session, actor: Actor, user_id: int, password: str) -> User:
    """Set a user's password and end their other sessions; a password the administrator
    reset is no longer temporary."""
    if problem := validate_password(password):
        raise ValidationFailed({"password": problem})
    user = get_user(session, user_id)
    after_reset = user.must_change_password
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    user.must_change_password = False
    session.add(user)
    audit.record(session, actor, "user.password", "user", user.id,
                 {"after_reset": True} if after_reset else {})
    session.commit()
    return user


def change_own_password(
    session: Session, actor: Actor, user_id: int, current: str, new: str, confirm: str
) -> User:
    """A user changes their own password: the current one must be right, the new typed twice;
    after a reset, the new one is not the temporary one."""
    user = get_user(session, user_id)
    errors: dict[str, str] = {}
    right = _password_right(user.password_hash, current)
    if not right:
        errors["current_password"] = _("The current password is wrong.")
    if problem := validate_password(new):
        errors["new_password"] = problem
    elif right and user.must_change_password and new == current:
        errors["new_password"] = _("Choose a new password of your own, not the temporary one "
                                   "the administrator gave you.")
    elif new != confirm:
        errors["confirm_password"] = _("The two new passwords differ.")
    if errors:
        raise ValidationFailed(errors)
    return change_password(session, actor, user_id, new)


#: The characters of a generated temporary password: letters and digits that cannot be
#: mistaken for one another when read out or copied by hand (no 0/O, 1/l/I).
TEMPORARY_PASSWORD_CHARACTERS = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


def generate_temporary_password() -> str:
    """Twelve random characters from ``secrets`` in three groups of four (about 70 bits),
    e.g. ``k7Qm-3xPa-9RtW``."""
    return "-".join("".join(secrets.choice(TEMPORARY_PASSWORD_CHARACTERS) for _ in range(4))
                    for _ in range(3))


@dataclass(frozen=True)
class PasswordReset:
    user: User
    #: The temporary password the platform generated, to be shown once to the administrator;
    #: None when the administrator typed one.
    generated: str | None


def reset_password(
    session: Session, actor: Actor, user_id: int, password: str | None = None
) -> PasswordReset:
    """The administrator gives a user who forgot their password a temporary one — typed, or
    generated when ``password`` is empty — under the usual rules. The user's open sessions
    end, and at the next sign-in they must choose a new password before anything else
    (``User.must_change_password``). Audited without the password. An administrator changes
    their own password on their account page, not here."""
    user = get_user(session, user_id)
    if actor.id == user.id:
        raise ValidationFailed({"user": _("You cannot reset your own password here: change "
                                          "it on your account page.")})
    generated = None
    if not password:
        password = generated = generate_temporary_password()
    elif problem := validate_password(password):
        raise ValidationFailed({"password": problem})
    user.password_hash = hash_password(password)
    user.session_epoch += 1  # whoever holds a session of this account is signed out now
    user.must_change_password = True
    session.add(user)
    audit.record(session, actor, "user.password_reset", "user", user.id,
                 {"generated": generated is not None, "must_change_password": True})
    session.commit()
    session.refresh(user)
    return PasswordReset(user, generated)


# ---------------------------------------------------------------- signing in


@dataclass(frozen=True)
class SignIn:
    user: User


def _login_key(username: str) -> str:
    return f"login:{username}"


def _address_key(address: str) -> str:
    return f"login-address:{address[:150]}"


def _throttled(state, account: bool) -> Throttled:
    minutes = max(1, -(-state.retry_after_seconds // 60))
    if account:
        return Throttled(_("Too many failed sign-ins for this account. Try again in "
                           "%(minutes)s minutes.", minutes=minutes))
    return Throttled(_("Too many failed sign-ins from this network address. Try again in "
                       "%(minutes)s minutes.", minutes=minutes))


def authenticate(session: Session, username: str, password: str,
                 address: str | None = None) -> SignIn:
    """Check a username and password, throttling repeated failures of one account and, when
    the caller's network ``address`` is given, failures from that address over any accounts
    (guessing one password across the user list locks the address, not the accounts it
    tried). A success clears the account's count, not the address's: one's own valid sign-in
    does not buy more guesses.

    Raises ValidationFailed (wrong credentials) or Throttled (too many failures); the
    failure count is committed either way.
    """
    settings = get_settings()
    username = _clean(username).lower()
    empty = {}
    if not username:
        empty["username"] = _("Enter your username.")
    if not password:
        empty["password"] = _("Enter your password.")
    if empty:  # nothing to check: no failure is counted
        raise ValidationFailed(empty)
    if len(username) > MAX_USERNAME_LENGTH or len(password or "") > MAX_PASSWORD_LENGTH:
        # No account has such a name or such a password: refused before the throttle's key
        # (a column of 200 characters) is written or the password hashed.
        raise ValidationFailed({"password": _("Wrong username or password.")})
    key = _login_key(username)
    address_key = _address_key(address) if address else None
    if address_key:
        state = throttle.check(session, address_key)
        if state.locked:
            raise _throttled(state, account=False)
    state = throttle.check(session, key)
    if state.locked:
        raise _throttled(state, account=True)
    user = session.exec(select(User).where(User.username == username)).first()
    if not verify_password(user.password_hash if user else None, password) or not (
        user and user.active
    ):
        state = throttle.register_failure(
            session, key, settings.login_max_failures, settings.login_lockout_seconds
        )
        by_address = throttle.register_failure(
            session, address_key, settings.login_address_max_failures,
            settings.login_lockout_seconds) if address_key else None
        session.commit()
        if state.locked:
            raise _throttled(state, account=True)
        if by_address is not None and by_address.locked:
            raise _throttled(by_address, account=False)
        raise ValidationFailed({"password": _("Wrong username or password.")})
    throttle.clear(session, key)
    user.last_login_at = now()
    session.add(user)
    audit.record(session, Actor(user.id, user.username), "user.login", "user", user.id, {})
    session.commit()
    session.refresh(user)
    return SignIn(user)


def sign_out(session: Session, user_id: int) -> None:
    """End every session of the user (the cookie's epoch no longer matches)."""
    user = session.get(User, user_id)
    if user is None:
        return
    user.session_epoch += 1
    session.add(user)
    audit.record(session, Actor(user.id, user.username), "user.logout", "user", user.id, {})
    session.commit()
