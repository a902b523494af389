"""The audit trail is a hash chain: any edit, deletion or truncation is detected."""

import json
import re
import threading

import pytest
from sqlalchemy import text
from sqlmodel import Session, select
from typer.testing import CliRunner

from evalplatform.models import AuditEntry
from evalplatform.services import audit, clock
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


def _written_action_codes():
    """Every action code the code base passes to ``audit.record`` (or to the schemes' store or
    ``set_children_points``, which pass it on): constants, either branch of a conditional, and
    the codes an f-string builds from an enum (``evaluation.{status}``, ``appeal.{status}``)."""
    import ast
    from pathlib import Path

    from evalplatform.models import AppealStatus, EvaluationStatus

    built = {"evaluation.": EvaluationStatus, "appeal.": AppealStatus}
    codes, unknown = set(), []

    def take(node, where):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            codes.add(node.value)
        elif isinstance(node, ast.IfExp):
            take(node.body, where)
            take(node.orelse, where)
        elif (isinstance(node, ast.JoinedStr) and isinstance(node.values[0], ast.Constant)
              and node.values[0].value in built):
            codes.update(node.values[0].value + s.value for s in built[node.values[0].value])
        else:
            unknown.append(f"{where}: {ast.unparse(node)}")

    root = Path(__file__).resolve().parent.parent / "evalplatform"
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if (name == "record" and isinstance(func, ast.Attribute)
                    and getattr(func.value, "id", "") == "audit" and len(node.args) > 2):
                arg = node.args[2]
                if isinstance(arg, ast.Name) and path.name == "schemes.py":
                    continue  # _store's own parameter: its callers are read below
                take(arg, f"{path.name}:{node.lineno}")
            elif name == "_store" and path.name == "schemes.py" and len(node.args) > 3:
                if isinstance(node.args[3], ast.Name):
                    continue  # set_children_points's own parameter: its callers are read below
                take(node.args[3], f"{path.name}:{node.lineno}")
            elif name == "set_children_points" and len(node.args) > 5:
                take(node.args[5], f"{path.name}:{node.lineno}")
    return codes, unknown


def test_every_action_the_code_base_audits_has_a_name():
    from evalplatform.labels import ACTION_LABELS

    codes, unknown = _written_action_codes()
    assert unknown == []  # a code this walk cannot read: name it here and in ACTION_LABELS
    assert len(codes) > 80
    assert sorted(codes - set(ACTION_LABELS)) == []


def test_the_audit_log_and_a_project_history_name_actions_and_details_in_words(
        db, client, signed_in):
    audit.record(db, Actor(7, "张丽"), "project.register", "project", 3,
                 {"name": "居家养老上门服务", "budget_fen": 120000000, "small_medium": True,
                  "method": "public_tender"})
    audit.record(db, Actor(7, "张丽"), "thing.unknown", "thing", 1, {"n": 1})
    db.commit()
    signed_in("auditor")
    page = client.get("/audit").text
    table = page.split('id="audit-table"')[1]
    print(re.sub(r"<[^>]+>", " ", table)[-1500:])
    assert '<span class="action-name">项目登记</span> <code class="action-code">project.register' \
        in table  # in words, the code kept small for auditors
    assert "<dt>名称</dt><dd>居家养老上门服务</dd>" in table
    assert "<dt>预算</dt><dd>¥1,200,000.00</dd>" in table
    assert "<dt>中小企业</dt><dd>是</dd>" in table
    assert "<dt>采购方式</dt><dd>公开招标</dd>" in table
    assert '"budget_fen"' not in table.replace("&#34;", '"').split('title="')[0]
    assert 'title="{&#34;budget_fen&#34;:120000000' in table  # the exact JSON as the tooltip
    assert '<span class="action-name">thing.unknown</span>' in table  # an unnamed code as is
    assert "<dt>n</dt><dd>1</dd>" in table
    assert "项目登记 · project.register" in page  # the filter's choices too


