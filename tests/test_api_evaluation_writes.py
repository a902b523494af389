"""Scheduling an evaluation, opening and closing its collection and its survey, and appeals,
through the JSON API: the pages' services, rules, refusals and audit entries."""

from __future__ import annotations

import base64
import json
from datetime import date

from sqlmodel import select

from evalplatform.models import Appeal, AuditEntry, Evaluation
from evalplatform.services import surveys_app
from tests.builders import contracted_world
from tests.results_feed import (  # noqa: F401  (clock_, feed_, world_fixture: fixtures)
    clock_fixture,
    feed_fixture,
    published,
    world_fixture,
)
from tests.survey_helpers import window
from tests.test_api_project_writes import count, signed

PDF = b"%PDF-1.4\n% evidence\n%%EOF\n"




def schedule_body(**changes) -> dict:
    when = window()
    return {"title": "2026年度终期绩效评价", "stage": "final", "period_start": "2026-01-05",
            "period_end": "2026-12-31", "opens_at": when["opens"], "closes_at": when["closes"],
            **changes}


def test_a_purchaser_schedules_an_evaluation_and_opens_and_closes_collection(
        client, db, make_user, make_org):
    world = contracted_world(db, make_user, make_org)
    headers = signed(client, world.purchaser)
    created = client.post(f"/api/contracts/{world.contract.id}/evaluations",
                          json=schedule_body(), headers=headers)
    assert created.status_code == 201, created.text
    evaluation = created.json()
    assert created.headers["location"] == f"/api/evaluations/{evaluation['id']}"
    assert (evaluation["status"], evaluation["stage"], evaluation["version"]) == (
        "draft", "final", 1)
    assert db.exec(select(AuditEntry).where(AuditEntry.action == "evaluation.create")).all()
    overlapping = client.post(f"/api/contracts/{world.contract.id}/evaluations",
                              json=schedule_body(period_start="2026-06-01"), headers=headers)
    assert overlapping.status_code == 422 and "period_start" in overlapping.json()["errors"]
    bad = client.post(f"/api/contracts/{world.contract.id}/evaluations", headers=headers,
                      json=schedule_body(stage="yearly", closes_at="明天"))
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"stage"}
    bad = client.post(f"/api/contracts/{world.contract.id}/evaluations", headers=headers,
                      json=schedule_body(title="年中", stage="interim", closes_at="明天"))
    assert set(bad.json()["errors"]) == {"closes_at"}
    assert count(db, Evaluation) == 1

    path = f"/api/evaluations/{evaluation['id']}/advance"
    stale = client.post(path, json={"to": "collecting", "expected_version": 7}, headers=headers)
    assert stale.status_code == 409
    opened = client.post(path, json={"to": "collecting", "expected_version": 1},
                         headers=headers)
    assert opened.status_code == 200 and opened.json()["status"] == "collecting"
    # a step the result takes is not one of the two the organiser sends (422 naming "to")
    published_by_hand = client.post(path, json={"to": "published"}, headers=headers)
    assert published_by_hand.status_code == 422 and set(published_by_hand.json()["errors"]) == {
        "to"}
    closed = client.post(path, json={"to": "scoring"}, headers=headers)
    assert closed.json()["status"] == "scoring"


def test_only_the_contracts_department_schedules(client, db, make_user, make_org, signed_in):
    world = contracted_world(db, make_user, make_org)
    other = contracted_world(db, make_user, make_org, n=2)
    headers = signed(client, other.purchaser)
    foreign = client.post(f"/api/contracts/{world.contract.id}/evaluations",
                          json=schedule_body(), headers=headers)
    assert foreign.status_code == 404
    headers = signed(client, world.finance)
    assert client.post(f"/api/contracts/{world.contract.id}/evaluations",
                       json=schedule_body(), headers=headers).status_code == 403
    assert count(db, Evaluation) == 0


