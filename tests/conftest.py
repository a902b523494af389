"""Shared fixtures: the same suite runs on SQLite and on PostgreSQL.

``database_url`` is parametrised by backend. The PostgreSQL run creates its own database
and drops it afterwards; it is skipped when no server answers, except under ``CI``, where
that is a failure. Every test that touches the database starts from empty tables.
"""

from __future__ import annotations

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

    def _make(kind: str, name: str | None = None, **kwargs):
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
