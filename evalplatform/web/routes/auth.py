"""Sign in and sign out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.i18n import _
from evalplatform.services import accounts
from evalplatform.services.errors import Throttled, ValidationFailed
from evalplatform.web.access import Principal, end_session, own_account, public, start_session
from evalplatform.web.forms import FormRoute
from evalplatform.web.templating import flash, render

router = APIRouter(route_class=FormRoute)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a user off the platform after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login")
def login_page(request: Request, next: str = "/", principal=Depends(public)):
    if principal is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "errors": {}, "username": ""})


@router.post("/login")
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    session: Session = Depends(get_session),
    _access=Depends(public),
):
    try:
        result = accounts.authenticate(session, username, password,
                                       request.client.host if request.client else None)
    except (ValidationFailed, Throttled) as exc:
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"password": exc.message}
        status = 429 if isinstance(exc, Throttled) else 422
        return render(
            request, "login.html",
            {"next": _safe_next(next), "errors": errors, "username": username},
            status_code=status,
        )
    user = result.user
    start_session(request, user)  # a fresh session (and CSRF token) at every sign-in
    flash(request, _("Welcome, %(name)s.", name=user.display_name))
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(
    request: Request,
    session: Session = Depends(get_session),
    principal: Principal = Depends(own_account),
):
    accounts.sign_out(session, principal.id)
    end_session(request)
    flash(request, _("You have signed out."))
    return RedirectResponse("/login", status_code=303)
