"""The signed-in user's own account: who they are, and a new password."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.i18n import _
from evalplatform.services import accounts
from evalplatform.services.errors import ValidationFailed
from evalplatform.web.access import Principal, own_account, stay_signed_in
from evalplatform.web.forms import FormRoute
from evalplatform.web.templating import flash, redirect, render

router = APIRouter(route_class=FormRoute)


@router.get("/account")
def account_page(request: Request, principal: Principal = Depends(own_account)):
    return render(request, "account.html", {"errors": {}})


@router.post("/account/password")
def change_password(
    request: Request,
    current_password: str = Form(""),
    new_password: str = Form(""),
    confirm_password: str = Form(""),
    session: Session = Depends(get_session),
    principal: Principal = Depends(own_account),
):
    try:
        user = accounts.change_own_password(
            session, principal.actor, principal.id, current_password, new_password,
            confirm_password,
        )
    except ValidationFailed as exc:
        template = "_password_form.html" if request.headers.get("hx-request") else "account.html"
        return render(request, template, {"errors": exc.errors}, status_code=422)
    stay_signed_in(request, user)  # here only
    if principal.must_change_password:  # the temporary password is gone: on to work
        flash(request, _("Your new password is set. Welcome, %(name)s.",
                         name=principal.display_name))
        return redirect(request, "/")
    flash(request, _("Your password has been changed; other sessions have been signed out."))
    return RedirectResponse("/account", status_code=303)
