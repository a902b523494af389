"""Who may reach a route: every route declares one access decision.

``Depends(require(Role.finance, Role.auditor))`` lets the named roles in; ``owns=`` adds an
ownership check on the path's entity (a purchaser reaches only its own department's
project; an evaluator only its assignments). ``signed_in`` admits any active user and
``public`` anyone (``anyone`` too, without looking up a signed-in user). A user whose
password the administrator reset reaches only the routes of ``own_account`` until they choose
a new one (public routes stay open to them, as to anyone). A test walks every registered
route and fails on one without a decision. An entity the principal may not see is reported
as not found, so that its existence does not leak.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, Request
from sqlmodel import Session, select

from evalplatform.db import get_session
from evalplatform.i18n import _
from evalplatform.models import Organisation, OrganisationKind, Role, User
from evalplatform.services.audit import Actor
from evalplatform.services.errors import DomainError, NotFound, PermissionDenied

SESSION_USER = "uid"
SESSION_EPOCH = "epoch"


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the request sees them."""

    id: int
    username: str
    display_name: str
    role: Role
    organisation_id: int | None
    organisation_name: str | None
    organisation_kind: OrganisationKind | None
    #: The administrator set the password (a new account or a reset): nothing but the
    #: password form until a new one is chosen (``PasswordChangeRequired``).
    must_change_password: bool = False

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.username)

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


class LoginRequired(Exception):
    """No (valid) session: pages redirect to the login page, the API answers 401."""


#: Where a user whose password was reset chooses a new one.
NEW_PASSWORD_PAGE = "/account"


#: Where a program sets a new password after a reset (``routes.api.change_own_password``).
NEW_PASSWORD_API = "/api/session/password"


class PasswordChangeRequired(PermissionDenied):
    """The signed-in user's password was set by the administrator (a new account or a reset)
    and they have not chosen a new one yet: pages redirect to the password form, the API
    answers 403 with ``code``."""

    code = "password_change_required"

    def __init__(self):
        super().__init__(_("Your password was set by the administrator (a new account or a "
                           "reset): set a new password on the My account page (%(page)s) or "
                           "with POST %(api)s before doing anything else.",
                           page=NEW_PASSWORD_PAGE, api=NEW_PASSWORD_API))


def start_session(request: Request, user) -> None:
    """Sign ``user`` in: a fresh session (and so a fresh CSRF token) that keeps only the
    reader's language."""
    end_session(request)
    request.session[SESSION_USER] = user.id
    request.session[SESSION_EPOCH] = user.session_epoch


def end_session(request: Request) -> None:
    """Sign out: the session is emptied but for the reader's language."""
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    _forget_principal(request)


def stay_signed_in(request: Request, user) -> None:
    """Keep this session signed in after ``user`` changed their password (which signed their
    other sessions out by moving the epoch on); the principal is read afresh."""
    request.session[SESSION_EPOCH] = user.session_epoch
    _forget_principal(request)


def _forget_principal(request: Request) -> None:
    """The request's principal is read again from the session that changed under it."""
    if hasattr(request.state, "principal"):
        del request.state.principal


def load_principal(request: Request, session: Session) -> Principal | None:
    if hasattr(request.state, "principal"):
        return request.state.principal
    principal = None
    user_id = request.session.get(SESSION_USER)
    if user_id is not None:
        row = session.exec(
            select(User, Organisation)
            .join(Organisation, User.organisation_id == Organisation.id, isouter=True)
            .where(User.id == user_id)
        ).first()
        if row is not None:
            user, org = row
            if user.active and user.session_epoch == request.session.get(SESSION_EPOCH):
                principal = Principal(
                    id=user.id,
                    username=user.username,
                    display_name=user.display_name,
                    role=Role(user.role),
                    organisation_id=user.organisation_id,
                    organisation_name=org.name if org else None,
                    organisation_kind=OrganisationKind(org.kind) if org else None,
                    must_change_password=user.must_change_password,
                )
        if principal is None:  # stale cookie: a logged-out, deactivated or deleted user
            request.session.pop(SESSION_USER, None)
            request.session.pop(SESSION_EPOCH, None)
    request.state.principal = principal
    return principal


OwnershipRule = Callable[[Principal, Session, dict], bool]


class Access:
    """A route's access decision; use through :func:`require`, ``signed_in`` or ``public``."""

    def __init__(
        self,
        roles: frozenset[Role] | None,
        *,
        public: bool = False,
        owns: OwnershipRule | None = None,
        before_new_password: bool = False,
    ):
        self.roles = roles
        self.public = public
        self.owns = owns
        self.before_new_password = before_new_password

    def __repr__(self) -> str:
        if self.public:
            return "Access(public)"
        roles = "any signed-in user" if self.roles is None else ",".join(sorted(self.roles))
        return f"Access({roles}{', owns' if self.owns else ''})"

    def __call__(self, request: Request, session: Session = Depends(get_session)):
        principal = load_principal(request, session)
        if self.public:
            return principal
        if principal is None:
            raise LoginRequired()
        if principal.must_change_password and not self.before_new_password:
            raise PasswordChangeRequired()
        if self.roles is not None and principal.role not in self.roles:
            raise PermissionDenied(
                _("Your role does not give access to this endpoint.")
                if request.url.path.startswith("/api/") else
                _("Your role does not give access to this page."))
        if self.owns is not None and not self.owns(principal, session, request.path_params):
            raise NotFound(_("Not found, or not yours to see."))
        return principal

    def admits(self, principal: Principal | None, session: Session, path_params: dict) -> bool:
        """Whether this decision would let the principal in, without raising: to link only
        to the pages the reader may open."""
        if self.public:
            return True
        if principal is None:
            return False
        if principal.must_change_password and not self.before_new_password:
            return False
        if self.roles is not None and principal.role not in self.roles:
            return False
        if self.owns is None:
            return True
        try:
            return bool(self.owns(principal, session, path_params))
        except DomainError:
            return False


class _Anyone(Access):
    """Anyone, without looking up who is signed in: for pages that show no account (a
    respondent's questionnaire, the health check). It does no database work, so it costs
    the request no worker thread."""

    def __init__(self):
        super().__init__(None, public=True)

    def __repr__(self) -> str:
        return "Access(anyone)"

    async def __call__(self, request: Request):
        request.state.principal = None
        return None


def require(*roles: Role, owns: OwnershipRule | None = None) -> Access:
    if not roles:
        raise ValueError("require() needs at least one role; use signed_in for any user")
    return Access(frozenset(roles), owns=owns)


signed_in = Access(None)
#: Any signed-in user, even one who must first choose a new password (``PasswordChangeRequired``):
#: only for their own account page, the password form, who-am-I and signing out.
own_account = Access(None, before_new_password=True)
public = Access(None, public=True)
anyone = _Anyone()


def is_access_decision(call) -> bool:
    return isinstance(call, Access)
