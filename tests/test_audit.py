"""The audit trail is a hash chain: any edit, deletion or truncation is detected."""

import threading

import pytest
from sqlalchemy import text
from sqlmodel import Session, select
from typer.testing import CliRunner

from evalplatform.models import AuditEntry
from evalplatform.services import audit
from evalplatform.services.audit import SYSTEM, Actor


def _append(db, n):
    for i in range(n):
        audit.record(db, Actor(7, "tester"), "thing.update", "thing", i, {"金额": i * 100})
    db.commit()


def test_entries_chain_each_to_the_one_before(db):
    _append(db, 3)
    entries = db.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == audit.GENESIS_HASH
    assert entries[1].prev_hash == entries[0].hash
    assert entries[2].prev_hash == entries[1].hash
    assert audit.verify(db).ok and audit.verify(db).entries == 3


def test_an_edited_row_is_caught_and_named(db, engine):
    _append(db, 5)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET change = :c WHERE seq = 3"), {"c": '{"金额":1}'})
    db.expire_all()
    result = audit.verify(db)
    assert not result.ok
    assert result.broken_seq == 3
    assert result.entries == 2


def test_a_deleted_row_is_caught(db, engine):
    _append(db, 4)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq = 2"))
    db.expire_all()
    assert audit.verify(db).broken_seq == 2


def test_a_truncated_tail_is_caught(db, engine):
    _append(db, 4)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq = 4"))
    db.expire_all()
    result = audit.verify(db)
    assert not result.ok and result.broken_seq == 4


def test_an_entry_rolls_back_with_its_change(db):
    _append(db, 1)
    audit.record(db, SYSTEM, "thing.create", "thing", 99, {})
    db.rollback()
    assert audit.verify(db).entries == 1


def test_concurrent_appends_keep_one_linear_chain(engine, db):
    errors = []

    def worker(k):
        try:
            with Session(engine) as session:
                for i in range(10):
                    audit.record(session, Actor(k, f"w{k}"), "thing.update", "thing", i, {})
                    session.commit()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = audit.verify(db)
    assert result.ok and result.entries == 40


@pytest.fixture
def cli_env(monkeypatch, database_url):
    from evalplatform.db import get_engine
    from evalplatform.settings import get_settings

    monkeypatch.setenv("EVAL_DATABASE_URL", database_url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield
    get_settings.cache_clear()
    get_engine.cache_clear()


def test_cli_verify_passes_then_fails_on_a_tampered_row(db, engine, cli_env):
    from evalplatform.cli import app

    _append(db, 3)
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "3 entries" in ok.output
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET actor_name = 'someone else' WHERE seq = 2"))
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "entry 2" in broken.output


def test_the_audit_page_filters_by_actor_action_and_entity_and_pages_within_the_filter(
        db, client, signed_in):
    for i in range(60):
        audit.record(db, Actor(7, "tester"), "thing.update", "thing", i, {"n": i})
    audit.record(db, Actor(8, "other"), "thing.delete", "thing", 99, {})
    audit.record(db, Actor(7, "tester"), "widget.update", "widget", 1, {})
    db.commit()
    signed_in("auditor")
    page = client.get("/audit").text
    # the auditor types a username and picks any action and entity type the log holds
    assert 'name="actor"' in page
    for name, value in [("action", "thing.delete"), ("entity_type", "widget")]:
        assert f'name="{name}"' in page and f'<option value="{value}"' in page
    assert "全部操作" in page and "全部对象" in page

    picked = client.get("/audit", params={"actor": "tester", "action": "thing.update",
                                          "entity_type": "thing"}).text
    assert "第 1–50 条，共 60 条" in picked
    assert 'value="tester"' in picked and '<option value="thing.update" selected>' in picked
    assert "thing.delete" not in picked.split('id="audit-table"')[1]
    # the next page keeps the filter
    assert "page=2" in picked and "actor=tester" in picked.split('rel="next"')[0][-300:]
    second = client.get("/audit", params={"actor": "tester", "action": "thing.update",
                                          "page": 2}, headers={"HX-Request": "true"}).text
    assert "第 51–60 条，共 60 条" in second and "widget" not in second