def test_the_audit_log_names_a_status_for_the_kind_of_record_and_the_settlement_details(
        db, client, signed_in):
    """A project's "approved" and a settlement's "approved" are different states; the finance
    reader sees each by its name, and the settlement's and contract's details in words."""
    actor = Actor(7, "王建国")
    audit.record(db, actor, "project.approve", "project", 3, {"status": "approved"})
    audit.record(db, actor, "settlement.withdraw", "settlement", 4, {"status": "approved"})
    audit.record(db, actor, "settlement.propose", "settlement", 5, {
        "again": False, "basis": "performance", "instalment": 3, "instalment_fen": 31_200_000,
        "late_days": 2, "ratio": "0.95", "rule": {}})
    audit.record(db, actor, "acceptance.record", "acceptance", 6, {"conclusion": "rejected"})
    audit.record(db, actor, "result.final", "evaluation_result", 8,
                 {"result": 8, "reason": "appeal window closed"})
    audit.record(db, actor, "result.reopen", "evaluation_result", 9,
                 {"result": 9, "reason": "appeal window closed, says the purchaser"})
    audit.record(db, actor, "contract.record", "contract", 2, {
        "payment_days": 30, "instalments": [{"seq": 1, "percent": "30", "due": "on_signing",
                                             "linked": False}],
        "payment_rule": {"bands": [{"grade": "优", "min_score": "90", "ratio": "1.00"}]}})
    db.commit()
    signed_in("finance")
    table = client.get("/audit").text.split('id="audit-table"')[1]
    assert "<dt>状态</dt><dd>财政已批准</dd>" in table  # the project's
    assert "<dt>状态</dt><dd>已审核，待支付</dd>" in table  # the settlement's
    assert "<dt>结算依据</dt><dd>与绩效挂钩</dd>" in table
    assert "<dt>付款期次</dt><dd>3</dd>" in table and "<dt>付款期</dt><dd>¥312,000.00</dd>" in table
    assert "<dt>逾期天数</dt><dd>2</dd>" in table and "<dt>是否重新提出</dt><dd>否</dd>" in table
    assert "<dt>付款规则</dt><dd>—</dd>" in table
    assert "<dt>验收结论</dt><dd>验收不合格</dd>" in table
    assert "<dt>理由</dt><dd>申诉期届满，无待处理的申诉</dd>" in table  # the platform's own
    assert "<dd>appeal window closed, says the purchaser</dd>" in table  # a person's, as typed
    assert "<dt>付款期限（天）</dt><dd>30</dd>" in table
    assert "付款条件：合同签订后；与绩效挂钩：否；比例：30；付款期次：1" in table
    assert "最低分：90" in table
    words = re.sub(r'title="[^"]*"', "", table)  # the exact JSON stays as the tooltip
    for code in ("<dd>approved</dd>", "<dd>performance</dd>", "<dd>rejected</dd>",
                 "late_days", "<dt>again</dt>", "min_score"):
        assert code not in words, code


def _written_entity_types():
    """Every entity type the code base passes to ``audit.record`` (a constant)."""
    import ast
    from pathlib import Path

    types, unknown = set(), []
    root = Path(__file__).resolve().parent.parent / "evalplatform"
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            func = getattr(node, "func", None)
            if (isinstance(node, ast.Call) and isinstance(func, ast.Attribute)
                    and func.attr == "record" and getattr(func.value, "id", "") == "audit"
                    and len(node.args) > 3):
                arg = node.args[3]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    types.add(arg.value)
                else:
                    unknown.append(f"{path.name}:{node.lineno}: {ast.unparse(arg)}")
    return types, unknown


def test_every_kind_of_object_the_code_base_audits_has_a_name():
    from evalplatform.labels import ENTITY_LABELS

    types, unknown = _written_entity_types()
    assert unknown == []  # a type this walk cannot read: name it here and in ENTITY_LABELS
    assert {"project", "contract", "settlement", "acceptance"} <= types
    assert sorted(types - set(ENTITY_LABELS)) == []


def test_the_audit_log_names_each_object_and_links_it_for_a_reader_who_may_open_it(
        db, client, signed_in, make_user, make_org):
    from tests.builders import contracted_world

    world = contracted_world(db, make_user, make_org)
    project, contract = world.project, world.contract
    audit.record(db, Actor(7, "张丽"), "thing.unknown", "thing", 1, {})
    db.commit()
    signed_in("auditor")
    page = client.get("/audit", params={"entity_type": "project"}).text
    table = page.split('id="audit-table"')[1]
    print(re.sub(r"<[^>]+>", " ", table)[-1500:])
    # in words and by name, linked to the page the auditor may open; the raw type kept small
    assert (f'<span class="entity-name"><a href="/projects/{project.id}">项目「{project.name}」'
            f'</a></span> <code class="entity-code">project #{project.id}</code>') in table
    assert "项目 · project" in page and "合同 · contract" in page  # the filter's choices
    contracts_page = client.get("/audit", params={"entity_type": "contract"},
                                headers={"HX-Request": "true"}).text
    assert (f'<a href="/contracts/{contract.id}">合同「{project.name}」</a>') in contracts_page
    everything = client.get("/audit", params={"actor": "张丽"}).text.split('id="audit-table"')[1]
    assert ('<span class="entity-name">thing #1</span> <code class="entity-code">thing #1'
            in everything)  # an unnamed type as recorded
    # the administrator reads the log but may not open a project: named, not linked
    client.cookies.clear()
    signed_in("admin")
    admin = client.get("/audit", params={"entity_type": "project"}).text
    assert f"项目「{project.name}」" in admin and f'href="/projects/{project.id}"' not in admin


