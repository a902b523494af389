"""Shared fixtures: the same suite runs on SQLite and on PostgreSQL.

``database_url`` is parametrised by backend. The PostgreSQL run creates its own database
and drops it afterwards; it is skipped when no server answers, except under ``CI``, where
that is a failure. Every test that touches the database starts from empty tables.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import uuid
from pathlib import Path

import pytest

# Keep runtime state of the test run out of the work tree.
_VAR = Path(tempfile.mkdtemp(prefix="evalplatform-test-"))
os.environ["EVAL_VAR_DIR"] = str(_VAR)
os.environ.pop("EVAL_DATABASE_URL", None)
os.environ.setdefault("EVAL_SECRET_KEY", "test-secret-key-not-for-production")
# No worker mixes answers behind a test's back (a live server's mixer would move the answers
# of every test that shares its database); the tests of mixing run it themselves.
os.environ["EVAL_MIX_SECONDS"] = "0"

from sqlalchemy import text  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

from evalplatform.db import make_engine  # noqa: E402
from evalplatform.migrate import upgrade  # noqa: E402

PG_SERVER = os.environ.get("EVAL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
PASSWORD = "correct-horse-battery"


def _pg_admin_connection():
    import psycopg

    return psycopg.connect(PG_SERVER.replace("+psycopg", "") + "/postgres", autocommit=True,
                           connect_timeout=5)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    try:
        admin = _pg_admin_connection()
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CI"):
            pytest.fail(f"CI requires PostgreSQL at {PG_SERVER}, but it does not answer: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_SERVER}: {exc}")
    name = f"evaltest_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_SERVER}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def backend(database_url) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def empty_all_tables(engine) -> None:
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                              + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def db(engine):
    """A session on empty tables; the tables are emptied again afterwards."""
    empty_all_tables(engine)
    with Session(engine) as session:
        yield session
    empty_all_tables(engine)


@pytest.fixture
def settings(database_url):
    from evalplatform.settings import Settings

    return Settings(var_dir=_VAR, database_url=database_url,
                    secret_key="test-secret-key-not-for-production")


@pytest.fixture
def app(settings, engine, db):
    from evalplatform.web.app import create_app

    return create_app(settings=settings, engine=engine)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def statements_of(db, call) -> tuple:
    """``call()``'s answer and the number of SQL statements it sent through ``db``'s
    connection: what a test of N+1 reads compares for one record and for several."""
    from sqlalchemy import event

    seen = []

    def note(*_args):
        seen.append(1)

    bind = db.get_bind()
    event.listen(bind, "before_cursor_execute", note)
    try:
        answer = call()
    finally:
        event.remove(bind, "before_cursor_execute", note)
    return answer, len(seen)


def csrf_from(client, path: str = "/login") -> str:
    response = client.get(path)
    match = CSRF_RE.search(response.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    token = csrf_from(client, "/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token})


@pytest.fixture
def make_org(db):
    from evalplatform.services import accounts
    from evalplatform.services.audit import SYSTEM
    from evalplatform.services.demo import credit_code

    def _make(kind: str, name: str | None = None, **kwargs):
        if kind in ("supplier", "third_party_firm"):  # registered bodies hold a credit code
            kwargs.setdefault("credit_code", credit_code("91", uuid.uuid4().hex[:8].upper()))
        return accounts.create_organisation(
            db, SYSTEM, name=name or f"{kind}-{uuid.uuid4().hex[:6]}", kind=kind, **kwargs
        )

    return _make


ROLE_ORG_KIND = {
    "finance": "finance_bureau",
    "purchaser": "purchasing_department",
    "evaluator": "third_party_firm",
    "supplier": "supplier",
    "auditor": "oversight_body",
    "admin": None,
}


@pytest.fixture
def make_user(db, make_org):
    from evalplatform.services import accounts
    from evalplatform.services.audit import SYSTEM

    def _make(role: str, username: str | None = None, organisation=None, **kwargs):
        if organisation is None and ROLE_ORG_KIND[role]:
            organisation = make_org(ROLE_ORG_KIND[role])
        return accounts.create_user(
            db, SYSTEM, username=username or f"{role}{uuid.uuid4().hex[:6]}",
            display_name=kwargs.pop("display_name", f"{role} user"), role=role,
            organisation_id=organisation.id if organisation else None,
            password=kwargs.pop("password", PASSWORD),
        )

    return _make


@pytest.fixture
def signed_in(client, make_user):
    """Sign the test client in as a new user of the given role; returns the user."""

    def _sign_in(role: str, **kwargs):
        user = make_user(role, **kwargs)
        response = login(client, user.username)
        assert response.status_code == 303, response.text
        return user

    return _sign_in


# ---------------------------------------------------------------- the browser harness

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "test-screenshots"


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def served(factory: str, database_url: str, *, name: str = "server", **extra_env):
    """``factory`` (an app factory's import path) served by uvicorn in its own process on a
    free loopback port, until the block ends; yields its base URL once ``/healthz`` answers."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = _free_port()
    env = {**os.environ, "EVAL_DATABASE_URL": database_url, "EVAL_VAR_DIR": str(_VAR),
           "EVAL_SECRET_KEY": "test-secret-key-not-for-production", **extra_env}
    log_path = _VAR / f"{name}-{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", factory, "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log.close()
            pytest.fail("the test server did not start: "
                        + log_path.read_text(errors="replace")[-2000:])
        time.sleep(0.2)
    try:
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def live_server(database_url, engine):
    """The application served by uvicorn in its own process on a free loopback port."""
    with served("evalplatform.web.app:create_app", database_url) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI requires Chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=[{"width": 1280, "height": 800}, {"width": 375, "height": 740}],
                ids=["desktop", "phone"])
def viewport(request):
    return request.param


@pytest.fixture
def page(request, browser, live_server, db, viewport):
    """A fresh browser context per test; a failing test leaves a screenshot in var/."""
    context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot of the failing page: {path}")
    context.close()


def htmx_settled(page) -> None:
    """Wait, as a person would, until htmx has taken up what it last swapped in."""
    page.locator(".htmx-request, .htmx-swapping, .htmx-settling").first.wait_for(
        state="detached")


def browser_login(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#f-username", username)
    page.fill("#f-password", password)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/")


def answering_yes(page):
    """The next confirmation the page asks (a step that cannot be undone) is answered yes;
    returns the page, so that ``answering_yes(page).click("#approve")`` reads as the user acts."""
    page.once("dialog", lambda dialog: dialog.accept())
    return page
