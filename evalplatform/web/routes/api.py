"""The JSON API under /api: the same services as the pages, with an OpenAPI document."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.models import OrganisationKind, Role
from evalplatform.services import accounts, audit, paging
from evalplatform.services.errors import ValidationFailed
from evalplatform.web.access import (
    Principal,
    end_session,
    load_principal,
    own_account,
    public,
    require,
    start_session,
    stay_signed_in,
)
from evalplatform.web.api_schema import Moment, RowId, error_responses
from evalplatform.web.csrf import csrf_token
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import ApiPage, ApiPerPage
from evalplatform.web.templating import action_label, render

router = APIRouter(route_class=FormRoute, prefix="/api")


class Me(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    organisation_id: int | None
    organisation_name: str | None
    must_change_password: bool = Field(
        description="The administrator created the account or reset the password: until "
                    "the user sets a new one (POST "
                    "/api/session/password, or the page /account), every other endpoint "
                    "answers 403 with code password_change_required")
    csrf_token: str = Field(description="Send it in the X-CSRF-Token header of every "
                                        "state-changing request of this session")


class SessionState(BaseModel):
    signed_in: bool
    csrf_token: str = Field(description="Send it in the X-CSRF-Token header of the next "
                                        "state-changing request (POST /api/session to sign in)")


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a mistyped key is refused, not left out

    username: str
    password: str


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    organisation_id: int | None
    organisation_name: str | None
    active: bool
    must_change_password: bool = Field(description="The administrator created the account or "
                                                   "reset the password and the user has not "
                                                   "set a new one yet")
    last_login_at: Moment | None


class UserPage(BaseModel):
    items: list[UserOut]
    total: int
    page: int
    pages: int
    per_page: int
    sort: str = Field(description="The sort applied, a leading - descending")


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a mistyped key is refused, not left out

    username: str
    display_name: str
    role: str
    organisation_id: RowId | None = None
    password: str


class UserPatch(BaseModel):
    """The details of a user that may be corrected; a field left out stays as it is, a field
    not listed (the username, the password) is refused."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, description="The user's name")
    organisation_id: RowId | None = Field(
        default=None, description="The organisation, of a kind the user's role may belong to; "
                                  "null for none, where the role allows none")
    role: str | None = Field(default=None, description="Not correctable: a different role "
                             "is refused (create a new account for it)")


class PasswordResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a mistyped key is refused, not left out

    password: str | None = Field(
        default=None, description="The temporary password (at least 10 characters); left out "
                                  "or empty, the platform generates one")


class PasswordResetOut(BaseModel):
    user: UserOut
    temporary_password: str | None = Field(
        description="The generated temporary password, answered only this once; null when "
                    "the caller typed it")


class OrganisationOut(BaseModel):
    id: int
    name: str
    kind: OrganisationKind
    credit_code: str | None


class OrganisationPage(BaseModel):
    items: list[OrganisationOut]
    total: int
    page: int
    pages: int
    per_page: int
    sort: str = Field(description="The sort applied, a leading - descending")


class AuditEntryOut(BaseModel):
    seq: int = Field(description="The entry's number in the chain, from 1")
    at: Moment
    actor: str = Field(description="The username of who acted, or system")
    action: str = Field(description="What was done, e.g. project.approve")
    action_label: str = Field(description="The action in the reader's language")
    entity_type: str = Field(description="The kind of object, e.g. project")
    entity_id: str
    change: dict = Field(description="What changed, as recorded")
    prev_hash: str = Field(description="The hash of the entry before (64 hex digits)")
    hash: str = Field(description="SHA-256 over prev_hash and payload (64 hex digits)")
    payload: str = Field(description="The entry's canonical JSON that the hash covers: "
                                     "hash = SHA-256(prev_hash + payload), UTF-8")


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    total: int
    page: int
    pages: int
    per_page: int
    sort: str = Field(description="The sort applied, a leading - descending")


