"""Database engine and sessions: SQLite (WAL, foreign keys) by default, PostgreSQL via psycopg 3."""

from __future__ import annotations

import asyncio
import contextvars
import time
import weakref
from collections import namedtuple
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine
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

#: The largest whole number an id or other INTEGER column holds (PostgreSQL's INTEGER is 32-bit;
#: SQLite's, 64). A bigger number names no row: compared with a column, it is refused by the
#: driver (an overflow) instead of matching nothing, so a request is stopped before it asks.
MAX_INTEGER = 2**31 - 1


def form_integer(value) -> int | None:
    """A whole number sent in a form (a row's id, a record's version) that an INTEGER column
    can hold: ASCII digits with spaces around, 0 to :data:`MAX_INTEGER`; None for anything
    else (a word, a sign, "1e3", a number too large), which names no row."""
    text = "" if value is None else str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if number <= MAX_INTEGER else None


def form_version(value) -> int | None:
    """The version of a record that a form says it changes (optimistic locking): None when
    it names none; a value that is no version (a form tampered with) is -1, which no record
    has, so that the change is refused as one made on a stale page, never applied blindly."""
    text = "" if value is None else str(value).strip()
    if text in ("", "0"):
        return None
    number = form_integer(text)
    return -1 if number is None else number


def row_named(session, model, value):
    """The row of ``model`` whose id a form sent, or None: no such row, or no id at all (a
    number too large is not sent to the database, whose driver would refuse it)."""
    number = form_integer(value)
    return None if number is None else session.get(model, number)


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