def test_every_detail_the_demo_city_records_is_named_in_words(db, client, signed_in):
    """The demo city runs every kind of work the platform does: each detail of each entry it
    leaves has a name for the auditor (a panel draw's seed and candidates, a survey's codes
    issued and used, a scheme copied from another), not the key the code stores."""
    from evalplatform.labels import CHANGE_FIELD_LABELS, ENTITY_CHANGE_FIELD_LABELS
    from evalplatform.services import demo

    demo.load(db)
    unnamed = set()
    for entry in db.exec(select(AuditEntry)).all():
        change = json.loads(entry.change or "{}")
        for key in change if isinstance(change, dict) else ():
            if key not in CHANGE_FIELD_LABELS and \
                    (entry.entity_type, key) not in ENTITY_CHANGE_FIELD_LABELS:
                unnamed.add(f"{entry.action}: {key}")
    assert sorted(unnamed) == []
    signed_in("auditor")
    table = client.get("/audit?action=survey.close").text.split('id="audit-table"')[1]
    assert "<dt>答卷总数</dt>" in table and "<dt>总分</dt>" not in table
    assert "<dt>已发放邀请码</dt>" in table and "按时间安排到期关闭" in table
    # a "size" by what it counts: a panel's seats, a batch's codes, a file's bytes
    draw = client.get("/audit?action=panel.draw").text.split('id="audit-table"')[1]
    assert "<dt>专家组人数</dt><dd>5</dd>" in draw and "大小（字节）" not in draw
    assert "<dt>候选专家</dt><dd>（编号：" in draw  # each candidate in brackets of its own
    batch = client.get("/audit?action=survey.invitations").text.split('id="audit-table"')[1]
    assert "<dt>本批邀请码数</dt>" in batch and "大小（字节）" not in batch


def test_the_audit_log_reads_the_objects_it_links_once_per_kind_not_once_per_entry(
        db, client, signed_in, make_user, make_org):
    """Whether the reader may open each object's page is decided on objects read together:
    a page about four settlements costs the statements of a page about one."""
    from tests.builders import contracted_world
    from tests.conftest import statements_of
    from tests.settlement_builders import approved_on_signing

    approved_on_signing(db, contracted_world(db, make_user, make_org, n=1))
    signed_in("auditor")

    def statements(expected_links: int) -> int:
        db.expire_all()
        page, count = statements_of(db, lambda: client.get(
            "/audit", params={"entity_type": "settlement"}, headers={"HX-Request": "true"}))
        assert page.status_code == 200
        assert len(set(re.findall(r'href="/settlements/(\d+)"', page.text))) == expected_links
        return count

    one = statements(1)
    for n in (2, 3, 4):
        approved_on_signing(db, contracted_world(db, make_user, make_org, n=n))
    assert statements(4) == one


# ---------------------------------------------------------------- days, export and the API


def _at(monkeypatch, moment: str):
    """Make the next entries as if at ``moment`` (UTC, ISO)."""
    from datetime import datetime

    monkeypatch.setattr(audit, "now", lambda: datetime.fromisoformat(moment))


def _three_days(db, monkeypatch):
    # 23:30 on 1 March in China; 00:30 on 2 March in China (still 1 March in UTC); 3 March
    for moment, n in [("2026-03-01T15:30:00+00:00", 1), ("2026-03-01T16:30:00+00:00", 2),
                      ("2026-03-03T02:00:00+00:00", 3)]:
        _at(monkeypatch, moment)
        audit.record(db, Actor(7, "tester"), "thing.update", "thing", n, {"n": n})
    db.commit()
    monkeypatch.setattr(audit, "now", clock.now)  # signing in happens today