class ChainStatus(BaseModel):
    ok: bool
    entries: int
    broken_seq: int | None
    reason: str


@router.get("/me",
            summary="Who is signed in (当前用户)", tags=["session"], response_model=Me,
            responses=error_responses(401))
def me(request: Request, principal: Principal = Depends(own_account)):
    """Who is signed in, and the session's CSRF token: signing in starts a fresh session with
    a fresh token, which a program would otherwise have to read out of a page."""
    return Me(**{k: getattr(principal, k) for k in Me.model_fields if k != "csrf_token"},
              csrf_token=csrf_token(request))


@router.get("/session",
            summary="The session and its CSRF token (会话状态)", tags=["session"],
            response_model=SessionState)
def session_state(request: Request, session: Session = Depends(get_session),
                  _access=Depends(public)):
    """Whether this session is signed in, and its CSRF token: a program reads it first, then
    signs in with POST /api/session, sending the token in the X-CSRF-Token header."""
    return SessionState(signed_in=load_principal(request, session) is not None,
                        csrf_token=csrf_token(request))


@router.post("/session",
             summary="Sign in (登录)", tags=["session"], response_model=Me,
             responses=error_responses(403, 422, 429))
def sign_in(request: Request, body: SignIn, session: Session = Depends(get_session),
            _access=Depends(public)):
    """Sign in with a username and password, as the sign-in page does (the same checks, the
    same lockouts after repeated failures of the account or from the caller's address,
    answered 429). The session starts afresh: the
    answer carries its new CSRF token."""
    user = accounts.authenticate(session, body.username, body.password,
                                 request.client.host if request.client else None).user
    start_session(request, user)
    principal = load_principal(request, session)
    return Me(**{k: getattr(principal, k) for k in Me.model_fields if k != "csrf_token"},
              csrf_token=csrf_token(request))


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a mistyped key is refused, not left out

    current_password: str
    new_password: str = Field(description=f"At least {accounts.MIN_PASSWORD_LENGTH} characters; "
                                          "after a reset, not the temporary one")
    confirm_password: str | None = Field(
        default=None, description="The new password again, as a form asks for it; left out, "
                                  "the new password is taken as confirmed")


@router.post("/session/password",
             summary="Change one's own password (修改密码)", tags=["session"], response_model=Me,
             responses=error_responses(401, 403, 422))
def change_own_password(request: Request, body: NewPassword,
                        session: Session = Depends(get_session),
                        principal: Principal = Depends(own_account)):
    """Change the signed-in user's own password, as the page /account does (the same rules
    and audit entry). After a reset by the administrator this is the one write allowed: the
    answer says ``must_change_password: false`` and every endpoint is open again. Other
    sessions of the user are signed out; this one stays signed in."""
    confirm = body.new_password if body.confirm_password is None else body.confirm_password
    user = accounts.change_own_password(session, principal.actor, principal.id,
                                        body.current_password, body.new_password, confirm)
    stay_signed_in(request, user)
    principal = load_principal(request, session)
    return Me(**{k: getattr(principal, k) for k in Me.model_fields if k != "csrf_token"},
              csrf_token=csrf_token(request))


@router.delete("/session",
               summary="Sign out (退出)", tags=["session"], status_code=204,
               responses=error_responses(401, 403))
def sign_out(request: Request, session: Session = Depends(get_session),
             principal: Principal = Depends(own_account)):
    """Sign out, as the page's 退出 does."""
    accounts.sign_out(session, principal.id)
    end_session(request)
    return Response(status_code=204)


def _user_out(user, org) -> UserOut:
    return UserOut(
        id=user.id, username=user.username, display_name=user.display_name, role=user.role,
        organisation_id=user.organisation_id, organisation_name=org.name if org else None,
        active=user.active, must_change_password=user.must_change_password,
        last_login_at=user.last_login_at,
    )


@router.get("/users",
            summary="List users (用户列表)", tags=["users"], response_model=UserPage,
            responses=error_responses(401, 403, 422))