def test_the_organiser_opens_and_closes_the_survey(client, db, make_user, make_org):
    world = contracted_world(db, make_user, make_org)
    headers = signed(client, world.purchaser)
    evaluation = client.post(f"/api/contracts/{world.contract.id}/evaluations",
                             json=schedule_body(), headers=headers).json()
    none_yet = client.post(f"/api/evaluations/{evaluation['id']}/survey/open", headers=headers)
    assert none_yet.status_code == 404 and none_yet.json()["detail"]  # no survey yet
    surveys_app.create(db, world.purchaser_principal, evaluation["id"], "street_cleaning")
    opened = client.post(f"/api/evaluations/{evaluation['id']}/survey/open", headers=headers)
    assert opened.status_code == 200, opened.text
    assert opened.json()["state"] == "open" and opened.json()["questionnaire"]
    again = client.post(f"/api/evaluations/{evaluation['id']}/survey/open", headers=headers)
    assert again.status_code == 409 and "已经开放" in again.json()["detail"]
    closed = client.post(f"/api/evaluations/{evaluation['id']}/survey/close", headers=headers)
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert db.exec(select(AuditEntry).where(AuditEntry.action == "survey.close")).all()


REASONS = "6 月 12 日暴雨停工已报备，台账缺记录不应扣分。"


def test_the_supplier_appeals_through_the_api_and_finance_decides(client, db, world, feed,
                                                                  clock):
    evaluation, result = published(db, world, feed)
    headers = signed(client, world.supplier_user)
    path = f"/api/evaluations/{evaluation.id}/appeal"
    short = client.post(path, json={"reasons": "不服"}, headers=headers)
    assert short.status_code == 422 and set(short.json()["errors"]) == {"reasons"}
    broken = client.post(path, headers=headers, json={
        "reasons": REASONS, "evidence": [{"filename": "a.pdf", "content_base64": "不是"}]})
    assert set(broken.json()["errors"]) == {"evidence.0.content_base64"}
    assert count(db, Appeal) == 0
    filed = client.post(path, headers=headers, json={
        "reasons": REASONS, "leaves": ["A2.1"],
        "evidence": [{"filename": "停工报备.pdf",
                      "content_base64": base64.b64encode(PDF).decode()}]})
    assert filed.status_code == 201, filed.text
    appeal = filed.json()
    assert filed.headers["location"] == f"/api/appeals/{appeal['id']}"
    assert (appeal["status"], appeal["leaves"], appeal["version"]) == ("open", ["A2.1"], 1)
    assert client.get(appeal["evidence"][0]["url"]).content == PDF
    assert client.post(path, json={"reasons": REASONS}, headers=headers).status_code == 409
    listed = client.get("/api/appeals").json()
    assert [a["id"] for a in listed["items"]] == [appeal["id"]] and listed["sort"] == "-filed"
    assert client.post(f"/api/appeals/{appeal['id']}/decide", headers=headers, json={
        "outcome": "uphold", "decision": "x"}).status_code == 403

    headers = signed(client, world.finance)
    missing = client.post(f"/api/appeals/{appeal['id']}/decide", headers=headers, json={
        "outcome": "reopen", "decision": "复核"})
    assert missing.status_code == 422 and set(missing.json()["errors"]) == {"leaves"}
    assert client.get("/api/appeals?status=lost").status_code == 422
    done = client.post(f"/api/appeals/{appeal['id']}/decide", headers=headers, json={
        "outcome": "reopen", "decision": "请重新评 A2.1", "leaves": ["A2.1"],
        "expected_version": 1})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["reopened_leaves"]) == ("reopened", ["A2.1"])
    twice = client.post(f"/api/appeals/{appeal['id']}/decide", headers=headers, json={
        "outcome": "uphold", "decision": "维持", "expected_version": 1})
    assert twice.status_code == 409
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "appeal.reopened")).one()
    assert json.loads(entry.change)["leaves"] == ["A2.1"]