def test_the_audit_log_filters_by_days_in_china_time(db, client, signed_in, monkeypatch):
    _three_days(db, monkeypatch)
    day = audit.AuditFilters(since="2026-03-02", until="2026-03-02")
    assert [e.entity_id for e in audit.page_entries(db, filters=day).items] == ["2"]
    assert [e.entity_id for e in audit.page_entries(
        db, filters=audit.AuditFilters(until="2026-03-01")).items] == ["1"]
    signed_in("auditor")
    page = client.get("/audit", params={"since": "2026-03-01", "until": "2026-03-02"}).text
    table = page.split('id="audit-table"')[1]
    assert "第 1–2 条，共 2 条" in table and 'value="2026-03-02"' in page
    # the export keeps the filters
    assert 'href="/audit.csv?since=2026-03-01&amp;until=2026-03-02"' in table
    # a day that is not one is named and left out; the other filters still apply
    bad = client.get("/audit", params={"since": "2026-02-30", "until": "2026-03-01"}).text
    errors = bad.split('id="filter-errors"')[1].split("</div>")[0]
    assert "起始日期：请按 YYYY-MM-DD 输入日期" in errors
    assert "第 1–1 条，共 1 条" in bad
    assert 'href="/audit.csv?until=2026-03-01"' in bad  # the file holds what the table shows
    backwards = client.get("/audit", params={"since": "2026-03-03", "until": "2026-03-01"}).text
    assert "截止日期：截止日期早于起始日期。" in backwards


def test_the_export_lets_anyone_check_the_chain_outside_the_platform(db, client, signed_in,
                                                                     monkeypatch):
    import csv
    import hashlib
    import io

    monkeypatch.setattr(audit, "EXPORT_BATCH", 7)  # several batches: nothing lost between
    for i in range(20):
        audit.record(db, Actor(7, "tester"), "thing.update", "thing", i, {"金额": f"{i}.50"})
    audit.record(db, Actor(8, "other"), "thing.delete", "thing", 99, {})
    db.commit()
    signed_in("purchaser")
    assert client.get("/audit.csv").status_code == 403
    client.cookies.clear()
    signed_in("auditor")
    response = client.get("/audit.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert 'filename="audit-log-' in response.headers["content-disposition"]
    assert response.content.startswith("\ufeff".encode())  # Excel reads the Chinese
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    seqs = [int(r["序号（seq）"]) for r in rows]
    assert seqs == sorted(seqs) and len(rows) == db.exec(select(AuditEntry)).all().__len__()
    previous = audit.GENESIS_HASH
    for row in rows:
        assert row["前一条哈希（prev_hash）"] == previous
        assert hashlib.sha256((row["前一条哈希（prev_hash）"] + row["哈希覆盖的内容（payload）"])
                              .encode()).hexdigest() == row["哈希（hash）"]
        previous = row["哈希（hash）"]
    things = [r for r in rows if r["操作代码（action）"] == "thing.update"]
    assert len(things) == 20
    assert json.loads(things[-1]["变更内容原文，JSON（change）"]) == {"金额": "19.50"}
    stored = db.exec(select(AuditEntry).where(AuditEntry.seq == int(things[-1]["序号（seq）"]))).one()
    assert things[-1]["时间（北京时间）"] == clock.as_utc(stored.at).astimezone(
        clock.LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")  # China time, as the page shows it
    assert things[-1]["时间，UTC（at）"].endswith("+00:00")  # the moment the hash covers
    only = client.get("/audit.csv", params={"actor": "other"}).content.decode("utf-8-sig")
    refused = client.get("/audit.csv", params={"since": "2026-02-30"})
    assert refused.status_code == 422 and "请按 YYYY-MM-DD 输入日期" in refused.text
    assert [r["对象编号（entity_id）"] for r in csv.DictReader(io.StringIO(only))] == ["99"]


def test_the_api_lists_the_log_with_what_each_hash_covers(db, client, signed_in, monkeypatch):
    import hashlib

    _three_days(db, monkeypatch)
    signed_in("purchaser")
    assert client.get("/api/audit").status_code == 403
    client.cookies.clear()
    signed_in("auditor")
    body = client.get("/api/audit", params={"since": "2026-03-02", "until": "2026-03-03",
                                            "sort": "seq"}).json()
    assert [e["entity_id"] for e in body["items"]] == ["2", "3"] and body["total"] == 2
    entry = body["items"][0]
    assert entry["action"] == "thing.update" and entry["change"] == {"n": 2}
    assert entry["at"] == "2026-03-01T16:30:00Z"
    assert hashlib.sha256((entry["prev_hash"] + entry["payload"]).encode()).hexdigest() \
        == entry["hash"] == body["items"][1]["prev_hash"]
    refused = client.get("/api/audit", params={"until": "2026-3-1"})
    assert refused.status_code == 422 and set(refused.json()["errors"]) == {"until"}
    # days no deadline or time zone can reach (their arithmetic overflowed: a 500)
    for params in ({"since": "0001-01-01"}, {"until": "9999-12-31"}):
        refused = client.get("/api/audit", params=params)
        assert refused.status_code == 422 and set(refused.json()["errors"]) == set(params)
        assert client.get("/audit", params=params).status_code == 200  # the page says why
        assert client.get("/audit.csv", params=params).status_code == 422


def test_a_change_rewritten_in_another_form_is_caught(db, engine):
    """The stored change is the canonical JSON the hash covers: the same content written
    differently (spaces, a duplicate key shadowing the real one) is an edit, not a match."""
    _append(db, 3)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET change = :c WHERE seq = 2"),
                      {"c": '{"金额":999, "金额":100}'})
    db.expire_all()
    result = audit.verify(db)
    assert not result.ok and result.broken_seq == 2 and result.problem == "edited"


def test_an_entry_that_cannot_be_read_is_named_not_a_crash(db, engine, cli_env):
    from evalplatform.cli import app

    _append(db, 4)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET change = '{not json' WHERE seq = 3"))
    db.expire_all()
    result = audit.verify(db)
    assert (result.ok, result.broken_seq, result.entries, result.problem) == \
        (False, 3, 2, "unreadable")
    broken = CliRunner().invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1 and "entry 3" in broken.output
    if engine.dialect.name == "sqlite":  # a column without a type: a moment that is no moment
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit_entry SET change = :c WHERE seq = 3"),
                         {"c": '{"金额":200}'})
            conn.execute(text("UPDATE audit_entry SET at = 'garbage' WHERE seq = 2"))
        db.expire_all()
        result = audit.verify(db)
        assert (result.ok, result.broken_seq, result.problem) == (False, 2, "unreadable")


