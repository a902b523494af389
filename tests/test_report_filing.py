"""Filing the ex-post evaluation's report with the ex-ante assessment (评价报告备案), for a
project of ¥5,000,000 or more: waiting on the due list once the result is final, filed once by
the purchasing department, shown on the evaluation page."""

import json
from datetime import date

import pytest
from sqlmodel import select

from evalplatform.models import AuditEntry, Evaluation
from evalplatform.services import contracts, report_filing
from evalplatform.services.errors import Conflict, PermissionDenied
from tests.builders import contracted_world
from tests.conftest import CSRF_RE, login
from tests.settlement_builders import final_evaluation, principal


@pytest.fixture
def world(db, make_user, make_org):
    world = contracted_world(db, make_user, make_org)
    world.project.budget_fen = 600_000_000  # ¥6,000,000
    world.project.ex_ante_sha256 = "ab" * 32
    world.project.ex_ante_filename = "事前绩效评估报告.pdf"
    db.add(world.project)
    db.commit()
    return world


def reports_due(db, world, today=date(2026, 8, 1)):
    due = contracts.due_and_late(db, organisation_id=world.department.id, today=today)
    return [i for i in due.items if i.kind == "report"]


def test_a_final_ex_post_result_waits_for_its_report_to_be_filed(db, world):
    interim = final_evaluation(db, world, "86.00", "良", stage="interim",
                               final_on=date(2026, 7, 10))
    assert reports_due(db, world) == []  # a monitoring round files no report
    evaluation = final_evaluation(db, world, "88.50", "良", final_on=date(2026, 7, 20))
    assert reports_due(db, world, today=date(2026, 7, 19)) == []  # not final yet that day
    [item] = reports_due(db, world)
    assert item.evaluation.id == evaluation.id and item.late_days == 0 and item.due is None
    assert item.url == f"/evaluations/{evaluation.id}#report-filing"
    assert "2026-07-20" in item.note
    assert not report_filing.required(world.project, interim)


def test_the_purchasing_department_files_it_once_and_the_audit_log_keeps_what(db, world,
                                                                               make_user):
    evaluation = final_evaluation(db, world, "88.50", "良")
    with pytest.raises(PermissionDenied):
        report_filing.file_report(db, principal(world.finance), evaluation.id)
    other = make_user("purchaser")  # a purchaser of no department of this project
    with pytest.raises(PermissionDenied):
        report_filing.file_report(db, principal(other), evaluation.id)
    filed = report_filing.file_report(db, principal(world.purchaser), evaluation.id)
    assert filed.report_filed_on is not None and filed.report_filed_by == world.purchaser.id
    assert filed.report_filed_version == 1
    assert reports_due(db, world, today=filed.report_filed_on) == []
    # on a past day (the half-year report's last), it was still to be filed
    assert len(reports_due(db, world, today=date(2026, 8, 1))) == (
        1 if filed.report_filed_on > date(2026, 8, 1) else 0)
    with pytest.raises(Conflict):
        report_filing.file_report(db, principal(world.purchaser), evaluation.id)
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "evaluation.report_filed")).one()
    change = json.loads(entry.change)
    assert change["result_version"] == 1 and change["ex_ante_sha256"] == "ab" * 32


def test_no_filing_before_the_result_is_final_nor_without_the_ex_ante_assessment(db, world):
    from tests.builders import schedule
    from tests.settlement_builders import add_result, to_status

    evaluation = schedule(db, world)
    with pytest.raises(Conflict) as caught:  # collecting: no result yet
        report_filing.file_report(db, principal(world.purchaser), evaluation.id)
    assert "草稿" in str(caught.value) or "draft" in str(caught.value)
    evaluation = to_status(db, world, evaluation, "final")
    add_result(db, evaluation, "88.50", "良")
    world.project.ex_ante_sha256 = None
    db.add(world.project)
    db.commit()
    with pytest.raises(Conflict) as caught:
        report_filing.file_report(db, principal(world.purchaser), evaluation.id)
    assert "事前" in str(caught.value) or "ex-ante" in str(caught.value)
    assert db.get(Evaluation, evaluation.id).report_filed_on is None


def test_a_project_under_five_million_files_no_report(db, world):
    world.project.budget_fen = 499_999_999
    db.add(world.project)
    db.commit()
    evaluation = final_evaluation(db, world, "88.50", "良")
    assert reports_due(db, world) == []
    with pytest.raises(Conflict):
        report_filing.file_report(db, principal(world.purchaser), evaluation.id)


def test_the_evaluation_page_offers_the_filing_to_the_department_only(client, db, world):
    evaluation = final_evaluation(db, world, "88.50", "良")
    login(client, world.finance.username)
    page = client.get(f"/evaluations/{evaluation.id}")
    assert 'data-testid="report-to-file"' in page.text
    assert f'action="/evaluations/{evaluation.id}/report-filing"' not in page.text
    client.post("/logout", data={"csrf_token": CSRF_RE.search(page.text).group(1)})
    login(client, world.purchaser.username)
    page = client.get(f"/evaluations/{evaluation.id}")
    assert f'action="/evaluations/{evaluation.id}/report-filing"' in page.text
    token = CSRF_RE.search(page.text).group(1)
    done = client.post(f"/evaluations/{evaluation.id}/report-filing",
                       data={"csrf_token": token}, follow_redirects=True)
    assert done.status_code == 200 and 'data-testid="report-filed"' in done.text
    assert "事前绩效评估报告.pdf" in done.text


def test_the_api_files_the_report_once_and_shows_it(client, db, world):
    evaluation = final_evaluation(db, world, "88.50", "良")
    login(client, world.purchaser.username)
    token = client.get("/api/me").json()["csrf_token"]
    before = client.get(f"/api/evaluations/{evaluation.id}").json()
    assert before["report_filing_required"] and before["report_filed_on"] is None
    filed = client.post(f"/api/evaluations/{evaluation.id}/report-filing",
                        headers={"X-CSRF-Token": token})
    assert filed.status_code == 200, filed.text
    assert filed.json()["report_filed_version"] == 1 and filed.json()["report_filed_on"]
    again = client.post(f"/api/evaluations/{evaluation.id}/report-filing",
                        headers={"X-CSRF-Token": token})
    assert again.status_code == 409


def test_an_evaluation_whose_window_closed_without_a_result_is_late_on_the_due_list(
        db, world, client):
    """Nothing else flags an evaluation left collecting after its window: the due list says it
    is late, by the days since the window closed, and leads to the evaluation."""
    from evalplatform.services import projects
    from tests.builders import schedule

    stalled = schedule(db, world, stage="interim", start="2026-01-05", end="2026-06-30",
                       opens="2026-06-01", closes="2026-07-06", title="2026 年第二季度监控")
    today = projects.today()
    due = contracts.due_and_late(db, organisation_id=None, today=today)
    found = [i for i in due.items if i.kind == "evaluation"]
    assert len(found) == 1 and found[0].evaluation.id == stalled.id
    assert found[0].due == date(2026, 7, 6) and found[0].late_days == (today - date(2026, 7, 6)).days
    assert found[0].url == f"/evaluations/{stalled.id}" and found[0] in due.late
    # department by department
    assert not [i for i in contracts.due_and_late(db, organisation_id=-1, today=today).items
                if i.kind == "evaluation"]
    login(client, world.purchaser.username)
    page = client.get("/due?show=late").text
    assert "评价期已结束，尚未计算结果" in page and "2026 年第二季度监控：草稿" in page