def test_an_appeal_is_read_only_by_those_its_page_admits(client, db, world, feed, clock,
                                                         make_user, make_org):
    from evalplatform.services import appeals
    from tests.results_feed import principal

    evaluation, _result = published(db, world, feed)
    appeal = appeals.file(db, principal(world.supplier_user), evaluation.id, reasons=REASONS,
                          today=date(2026, 10, 9))
    for stranger in (make_user("supplier"),
                     make_user("purchaser", organisation=make_org("purchasing_department",
                                                                  name="别局"))):
        signed(client, stranger)
        assert client.get(f"/api/appeals/{appeal.id}").status_code == 404
        assert client.get("/api/appeals").json()["items"] == []
    signed(client, world.purchaser)
    assert client.get(f"/api/appeals/{appeal.id}").json()["reasons"] == REASONS


EN = {"Accept-Language": "en"}


def test_the_organiser_sends_collecting_or_scoring_and_is_told_so_otherwise(
        client, db, make_user, make_org):
    """Only the organiser's two steps are accepted, as the document says: draft is refused
    saying an evaluation does not go back to it (not that the result takes that step), a
    step the result takes or a status that does not exist saying what to send instead."""
    world = contracted_world(db, make_user, make_org)
    headers = signed(client, world.purchaser)
    evaluation = client.post(f"/api/contracts/{world.contract.id}/evaluations",
                             json=schedule_body(), headers=headers).json()
    path = f"/api/evaluations/{evaluation['id']}/advance"
    assert client.post(path, json={"to": "collecting"}, headers=headers).status_code == 200
    for to, words in [("draft", "cannot go back to draft"), ("computed", "result/compute"),
                      ("published", "result/publish"), ("finished", "collecting")]:
        refused = client.post(path, json={"to": to}, headers={**headers, **EN})
        assert refused.status_code == 422, (to, refused.text)
        assert set(refused.json()["errors"]) == {"to"}
        assert words in refused.json()["errors"]["to"], refused.json()
        assert "collecting" in refused.json()["errors"]["to"]
    zh = client.post(path, json={"to": "draft"}, headers=headers).json()["errors"]["to"]
    assert "计算或公示" not in zh  # not the result's step: the evaluation cannot go back
    for body in ({"to": "scoring", "expected_version": True}, {"to": "scoring", "foo": 1}):
        refused = client.post(path, json=body, headers=headers)
        assert refused.status_code == 422 and set(refused.json()["errors"]) == set(body) - {"to"}
    assert db.get(Evaluation, evaluation["id"]).status.value == "collecting"
    assert client.post(path, json={"to": "scoring"}, headers=headers).json()["status"] == "scoring"


def test_the_step_schema_lists_the_two_steps_only(client):
    schema = client.get("/api/openapi.json").json()["components"]["schemas"]["StepIn"]
    assert schema["properties"]["to"]["enum"] == ["collecting", "scoring"]
    assert schema["additionalProperties"] is False


def test_opening_a_closed_survey_says_it_is_closed_not_open(client, db, make_user, make_org):
    world = contracted_world(db, make_user, make_org)
    headers = signed(client, world.purchaser)
    evaluation = client.post(f"/api/contracts/{world.contract.id}/evaluations",
                             json=schedule_body(), headers=headers).json()
    surveys_app.create(db, world.purchaser_principal, evaluation["id"], "street_cleaning")
    survey = f"/api/evaluations/{evaluation['id']}/survey"
    assert client.post(f"{survey}/open", headers=headers).status_code == 200
    assert client.post(f"{survey}/close", headers=headers).status_code == 200
    again = client.post(f"{survey}/open", headers={**headers, **EN})
    assert again.status_code == 409
    assert again.json()["detail"] == ("The survey is closed; a closed survey cannot be opened "
                                      "again.")
    zh = client.post(f"{survey}/open", headers=headers)
    assert zh.status_code == 409 and "已经开放" not in zh.json()["detail"]
    survey_id = surveys_app.survey_of(db, db.get(Evaluation, evaluation["id"])).id
    assert client.get(f"/api/surveys/{survey_id}").json()["state"] == "closed"
