"""The command line: migrate, demo, create-user."""

import re

from sqlalchemy import func
from sqlmodel import select
from typer.testing import CliRunner

from evalplatform.cli import app
from evalplatform.models import Organisation, User
from evalplatform.services import audit
from surveys import invitations
from tests.test_audit import cli_env  # noqa: F401


def test_demo_loads_a_city_once_and_prints_the_passwords(db, cli_env):  # noqa: F811
    runner = CliRunner()
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "caizheng" in result.output and "临江市财政局" in result.output
    # and how a resident reaches the survey open today, without an account
    assert "服务对象无需账户（中心城区道路清扫保洁 · 年中绩效评价（专家评审））" in result.output
    code = re.search(r"/s  invitation code / 邀请码 (\S+)", result.output).group(1)
    assert not invitations.find(db, code).used
    assert re.search(r"  /o/\S+  open link of a service site", result.output)
    roles = {u.role for u in db.exec(select(User)).all()}
    assert roles == {"finance", "purchaser", "evaluator", "supplier", "auditor", "admin"}
    # ten organisations of demo.py and the supplier barred by its 2025 result (demo_settlements)
    assert db.exec(select(func.count()).select_from(Organisation)).one() == 11
    assert audit.verify(db).ok
    again = runner.invoke(app, ["demo", "--if-empty"])
    assert again.exit_code == 0 and "not loaded" in again.output
    assert runner.invoke(app, ["demo"]).exit_code == 1


def test_create_user_reports_each_bad_field(db, cli_env):  # noqa: F811
    runner = CliRunner()
    result = runner.invoke(app, ["create-user", "--username", "root", "--display-name", "管理员",
                                 "--role", "admin", "--password", "short"])
    assert result.exit_code == 2
    assert "password" in result.output
    ok = runner.invoke(app, ["create-user", "--username", "root", "--display-name", "管理员",
                             "--role", "admin", "--password", "a-long-password"])
    assert ok.exit_code == 0, ok.output
    assert db.exec(select(User).where(User.username == "root")).one()


def test_healthz_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_says_503_when_the_database_does_not_answer(settings):
    from fastapi.testclient import TestClient

    from evalplatform.db import make_engine
    from evalplatform.web.app import create_app

    gone = make_engine("postgresql://nobody@127.0.0.1:9/nothing?connect_timeout=2")
    with TestClient(create_app(settings=settings, engine=gone)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down"}
