"""The lean routes (a respondent's submission, the health check) keep every rule a route has:
an access decision, the CSRF check, the application's error pages, the request's language."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import func, select
from starlette.requests import Request

from evalplatform import i18n
from evalplatform.db import run_in_session
from evalplatform.models import Invitation, SurveyResponse
from evalplatform.web.access import public
from evalplatform.web.lean import LeanRoute
from evalplatform.web.routes import LEAN_ROUTES
from tests.survey_helpers import STREET_ANSWERS, open_survey_codes


@pytest.fixture
def code(db, make_user, make_org):
    return open_survey_codes(db, make_user, make_org)[0]


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _stored(db) -> int:
    return db.exec(select(func.count()).select_from(SurveyResponse)).one()


def test_the_lean_routes_are_the_submissions_and_the_health_check_and_come_first(app):
    assert {(r.path, tuple(sorted(r.methods))) for r in LEAN_ROUTES} == {
        ("/s/{code}", ("POST",)), ("/o/{token}", ("POST",)), ("/healthz", ("GET", "HEAD"))}
    assert app.routes[:len(LEAN_ROUTES)] == LEAN_ROUTES
    assert "/healthz" not in app.openapi()["paths"]


def test_a_lean_route_is_only_for_anyone():
    async def endpoint(request):  # pragma: no cover - never called
        raise AssertionError

    with pytest.raises(ValueError, match="APIRouter"):
        LeanRoute("/x", endpoint, methods=["POST"], access=public)


def test_a_submission_without_the_csrf_token_is_refused_and_uses_nothing(client, db, code):
    client.get(f"/s/{code}")
    refused = client.post(f"/s/{code}", data=STREET_ANSWERS)
    assert refused.status_code == 403
    assert "表单已过期" in refused.text and "<html" in refused.text  # the application's page
    wrong = client.post(f"/s/{code}", data={**STREET_ANSWERS, "csrf_token": "x" * 43})
    assert wrong.status_code == 403
    assert _stored(db) == 0 and not db.exec(select(Invitation)).one().used


@pytest.mark.parametrize("path", ["/o/%00", "/o/abc%00def", "/s/AB%00CD2345"])
def test_a_nul_in_a_submissions_address_names_nothing_and_reaches_no_query(client, db, path):
    """PostgreSQL's text holds no NUL: the address is refused as naming nothing (404), as a
    page's is, before the database is asked (it answered a 500 to anyone)."""
    refused = client.post(path, data={**STREET_ANSWERS, "csrf_token": "x" * 43})  # checked first
    assert refused.status_code == 404
    assert _stored(db) == 0


def test_a_submission_in_english_is_answered_in_english(client, db, code):
    token = _token(client.get(f"/s/{code}").text)
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": token})
    partial = {k: v for k, v in STREET_ANSWERS.items() if k != "Q2"}
    refused = client.post(f"/s/{code}", data={**partial, "csrf_token": token})
    assert refused.status_code == 422
    assert "Please answer this question" in refused.text and "请回答此题" not in refused.text
    done = client.post(f"/s/{code}", data={**STREET_ANSWERS, "csrf_token": token})
    assert done.status_code == 303
    again = client.post(f"/s/{code}", data={**STREET_ANSWERS, "csrf_token": token})
    assert again.status_code == 409 and "already been used" in again.text
    assert _stored(db) == 1


def test_other_methods_on_a_submission_path_go_to_the_page_or_are_not_allowed(client, code):
    assert client.get(f"/s/{code}").status_code == 200  # the questionnaire (an APIRoute)
    assert client.put(f"/s/{code}", data={}).status_code == 405
    assert client.head("/healthz").status_code == 200


def test_run_in_session_carries_the_requests_language_into_its_thread(app):
    request = Request({"type": "http", "app": app, "headers": [], "method": "GET"})

    async def in_language(language):
        i18n.set_language(language)
        return await run_in_session(request, lambda _session: i18n.current_language())

    def run(language):  # a loop of its own, in a thread of its own (the test's may have one)
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, in_language(language)).result()

    assert run("en") == "en"
    assert run("zh_CN") == "zh_CN"


def test_the_application_answers_after_being_stopped_and_started_again(app):
    from fastapi.testclient import TestClient

    for _run in range(2):
        with TestClient(app) as client:
            assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
