"""The PostgreSQL connection pool: a connection is tested before use only after lying idle, and
a dead one is replaced."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from evalplatform import db as db_module
from tests.conftest import _pg_admin_connection


@pytest.fixture
def pg_engine(database_url, monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip("the pool's ping is PostgreSQL's")
    engine = db_module.make_engine(database_url, pool_size=1)
    pings = []
    real_ping = engine.dialect.do_ping

    def counted(dbapi_connection):
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    engine.pings = pings
    yield engine
    engine.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(pid: int) -> None:
    admin = _pg_admin_connection()
    try:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    finally:
        admin.close()


def test_a_connection_in_steady_use_is_not_pinged(pg_engine):
    first = _backend_pid(pg_engine)
    for _ in range(5):
        assert _backend_pid(pg_engine) == first  # the same pooled connection each time
    assert pg_engine.pings == []


def test_a_connection_idle_for_a_while_is_pinged_and_a_dead_one_replaced(pg_engine, monkeypatch):
    first = _backend_pid(pg_engine)
    _terminate(first)  # e.g. a database restart while the pool slept
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE", 0.0)
    second = _backend_pid(pg_engine)  # no error: the ping found it dead, a new one was made
    assert second != first
    assert len(pg_engine.pings) == 1
    assert _backend_pid(pg_engine) == second
    assert len(pg_engine.pings) == 2  # idle again (0 s allowed): pinged again, alive


def test_a_connection_that_died_recently_fails_one_statement_then_the_pool_recovers(pg_engine):
    """The price of not pinging on every check-out: a connection killed within the idle
    allowance fails its next statement (the request gets an error and nothing is stored); the
    pool then replaces its connections, and the next statement succeeds."""
    first = _backend_pid(pg_engine)
    _terminate(first)
    with pytest.raises(OperationalError), pg_engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert _backend_pid(pg_engine) != first
    assert pg_engine.pings == []
