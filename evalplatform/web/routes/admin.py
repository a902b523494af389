"""Users, organisations and the holiday calendar: kept by the platform administrator; read
by the auditor (who reads everything and changes nothing), and the holiday calendar by finance
too (it owns the working-day deadlines). Every write stays the administrator's; a reader's
pages show no form."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.i18n import _
from evalplatform.models import OrganisationKind, Role
from evalplatform.models.accounts import ROLE_ORGANISATION_KINDS
from evalplatform.services import accounts, workdays
from evalplatform.services.errors import ValidationFailed
from evalplatform.web.access import Principal, require
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import PageNumber
from evalplatform.web.templating import flash, redirect, render

router = APIRouter(route_class=FormRoute, prefix="/admin")
admin_only = require(Role.admin)
#: Who reads the users and the organisations: the administrator and the auditor.
account_readers = require(Role.admin, Role.auditor)
#: Who reads the holiday calendar: also finance, whose deadlines count its working days.
calendar_readers = require(Role.admin, Role.auditor, Role.finance)


def _may_manage(request: Request) -> bool:
    """Whether the reader may change what the page shows (the administrator): the pages show
    their forms only then. Read from the request's principal, so that every page of this
    module, a form sent back with its errors included, decides the same way."""
    principal = getattr(request.state, "principal", None)
    return principal is not None and principal.role == Role.admin


@router.get("/users")
def users(
    request: Request,
    q: str = "",
    role: str = "",
    sort: str = "username",
    page: PageNumber = 1,
    session: Session = Depends(get_session),
    principal: Principal = Depends(account_readers),
):
    result = accounts.page_users(session, q=q, role=role, sort=sort, page=page)
    template = "admin/_users_table.html" if request.headers.get("hx-request") else "admin/users.html"
    return render(request, template, {"page": result, "q": q, "role": role, "roles": list(Role),
                                      "may_manage": _may_manage(request)})


def _user_form_context(session: Session, values: dict, errors: dict) -> dict:
    return {
        "values": values,
        "errors": errors,
        "roles": list(Role),
        "organisations": accounts.list_organisations(session),
    }


@router.get("/users/new")
def new_user(
    request: Request,
    session: Session = Depends(get_session),
    principal: Principal = Depends(admin_only),
):
    return render(request, "admin/user_new.html", _user_form_context(session, {}, {}))


@router.post("/users")
def create_user(
    request: Request,
    username: str = Form(""),
    display_name: str = Form(""),
    role: str = Form(""),
    organisation_id: str = Form(""),
    password: str = Form(""),
    session: Session = Depends(get_session),
    principal: Principal = Depends(admin_only),
):
    values = {"username": username, "display_name": display_name, "role": role,
              "organisation_id": organisation_id}
    try:
        user = accounts.create_user(
            session, principal.actor, username=username, display_name=display_name,
            role=role, organisation_id=organisation_id or None, password=password,
            temporary=True,
        )
    except ValidationFailed as exc:
        template = "admin/_user_form.html" if request.headers.get("hx-request") \
            else "admin/user_new.html"
        return render(request, template, _user_form_context(session, values, exc.errors),
                      status_code=422)
    flash(request, _("User %(name)s created.", name=user.username))
    return redirect(request, "/admin/users")


@router.post("/users/{user_id}/active")
def set_user_active(
    request: Request,
    user_id: int,
    active: bool = Form(...),
    session: Session = Depends(get_session),
    principal: Principal = Depends(admin_only),
):
    user = accounts.set_active(session, principal.actor, user_id, active)
    flash(request, _("User %(name)s activated.", name=user.username) if active
          else _("User %(name)s deactivated.", name=user.username))
    return redirect(request, "/admin/users")


def _user_edit_page(request: Request, session: Session, user, *, values: dict | None = None,
                    errors: dict | None = None, reset_errors: dict | None = None,
                    status_code: int = 200):
    """A user's page: their correctable details, their role (fixed, and why), and the
    password reset."""
    allowed = ROLE_ORGANISATION_KINDS[Role(user.role)]
    organisations = [o for o in accounts.list_organisations(session) if o.kind in allowed]
    return render(request, "admin/user_edit.html", {
        "user": user,
        "organisation": accounts.get_organisation(session, user.organisation_id)
        if user.organisation_id else None,
        "organisations": organisations,
        "no_organisation_allowed": None in allowed,
        "role_is_fixed": accounts.role_is_fixed(),
        "values": values if values is not None else {
            "display_name": user.display_name, "organisation_id": user.organisation_id or ""},
        "errors": errors or {},
        "reset_errors": reset_errors or {},
        "may_manage": _may_manage(request),
    }, status_code=status_code)


@router.get("/users/{user_id}")
def edit_user(
    request: Request,
    user_id: int,
    session: Session = Depends(get_session),
    principal: Principal = Depends(account_readers),
):
    return _user_edit_page(request, session, accounts.get_user(session, user_id))


@router.post("/users/{user_id}")
def update_user(
    request: Request,
    user_id: int,
    display_name: str = Form(""),
    organisation_id: str = Form(""),
    session: Session = Depends(get_session),
    principal: Principal = Depends(admin_only),
):
    try:
        user = accounts.update_user(session, principal.actor, user_id, display_name=display_name,
                                    organisation_id=organisation_id or None)
    except ValidationFailed as exc:
        session.rollback()
        return _user_edit_page(request, session, accounts.get_user(session, user_id),
                               values={"display_name": display_name,
                                       "organisation_id": organisation_id},
                               errors=exc.errors, status_code=422)
    flash(request, _("The details of %(name)s are saved.", name=user.username))
    return redirect(request, "/admin/users")


@router.post("/users/{user_id}/password-reset")
def reset_password(
    request: Request,
    user_id: int,
    password: str = Form(""),
    session: Session = Depends(get_session),
    principal: Principal = Depends(admin_only),
):
    """Give the user a temporary password, typed or generated; a generated one is shown on
    this answer only (never put in the session cookie's flash, never stored)."""
    try:
        reset = accounts.reset_password(session, principal.actor, user_id, password or None)
    except ValidationFailed as exc:
        session.rollback()
        return _user_edit_page(request, session, accounts.get_user(session, user_id),
                               reset_errors=exc.errors, status_code=422)
    response = render(request, "admin/password_reset.html",
                      {"user": reset.user, "generated": reset.generated})
    response.headers["Cache-Control"] = "no-store"
    return response


def _organisation_edit_page(request: Request, org, *, values: dict | None = None,
                            errors: dict | None = None, status_code: int = 200):
    return render(request, "admin/organisation_edit.html", {
        "org": org,
        "kind_is_fixed": accounts.kind_is_fixed(),
        "values": values if values is not None else {
            "name": org.name, "credit_code": org.credit_code or ""},
        "errors": errors or {},
        "may_manage": _may_manage(request),
    }, status_code=status_code)


@router.get("/organisations/{organisation_id}")
def edit_organisation(
    request: Request,
    organisation_id: int,
    session: Session = Depends(get_session),
    principal: Principal = Depends(account_readers),
):
    return _organisation_edit_page(request, accounts.get_organisation(session, organisation_id))


@router.post("/organisations/{organisation_id}")
def update_organisation(
    request: Request,
    organisation_id: int,
    name: str = Form(""),
    credit_code: str = Form(""),
    session: Session = Depends(get_session),
    principal: Principal = Depends(admin_only),
):
    try:
        org = accounts.update_organisation(session, principal.actor, organisation_id, name=name,
                                           credit_code=credit_code or None)
    except ValidationFailed as exc:
        session.rollback()
        return _organisation_edit_page(
            request, accounts.get_organisation(session, organisation_id),
            values={"name": name, "credit_code": credit_code}, errors=exc.errors,
            status_code=422)
    flash(request, _("The details of %(name)s are saved.", name=org.name))
    return redirect(request, "/admin/organisations")


@router.get("/organisations")
def organisations(
    request: Request,
    sort: str = "name",
    page: PageNumber = 1,
    session: Session = Depends(get_session),
    principal: Principal = Depends(account_readers),
):
    result = accounts.page_organisations(session, sort=sort, page=page)
    return render(request, "admin/organisations.html",
                  {"page": result, "kinds": list(OrganisationKind), "values": {}, "errors": {},
                   "may_manage": _may_manage(request)})


@router.post("/organisations")
def create_organisation(
    request: Request,
    name: str = Form(""),
    kind: str = Form(""),
    credit_code: str = Form(""),
    session: Session = Depends(get_session),
    principal: Principal = Depends(admin_only),
):
    try:
        org = accounts.create_organisation(session, principal.actor, name=name, kind=kind,
                                           credit_code=credit_code or None)
    except ValidationFailed as exc:
        values = {"name": name, "kind": kind, "credit_code": credit_code}
        if request.headers.get("hx-request"):
            return render(request, "admin/_organisation_form.html",
                          {"values": values, "errors": exc.errors,
                           "kinds": list(OrganisationKind)}, status_code=422)
        result = accounts.page_organisations(session)
        return render(request, "admin/organisations.html",
                      {"page": result, "kinds": list(OrganisationKind), "values": values,
                       "errors": exc.errors, "may_manage": _may_manage(request)},
                      status_code=422)
    flash(request, _("Organisation %(name)s created.", name=org.name))
    return redirect(request, "/admin/organisations")


def _holidays_page(request: Request, values: dict, errors: dict, status_code: int = 200):
    return render(request, "admin/holidays.html",
                  {"calendar": workdays.known_calendar(), "values": values, "errors": errors,
                   "may_manage": _may_manage(request)},
                  status_code=status_code)


@router.get("/holidays")
def holidays(request: Request, principal: Principal = Depends(calendar_readers)):
    """The years whose working days are known, and (for the administrator) the form to load a
    new year's notice."""
    return _holidays_page(request, {"year": str(workdays.package_years()[1] + 1)}, {})


@router.post("/holidays")
def load_holidays(
    request: Request,
    year: str = Form(""),
    schedule: str = Form(""),
    session: Session = Depends(get_session),
    principal: Principal = Depends(admin_only),
):
    try:
        loaded = workdays.load_year(session, principal.actor, year, schedule)
    except ValidationFailed as exc:
        return _holidays_page(request, {"year": year, "schedule": schedule}, exc.errors,
                              status_code=422)
    flash(request, _("The holidays of %(year)s are loaded: %(off)s day(s) off, %(worked)s "
                     "weekend day(s) worked.", year=loaded.year, off=len(loaded.off),
                     worked=len(loaded.worked)))
    return redirect(request, "/admin/holidays")