def list_users(
    q: str = Query("", description="Words in the username or name"),
    role: str = Query("", description="A role: " + ", ".join(Role.__members__)),
    sort: str = Query("username", description="username, display_name, role, organisation or "
                      "last_login_at; a leading - sorts descending"),
    page: ApiPage = 1,
    per_page: ApiPerPage = 50,
    session: Session = Depends(get_session),
    principal: Principal = Depends(require(Role.admin, Role.auditor)),
):
    """The platform's users, a page at a time, as the administrator's list shows them
    (administrator and auditor, who reads it and changes nothing): username, name, role,
    organisation, whether active, last sign-in."""
    problems = accounts.filter_problems(role)
    if problems:
        raise ValidationFailed(problems)
    result = accounts.page_users(session, q=q, role=role, sort=sort, page=page, per_page=per_page)
    problems = paging.list_problems(result, sort=sort, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return UserPage(items=[_user_out(u, o) for u, o in result.items], total=result.total,
                    page=result.page, pages=result.pages, per_page=result.per_page,
                    sort=paging.applied_sort(result))


@router.post("/users",
             summary="Create a user (新建用户)", tags=["users"], response_model=UserOut, status_code=201,
             responses=error_responses(401, 403, 422))
def create_user(
    body: UserIn,
    session: Session = Depends(get_session),
    principal: Principal = Depends(require(Role.admin)),
):
    """Create a user (administrator only), as the new-user page does: the same checks of the
    username, name, role, organisation (a role that belongs to an organisation needs one of
    the right kind) and password, and the same audit entry (user.create). The password is
    temporary: at the first sign-in the user must choose their own before anything else."""
    user = accounts.create_user(session, principal.actor, **body.model_dump(), temporary=True)
    org = accounts.get_organisation(session, user.organisation_id) if user.organisation_id else None
    return _user_out(user, org)


@router.patch("/users/{user_id}",
              summary="Correct a user's name or organisation (更正用户)", tags=["users"],
              response_model=UserOut,
              responses=error_responses(401, 403, 404, 422))
def update_user(
    user_id: int,
    body: UserPatch,
    session: Session = Depends(get_session),
    principal: Principal = Depends(require(Role.admin)),
):
    """Correct a user's name or organisation, as the user's page does (the same rules, the
    same audit entry). The role cannot be changed."""
    given = body.model_dump(include=body.model_fields_set)
    user = accounts.update_user(session, principal.actor, user_id, **given)
    org = accounts.get_organisation(session, user.organisation_id) if user.organisation_id else None
    return _user_out(user, org)


@router.post("/users/{user_id}/password-reset",
             summary="Reset a user's password (重置密码)", tags=["users"], response_model=PasswordResetOut,
             responses=error_responses(401, 403, 404, 422))
def reset_password(
    user_id: int,
    body: PasswordResetIn | None = None,
    session: Session = Depends(get_session),
    principal: Principal = Depends(require(Role.admin)),
):
    """Give a user who forgot their password a temporary one, as the user's page does: their
    sessions end, and they must set a new password before anything else. Not for the
    caller's own account."""
    reset = accounts.reset_password(session, principal.actor, user_id,
                                    body.password if body else None)
    user = reset.user
    org = accounts.get_organisation(session, user.organisation_id) if user.organisation_id else None
    return PasswordResetOut(user=_user_out(user, org), temporary_password=reset.generated)


@router.get("/organisations",
            summary="List organisations (机构列表)", tags=["users"], response_model=OrganisationPage,
            responses=error_responses(401, 403, 422))
def list_organisations(
    q: str = Query("", description="Words in the name or the unified social credit code"),
    kind: str = Query("", description="A kind: " + ", ".join(OrganisationKind.__members__)),
    sort: str = Query("name", description="name, kind or created_at; a leading - sorts "
                      "descending"),
    page: ApiPage = 1,
    per_page: ApiPerPage = 50,
    session: Session = Depends(get_session),
    principal: Principal = Depends(require(Role.admin, Role.finance, Role.auditor)),
):
    """The registered organisations, a page at a time, as the administrator's list shows them."""
    problems = accounts.organisation_filter_problems(kind)
    if problems:
        raise ValidationFailed(problems)
    result = accounts.page_organisations(session, q=q, kind=kind, sort=sort, page=page,
                                         per_page=per_page)
    problems = paging.list_problems(result, sort=sort, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return OrganisationPage(
        items=[OrganisationOut.model_validate(o, from_attributes=True) for o in result.items],
        total=result.total, page=result.page, pages=result.pages, per_page=result.per_page,
        sort=paging.applied_sort(result))


@router.get("/audit",
            summary="List the audit log (审计日志)", tags=["audit"], response_model=AuditPage,
            responses=error_responses(401, 403, 422))
def list_audit_entries(
    action: str = Query("", description="An action, e.g. project.approve"),
    entity_type: str = Query("", description="A kind of object, e.g. project"),
    actor: str = Query("", description="A username (system for the platform's own entries)"),
    since: str = Query("", description="The first day, YYYY-MM-DD (China time), included"),
    until: str = Query("", description="The last day, YYYY-MM-DD (China time), included"),
    sort: str = Query("-seq", description="seq, actor_name, action or entity_type; a leading - "
                      "sorts descending"),
    page: ApiPage = 1,
    per_page: ApiPerPage = 50,
    session: Session = Depends(get_session),
    principal: Principal = Depends(require(Role.auditor, Role.finance, Role.admin)),
):
    """The audit log a page at a time, as its page shows it (auditors, finance and the
    administrator), with each entry's recorded change and both hashes. The whole filtered log
    as one CSV file: ``GET /audit.csv`` with the same filters."""
    filters = audit.AuditFilters(action=action, entity_type=entity_type, actor=actor,
                                 since=since, until=until)
    problems = filters.problems()
    if problems:
        raise ValidationFailed(problems)
    result = audit.page_entries(session, sort=sort, page=page, per_page=per_page,
                                filters=filters)
    problems = paging.list_problems(result, sort=sort, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return AuditPage(
        items=[AuditEntryOut(seq=e.seq, at=e.at, actor=e.actor_name, action=e.action,
                             action_label=action_label(e.action), entity_type=e.entity_type,
                             entity_id=e.entity_id, change=json.loads(e.change or "{}"),
                             prev_hash=e.prev_hash, hash=e.hash,
                             payload=audit.canonical_json(audit.entry_payload(e)))
               for e in result.items],
        total=result.total, page=result.page, pages=result.pages, per_page=result.per_page,
        sort=paging.applied_sort(result))


@router.get("/audit/verify",
            summary="Verify the audit log's hash chain (校验审计链)", tags=["audit"],
            response_model=ChainStatus,
            responses=error_responses(401, 403))
def verify_audit_chain(
    session: Session = Depends(get_session),
    principal: Principal = Depends(require(Role.auditor, Role.finance, Role.admin)),
):
    """Recompute the audit log's hash chain from the first entry (auditors, finance and the
    administrator): ``ok`` when every entry still hashes to its successor's link; otherwise
    ``broken_seq`` names the first entry that was changed, removed or inserted, and ``reason``
    says how. Also a command: ``evalplatform audit verify``."""
    result = audit.verify(session)
    return ChainStatus(ok=result.ok, entries=result.entries, broken_seq=result.broken_seq,
                       reason=result.explanation() if not result.ok else result.reason)


@router.get("/docs")  # a page (web.app.API_PAGES): not an operation of the document
def api_docs(request: Request, _access=Depends(public)):
    """This API's document, readable and tried out in the browser (Swagger UI, served from the
    npm package like every front-end asset): its requests carry the browser's session, and
    the page adds the session's CSRF token to those that change something."""
    return render(request, "api_docs.html", {"main_element": "div"})  # Swagger UI has its <main>
