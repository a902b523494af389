"""The home page per role, the language switch and the health check."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import text
from sqlmodel import Session

from evalplatform.db import get_session, run_in_session
from evalplatform.i18n import LANGUAGES
from evalplatform.services import dashboard
from evalplatform.web.access import Principal, public, signed_in
from evalplatform.web.forms import FormRoute
from evalplatform.web.lean import LeanRoutes
from evalplatform.web.templating import render

router = APIRouter(route_class=FormRoute)
health = LeanRoutes()


@router.get("/")
def home(
    request: Request,
    session: Session = Depends(get_session),
    principal: Principal = Depends(signed_in),
):
    board = dashboard.for_principal(session, principal.role, principal.organisation_id,
                                    principal)
    return render(request, "home.html", {"board": board})


@router.post("/language")
def switch_language(
    request: Request,
    language: str = Form(...),
    next: str = Form("/"),
    _access=Depends(public),
):
    if language in LANGUAGES:
        request.session["lang"] = language
    # the same page, its query kept (a code typed, a list's filters); only a path of this site:
    # "//host" or "/\\host" (which browsers read as "//host") would leave it
    target = next if next.startswith("/") and not next.startswith("//") and "\\" not in next \
        else "/"
    return RedirectResponse(target, status_code=303)


def _database_answers(session: Session) -> None:
    """One statement with no transaction around it: one round trip, as a survey answer's
    write is (the benchmarks use this endpoint as their reference)."""
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"}).execute(
        text("SELECT 1"))


@health.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """For load balancers: 200 when the database answers, 503 when it does not. A lean route
    (``web.lean``) like a respondent's submission, and called the way the respondents' pages
    call their services (one worker thread, its own session)."""
    try:
        await run_in_session(request, _database_answers)
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