class DriverStatement:
    """An SQLAlchemy statement compiled once for an engine's dialect and run on the database
    driver's own cursor (see :func:`driver_cursor`).

    For the few statements of a hot path (a respondent's submission with a code): SQLAlchemy
    writes the SQL and converts the values, as it would, but its execution machinery
    (session, transaction, result objects), which costs more than the database's own work
    here, is left out. Values and rows go through the column types' own bind and
    result processors, so what is stored and read is what the ORM path stores and reads.
    """

    def __init__(self, statement, engine: Engine):
        dialect = engine.dialect
        self.statement = statement
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        self._processors = {}
        for name in compiled.params:
            processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._processors[name] = processor
        self._defaults = {name: value for name, value in compiled.params.items()
                          if value is not None}
        columns = list(getattr(statement, "selected_columns", []))
        self._row = namedtuple("Row", [c.key for c in columns]) if columns else None
        self._results = [(i, p) for i, c in enumerate(columns)
                         if (p := c.type.dialect_impl(dialect).result_processor(dialect, None))]

    def parameters(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The driver's parameters: the statement's own literals, then ``values``, each
        converted by its column type."""
        merged = {**self._defaults, **values}
        for name, processor in self._processors.items():
            if name in merged:
                merged[name] = processor(merged[name])
        return merged

    def first(self, cursor, values: Mapping[str, Any]):
        """The first row (a named tuple of the selected columns' keys), or None."""
        cursor.execute(self.sql, self.parameters(values))
        found = cursor.fetchone()
        if found is None:
            return None
        if self._results:
            found = list(found)
            for i, processor in self._results:
                found[i] = processor(found[i])
        return self._row(*found)

    def returned(self, cursor, values: Mapping[str, Any]) -> list:
        """Runs the statement; the first column of every row it returns (e.g. ``RETURNING
        id``), as the driver gives it."""
        cursor.execute(self.sql, self.parameters(values))
        return [row[0] for row in cursor.fetchall()]

    def rowcount(self, cursor, values: Mapping[str, Any]) -> int:
        """Runs the statement; the number of rows it wrote."""
        cursor.execute(self.sql, self.parameters(values))
        return cursor.rowcount


_DRIVER_STATEMENTS: dict[tuple, DriverStatement] = {}


def driver_statement(statement, engine: Engine) -> DriverStatement:
    """``statement`` compiled for ``engine``'s dialect, once per process: ``statement`` is one
    that lives as long as the process (made by a ``functools.cache`` function)."""
    key = (id(statement), engine.dialect.name, engine.dialect.driver)
    found = _DRIVER_STATEMENTS.get(key)
    if found is None or found.statement is not statement:
        found = _DRIVER_STATEMENTS[key] = DriverStatement(statement, engine)
    return found


@contextmanager
def driver_cursor(engine: Engine) -> Iterator[Any]:
    """A cursor of the driver itself on one of the pool's connections, in autocommit mode:
    each statement commits by itself, so a statement that must be atomic must be one
    statement (e.g. a data-modifying ``WITH``). The connection goes back to the pool in
    transaction mode; one that the database dropped is discarded from the pool, as
    SQLAlchemy does for its own statements. PostgreSQL only (psycopg 3)."""
    pooled = engine.raw_connection()
    connection = pooled.driver_connection
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            yield cursor
    except engine.dialect.loaded_dbapi.Error as exc:
        if connection.closed or engine.dialect.is_disconnect(exc, pooled, None):
            pooled.invalidate(exc)
        raise
    finally:
        if not connection.closed and pooled.is_valid:
            connection.autocommit = False
        pooled.close()


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


def session_threads(size: int) -> ThreadPoolExecutor:
    """The threads in which :func:`run_in_session` calls services (one pool per application;
    ``size`` is the ``worker_threads`` setting, as many as the database connections kept)."""
    return ThreadPoolExecutor(max_workers=size, thread_name_prefix="session")


async def run_in_session(request: Request, call: Callable[..., T], /, *args: Any,
                         **kwargs: Any) -> T:
    """``call(session, *args, **kwargs)`` in one worker thread, with a session of its own
    that is opened and closed in that thread, and the request's context variables (its
    language).

    For ``async`` handlers on hot paths (a respondent's page): the whole service call costs
    one hop to a thread, where the ``get_session`` dependency with a synchronous access
    decision costs three or four. The hop goes straight to the application's own pool
    (``app.state.session_threads``): anyio's ``to_thread`` (Starlette's ``run_in_threadpool``)
    costs about 100 µs more of the processor per hop, for a capacity limiter and cancel scope
    that a call which always runs to its end does not need.
    """
    engine = request.app.state.engine

    def in_thread() -> T:
        with Session(engine) as session:
            return call(session, *args, **kwargs)

    return await asyncio.get_running_loop().run_in_executor(
        request.app.state.session_threads, contextvars.copy_context().run, in_thread)


class WriteGroups:
    """Group commit (成组写入) for a hot write that many requests make at once: rows that
    arrive while a write of their group is in flight wait for it to end and then go
    together, in one hop to a worker thread and one statement.

    ``await groups.add(group, row, write)`` queues ``row`` under ``group`` (rows of one
    group share one statement and its constants, so they share one ``write``: the one given
    when the group's queue began) and returns what ``write(rows)`` gave for it: ``write`` is
    called in a thread of ``executor()`` (the application's worker threads) with the rows of
    one or more requests, in their order of arrival, and returns one result per row. When no write
    of the group is in flight, a row goes at once, alone; under load a write takes every
    row that queued meanwhile (at most ``limit``), so that the database's and the driver's
    cost of a statement, and the thread hop, are shared by many rows instead of paid by
    each. Each row is answered only when its write has returned, i.e. committed; an error
    of the write is every one of its rows' error. One write of a group is in flight at a
    time; groups are independent. Asyncio only, one state per event loop.
    """

    def __init__(self, executor: Callable[[], ThreadPoolExecutor], limit: int = 64):
        self.executor = executor
        self.limit = limit
        self._loops: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._draining: set[asyncio.Task] = set()
        #: writes made and rows written (for tests and figures)
        self.writes = 0
        self.rows = 0

    async def add(self, group: Hashable, row: Any, write: Callable[[list], Sequence[Any]]) -> Any:
        loop = asyncio.get_running_loop()
        queues = self._loops.setdefault(loop, {})
        answer = loop.create_future()
        queue = queues.get(group)
        if queue is None:
            queues[group] = [(row, answer)]
            drain = loop.create_task(self._drain(loop, queues, group, write))
            self._draining.add(drain)  # the loop keeps only a weak reference to a task
            drain.add_done_callback(self._draining.discard)
        else:
            queue.append((row, answer))
        return await answer

    async def _drain(self, loop, queues: dict, group: Hashable, write) -> None:
        """Write the group's queue, in writes of at most ``limit`` rows, until it is empty."""
        queue = queues[group]
        try:
            while queue:
                taken, queue[:] = queue[:self.limit], queue[self.limit:]
                try:
                    results = await loop.run_in_executor(self.executor(), write,
                                                         [row for row, _answer in taken])
                    if len(results) != len(taken):
                        raise RuntimeError(f"a grouped write gave {len(results)} results "
                                           f"for {len(taken)} rows")
                except BaseException as exc:  # noqa: BLE001 - each row's request raises it
                    for _row, answer in taken:
                        if not answer.done():
                            answer.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                self.writes += 1
                self.rows += len(taken)
                for (_row, answer), result in zip(taken, results, strict=True):
                    if not answer.done():
                        answer.set_result(result)
        finally:
            for _row, answer in queue:  # only when cancelled: nothing of these was written
                if not answer.done():
                    answer.cancel()
            del queues[group]
