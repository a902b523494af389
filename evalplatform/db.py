"""Database engine and sessions: SQLite (WAL, foreign keys) by default, PostgreSQL via psycopg 3."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from evalplatform.settings import get_settings


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names (or none)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername != "postgresql+psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed.render_as_string(hide_password=False)
    return url


def make_engine(url: str, *, pool_size: int | None = None) -> Engine:
    """The engine for ``url``. On PostgreSQL the pool keeps ``pool_size`` connections open
    (default: the ``worker_threads`` setting), so that every worker thread has one and no
    request pays for opening one. As many again may open for a burst of pages that hold
    their session's connection between two steps in different threads (the access check,
    then the handler); they are closed when given back."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    size = pool_size or get_settings().worker_threads
    engine = create_engine(url, pool_size=size, max_overflow=size)
    _ping_after_idle(engine)
    return engine


#: A pooled connection left unused for longer than this many seconds is tested before it is
#: handed out again.
PING_AFTER_IDLE = 10.0


def _ping_after_idle(engine: Engine) -> None:
    """Test a pooled connection before use only when it has lain idle for a while (a restarted
    or restarting database server, a firewall that dropped it), not on every check-out as
    ``pool_pre_ping`` does: under load that test was one round trip in three of a respondent's
    submission. A dead connection is replaced before use; one that dies while in use fails
    its statement, and the pool then replaces all its connections (SQLAlchemy's
    disconnect handling)."""
    from sqlalchemy.exc import DisconnectionError

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection, record, _proxy):
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since <= PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # psycopg's OperationalError and kin: the pool retries
            raise DisconnectionError(str(exc)) from exc


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().resolved_database_url())


def get_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: one session per request on the app's engine.

    Services own their transactions and commit them; a request that fails rolls back.
    """
    with Session(request.app.state.engine) as session:
        yield session


T = TypeVar("T")


async def run_in_session(request: Request, call: Callable[..., T], /, *args: Any,
                         **kwargs: Any) -> T:
    """``call(session, *args, **kwargs)`` in one worker thread, with a session of its own
    that is opened and closed in that thread.

    For ``async`` handlers on hot paths (a respondent's page): the whole service call costs
    one hop to the thread pool, where the ``get_session`` dependency with a synchronous
    access decision costs three or four.
    """
    def in_thread() -> T:
        with Session(request.app.state.engine) as session:
            return call(session, *args, **kwargs)

    return await run_in_threadpool(in_thread)
