"""The PostgreSQL connection pool: a connection is tested before use only after lying idle, and
a dead one is replaced."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from evalplatform import db as db_module
from evalplatform.db import WriteGroups
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


# ------------------------------------------------ the driver's own cursor (hot paths)


@pytest.fixture
def probe_table(pg_engine):
    """A scratch table of the shared test database, dropped afterwards (the migration test
    compares the database with the models)."""
    with pg_engine.begin() as connection:
        connection.execute(text("CREATE TABLE driver_probe (n integer)"))
    yield
    with pg_engine.begin() as connection:
        connection.execute(text("DROP TABLE driver_probe"))


def _probe_rows(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM driver_probe")).scalar_one()


def test_each_statement_on_the_driver_cursor_commits_by_itself(pg_engine, probe_table):
    with pytest.raises(RuntimeError), db_module.driver_cursor(pg_engine) as cursor:
        cursor.execute("INSERT INTO driver_probe VALUES (1)")
        raise RuntimeError("a refusal after the write")  # autocommit: the write stays
    assert _probe_rows(pg_engine) == 1


def test_the_driver_cursor_gives_its_connection_back_in_transaction_mode(pg_engine, probe_table):
    """The pool has one connection: after the hot path has used it, a session on it is
    transactional again (a rollback undoes its write), also when the hot path failed."""
    first = _backend_pid(pg_engine)
    with db_module.driver_cursor(pg_engine) as cursor:
        cursor.execute("SELECT 1")
    with pytest.raises(ValueError), db_module.driver_cursor(pg_engine):
        raise ValueError("refused")
    with pg_engine.connect() as connection:
        assert connection.connection.driver_connection.autocommit is False
        connection.execute(text("INSERT INTO driver_probe VALUES (2)"))
        connection.rollback()
    assert _probe_rows(pg_engine) == 0
    assert _backend_pid(pg_engine) == first  # the same pooled connection throughout


def test_a_connection_that_died_fails_one_driver_statement_then_is_replaced(pg_engine):
    import psycopg

    first = _backend_pid(pg_engine)
    _terminate(first)
    with pytest.raises(psycopg.OperationalError), db_module.driver_cursor(pg_engine) as cursor:
        cursor.execute("SELECT 1")
    assert _backend_pid(pg_engine) != first  # invalidated, not handed out again


def test_a_driver_statement_converts_values_and_rows_by_the_column_types(pg_engine):
    """What the ORM would store and read: an enum given as a member is stored by name and
    read back as the member; a JSON column takes a dict; literals of the statement (here
    ``used IS false`` and the enum in the WHERE clause) need no values."""
    from sqlalchemy import Column, Enum, Integer, MetaData, Table, bindparam, insert, select
    from sqlalchemy.types import JSON

    from surveys.models import Channel

    table = Table("driver_values", MetaData(), Column("n", Integer),
                  Column("channel", Enum(Channel, native_enum=False, length=10)),
                  Column("answers", JSON))
    table.metadata.create_all(pg_engine)
    try:
        write = db_module.DriverStatement(insert(table).values(
            n=bindparam("n"), channel=bindparam("channel"), answers=bindparam("answers")),
            pg_engine)
        read = db_module.DriverStatement(
            select(table.c.channel, table.c.answers).where(table.c.n == bindparam("n"),
                                                           table.c.channel == Channel.paper),
            pg_engine)
        with db_module.driver_cursor(pg_engine) as cursor:
            assert write.rowcount(cursor, {"n": 1, "channel": Channel.paper,
                                           "answers": {"Q1": "满意"}}) == 1
            row = read.first(cursor, {"n": 1})
            assert read.first(cursor, {"n": 2}) is None
        assert row.channel is Channel.paper
        assert row.answers == {"Q1": "满意"}
        with pg_engine.connect() as connection:
            stored = connection.execute(text("SELECT channel, answers::text FROM driver_values"))
            assert stored.one() == ("paper", '{"Q1": "\\u6ee1\\u610f"}')
    finally:
        table.metadata.drop_all(pg_engine)


def test_a_driver_statement_is_compiled_once_per_statement_and_dialect(pg_engine):
    from sqlalchemy import select

    statement = select(text("1"))
    first = db_module.driver_statement(statement, pg_engine)
    assert db_module.driver_statement(statement, pg_engine) is first
    assert db_module.driver_statement(select(text("1")), pg_engine) is not first


# ---------------------------------------------------------------- grouped writes


class _Writer:
    """A write for WriteGroups that records the rows of each call and holds the first call
    until released, so that the test decides what arrives while a write is in flight."""

    def __init__(self, fail_on=None):
        self.calls: list[list] = []
        self.release = threading.Event()
        self.fail_on = fail_on

    def __call__(self, rows: list) -> list:
        self.calls.append(list(rows))
        if len(self.calls) == 1:
            assert self.release.wait(10)
        if self.fail_on in rows:
            raise ValueError(f"cannot write {self.fail_on}")
        return [f"wrote {row}" for row in rows]


def _run(coroutine):
    with ThreadPoolExecutor(1) as thread:  # a loop of its own (the suite may run one)
        return thread.submit(asyncio.run, coroutine).result()


async def _send(groups, writer, rows, group="g"):
    """``rows[0]`` alone, then the others while its write is held; the outcomes in order."""
    async def one(row):
        try:
            return await groups.add(group, row, writer)
        except ValueError as exc:
            return f"error: {exc}"

    first = asyncio.ensure_future(one(rows[0]))
    while not writer.calls:
        await asyncio.sleep(0.001)
    rest = [asyncio.ensure_future(one(row)) for row in rows[1:]]
    await asyncio.sleep(0.01)
    writer.release.set()
    return [await first] + [await task for task in rest]


def test_rows_that_arrive_during_a_write_go_together_in_the_next_and_each_gets_its_result():
    writer = _Writer()
    with ThreadPoolExecutor(2) as threads:
        groups = WriteGroups(lambda: threads)
        outcomes = _run(_send(groups, writer, list(range(6))))
    assert writer.calls == [[0], [1, 2, 3, 4, 5]]  # alone at once, then together, in order
    assert outcomes == [f"wrote {i}" for i in range(6)]
    assert (groups.writes, groups.rows) == (2, 6)


def test_a_write_takes_at_most_limit_rows():
    writer = _Writer()
    with ThreadPoolExecutor(2) as threads:
        groups = WriteGroups(lambda: threads, limit=4)
        outcomes = _run(_send(groups, writer, list(range(11))))
    assert [len(c) for c in writer.calls] == [1, 4, 4, 2]
    assert outcomes == [f"wrote {i}" for i in range(11)]


def test_a_failed_write_fails_each_of_its_rows_and_the_next_write_goes_on():
    writer = _Writer(fail_on=3)
    with ThreadPoolExecutor(2) as threads:
        groups = WriteGroups(lambda: threads, limit=3)
        outcomes = _run(_send(groups, writer, list(range(7))))
    assert writer.calls == [[0], [1, 2, 3], [4, 5, 6]]
    assert outcomes == (["wrote 0"] + ["error: cannot write 3"] * 3
                        + [f"wrote {i}" for i in (4, 5, 6)])
    assert (groups.writes, groups.rows) == (2, 4)  # what was written


def test_groups_are_written_apart_and_a_write_gives_one_result_per_row():
    writer, other = _Writer(), _Writer()
    other.release.set()

    async def both(groups):
        held = asyncio.ensure_future(groups.add("held", "x", writer))
        while not writer.calls:
            await asyncio.sleep(0.001)
        free = await groups.add("free", "y", other)  # not behind the held group's write
        writer.release.set()
        return free, await held

    with ThreadPoolExecutor(2) as threads:
        groups = WriteGroups(lambda: threads)
        assert _run(both(groups)) == ("wrote y", "wrote x")

        async def short():
            return await groups.add("g", 1, lambda rows: [])

        with pytest.raises(RuntimeError, match="0 results for 1 rows"):
            _run(short())