def test_an_unreadable_entry_in_a_later_batch_is_named_exactly(db, engine, monkeypatch):
    if engine.dialect.name != "sqlite":
        pytest.skip("only SQLite stores a moment that cannot be read")
    monkeypatch.setattr(audit, "VERIFY_BATCH", 3)
    _append(db, 8)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET at = 'garbage' WHERE seq = 6"))
    db.expire_all()
    result = audit.verify(db)
    assert (result.broken_seq, result.entries, result.problem) == (6, 5, "unreadable")
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET at = '2026-03-01 00:00:00' WHERE seq = 6"))
    db.expire_all()
    assert audit.verify(db).broken_seq == 6  # readable again, but not what was hashed


def test_a_removed_chain_head_is_caught(db, engine):
    """Without its head the chain accepts no further entry (every change would fail)."""
    _append(db, 3)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_head"))
    db.expire_all()
    result = audit.verify(db)
    assert not result.ok and result.problem == "head_missing" and result.broken_seq == 4


def test_a_rewritten_head_or_an_entry_past_it_is_caught_and_named(db, engine):
    _append(db, 3)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_head SET hash = :h"), {"h": "a" * 64})
    db.expire_all()
    result = audit.verify(db)
    assert (result.broken_seq, result.problem) == (3, "head_hash")
    assert "says 3 entries, found 3" not in result.reason
    # an entry forged with a correct hash, past the head the chain appends through
    last = db.exec(select(AuditEntry).where(AuditEntry.seq == 3)).one()
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_head SET hash = :h"), {"h": last.hash})
    forged = AuditEntry(seq=4, at=clock.now(), actor_id=1, actor_name="admin", action="x.y",
                        entity_type="thing", entity_id="1", change="{}", prev_hash=last.hash,
                        hash="")
    forged.hash = audit.entry_hash(last.hash, forged)
    db.add(forged)
    db.commit()
    result = audit.verify(db)
    assert (result.broken_seq, result.problem) == (4, "head_behind")


def test_the_verify_button_says_why_in_the_readers_language(db, engine, client, signed_in):
    _append(db, 3)
    signed_in("auditor")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq = 2"))
    shown = client.get("/audit/verify")
    assert shown.status_code == 200 and "第 2 条" in shown.text
    assert "is missing (next is 3)" not in shown.text  # the command line's English reason
    assert "第 2 条缺失（下一条是第 3 条）" in shown.text
    api = client.get("/api/audit/verify").json()  # the API answers in the reader's language
    assert api["ok"] is False and api["broken_seq"] == 2 and api["reason"].startswith("第 2 条缺失")
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET change = '{bad' WHERE seq = 3"))
    assert client.get("/audit/verify").status_code == 200
