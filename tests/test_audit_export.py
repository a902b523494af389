"""The audit log's CSV export reads like the log's page, in the reader's language, and still
carries every column the hash chain is checked with, as stored."""

import csv
import hashlib
import io
import json
from datetime import datetime

from sqlmodel import select

from evalplatform.models import AuditEntry
from evalplatform.services import audit
from evalplatform.services.audit import SYSTEM, Actor
from tests.conftest import csrf_from

ZH_HEADER = ["序号（seq）", "时间（北京时间）", "操作人", "用户名（actor_name）", "操作",
             "操作代码（action）", "对象", "对象类型（entity_type）", "对象编号（entity_id）",
             "变更内容", "时间，UTC（at）", "变更内容原文，JSON（change）",
             "前一条哈希（prev_hash）", "哈希（hash）", "哈希覆盖的内容（payload）"]
EN_HEADER = ["No. (seq)", "Time (China time)", "Actor", "Username (actor_name)", "Action",
             "Action code (action)", "Entity", "Entity type (entity_type)",
             "Entity ID (entity_id)", "Change", "Time in UTC (at)",
             "Change as stored, JSON (change)", "Previous hash (prev_hash)", "Hash (hash)",
             "Content the hash covers (payload)"]


def _log(db, monkeypatch, make_user, make_org):
    """A finance officer's approval at 00:30 on 2 March in China (16:30 on 1 March in UTC), an
    entry of the system's, and one by someone whose name a spreadsheet would run."""
    officer = make_user("finance", username="caizheng_t", display_name="王建国")
    org = make_org("purchasing_department", name="临江市民政局")
    prankster = make_user("admin", username="prank", display_name="=HYPERLINK(\"http://x\")")
    monkeypatch.setattr(audit, "now", lambda: datetime.fromisoformat("2026-03-01T16:30:00+00:00"))
    audit.record(db, Actor(officer.id, officer.username), "settlement.approve", "settlement", 41,
                 {"status": "approved", "payable_fen": 23400000})
    audit.record(db, SYSTEM, "user.update", "user", officer.id, {"display_name": "王建国"})
    audit.record(db, Actor(prankster.id, prankster.username), "organisation.update",
                 "organisation", org.id, {"before": {"name": "旧名"}, "after": {"name": org.name}})
    db.commit()
    return officer, org


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_export_reads_in_chinese_like_the_log_page(db, client, signed_in, monkeypatch,
                                                       make_user, make_org):
    officer, org = _log(db, monkeypatch, make_user, make_org)
    signed_in("auditor")
    header, *rows = _rows(client.get("/audit.csv", params={"since": "2026-03-02",
                                                           "until": "2026-03-02"}))
    assert header == ZH_HEADER
    approval = dict(zip(header, rows[0], strict=True))
    assert approval["时间（北京时间）"] == "2026-03-02 00:30:00"  # as the page shows it
    assert approval["操作人"] == "王建国" and approval["用户名（actor_name）"] == "caizheng_t"
    assert approval["操作"] == "批准结算" and approval["操作代码（action）"] == "settlement.approve"
    assert approval["对象"] == "结算 #41"
    assert (approval["对象类型（entity_type）"], approval["对象编号（entity_id）"]) == ("settlement", "41")
    assert "¥234,000.00" in approval["变更内容"] and "：" in approval["变更内容"]
    # the machine columns, as stored
    assert approval["时间，UTC（at）"] == "2026-03-01T16:30:00.000000+00:00"
    assert json.loads(approval["变更内容原文，JSON（change）"]) == {
        "status": "approved", "payable_fen": 23400000}
    by_system = dict(zip(header, rows[1], strict=True))
    assert by_system["操作人"] == "系统" and by_system["用户名（actor_name）"] == "system"
    renamed = dict(zip(header, rows[2], strict=True))
    assert renamed["对象"] == "单位「临江市民政局」"
    assert "旧名" in renamed["变更内容"] and "临江市民政局" in renamed["变更内容"]
    # a name a spreadsheet would run as a formula is written as text
    assert renamed["操作人"] == "'=HYPERLINK(\"http://x\")"


def test_the_export_is_in_english_for_a_reader_who_chose_it(db, client, signed_in, monkeypatch,
                                                            make_user, make_org):
    _log(db, monkeypatch, make_user, make_org)
    signed_in("auditor")
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client, "/")})
    header, first, *_ = _rows(client.get("/audit.csv", params={"action": "settlement.approve"}))
    assert header == EN_HEADER
    assert first[2:6] == ["王建国", "caizheng_t", "Settlement approved", "settlement.approve"]


def test_the_export_can_still_be_checked_by_hand(db, client, signed_in, monkeypatch, make_user,
                                                 make_org):
    monkeypatch.setattr(audit, "EXPORT_BATCH", 2)  # several batches: nothing lost between
    _log(db, monkeypatch, make_user, make_org)
    signed_in("auditor")
    header, *rows = _rows(client.get("/audit.csv"))
    column = {name: i for i, name in enumerate(header)}
    stored = db.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [int(r[column["序号（seq）"]]) for r in rows] == [e.seq for e in stored]
    previous = audit.GENESIS_HASH
    for row, entry in zip(rows, stored, strict=True):
        prev_hash, payload = row[column["前一条哈希（prev_hash）"]], row[column["哈希覆盖的内容（payload）"]]
        assert prev_hash == previous
        assert hashlib.sha256((prev_hash + payload).encode()).hexdigest() \
            == row[column["哈希（hash）"]] == entry.hash
        # the payload's fields are the file's own columns, as stored
        covered = json.loads(payload)
        assert covered["at"] == row[column["时间，UTC（at）"]]
        assert covered["action"] == row[column["操作代码（action）"]]
        assert covered["actor_name"] == row[column["用户名（actor_name）"]]
        assert (covered["entity_type"], covered["entity_id"]) == (
            row[column["对象类型（entity_type）"]], row[column["对象编号（entity_id）"]])
        assert row[column["变更内容原文，JSON（change）"]] == entry.change \
            == audit.canonical_json(covered["change"])
        previous = row[column["哈希（hash）"]]
