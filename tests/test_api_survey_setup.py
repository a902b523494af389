"""Setting a survey up and running it through the JSON API alone: creating it, the number of
people served, the questionnaire, invitation codes, service sites, paper questionnaires — the
pages' services, roles, ownership, refusals and audit entries."""

from __future__ import annotations

import json
import re

import pytest
from sqlmodel import select

from evalplatform.models import AuditEntry, Invitation, Survey, SurveyResponse, SurveySite
from evalplatform.services import surveys_app as app_service
from tests.builders import contracted_world, schedule
from tests.survey_helpers import STREET_ANSWERS, evaluation_with_survey, window
from tests.test_api_project_writes import count, signed


@pytest.fixture
def world(db, make_user, make_org):
    return contracted_world(db, make_user, make_org)


def scheduled(client, world, headers) -> int:
    """A new evaluation of the world's contract, scheduled through the API, open now."""
    when = window()
    created = client.post(f"/api/contracts/{world.contract.id}/evaluations", headers=headers,
                          json={"title": "2026年度终期绩效评价", "stage": "final",
                                "period_start": "2026-01-05", "period_end": "2026-12-31",
                                "opens_at": when["opens"], "closes_at": when["closes"]})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def actions(db) -> list[str]:
    return [e.action for e in db.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
            if e.action.startswith("survey")]


def answered_on_the_respondents_page(client, code: str, answers: dict) -> None:
    """A resident answers with a code on the public page (/s/{code}), signed in as nobody."""
    client.cookies.clear()
    page = client.get(f"/s/{code}")
    assert page.status_code == 200, page.text[:300]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    version = re.search(r'name="version_id" value="([^"]+)"', page.text).group(1)
    sent = client.post(f"/s/{code}", data={**answers, "csrf_token": token, "version_id": version})
    assert sent.status_code == 303, sent.text[:300]


def answered_by_open_link(client, token: str, answers: dict):
    client.cookies.clear()
    page = client.get(f"/o/{token}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    key = re.search(r'name="submission_key" value="([^"]+)"', page.text).group(1)
    return client.post(f"/o/{token}", data={**answers, "csrf_token": csrf,
                                             "submission_key": key})


UNHAPPY = {"Q1": "dissatisfied", "Q2": "dissatisfied", "Q3": "dissatisfied", "Q4": "yes",
           "Q5": "evening"}


def test_an_api_client_runs_a_whole_survey(client, db, world):
    headers = signed(client, world.purchaser)
    evaluation_id = scheduled(client, world, headers)
    base = f"/api/evaluations/{evaluation_id}/survey"

    # created from the template that suits the scheme (市容环卫 → street cleaning)
    created = client.post(base, json={}, headers=headers)
    assert created.status_code == 201, created.text
    survey = created.json()
    assert created.headers["location"] == f"/api/surveys/{survey['id']}"
    assert (survey["state"], survey["evaluation_id"], survey["responses"]) == (
        "draft", evaluation_id, 0)
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "survey.create")).one()
    assert json.loads(entry.change)["template"] == "street_cleaning"

    population = client.post(f"{base}/population", json={"population": 400}, headers=headers)
    assert population.status_code == 200 and population.json()["population"] == 400

    questionnaire = client.get(f"{base}/questionnaire", headers=headers).json()
    assert (questionnaire["version"], questionnaire["status"], questionnaire["frozen"]) == (
        1, "draft", False)
    assert questionnaire["problems"] == {} and questionnaire["editable"] is True
    assert [q["id"] for q in questionnaire["questions"]][:3] == ["Q1", "Q2", "Q3"]
    assert all(q["leaf"] for q in questionnaire["questions"][:3])  # mapped to the scheme
    assert questionnaire["versions"] == [{"version": 1, "status": "draft", "frozen": False}]

    # the first version is published by opening the survey
    opened = client.post(f"{base}/open", headers=headers)
    assert opened.status_code == 200 and opened.json()["state"] == "open"
    assert client.get(f"{base}/questionnaire").json()["status"] == "current"

    issued = client.post(f"{base}/invitations", json={"size": 5, "label": "幸福社区"},
                         headers=headers)
    assert issued.status_code == 201, issued.text
    batch = issued.json()
    assert issued.headers["location"] == f"{base}/invitations/{batch['id']}"
    assert (batch["size"], batch["used"], batch["label"], len(batch["codes"])) == (
        5, 0, "幸福社区", 5)
    codes = [c["code"] for c in batch["codes"]]
    assert len(set(codes)) == 5 and all(re.fullmatch(r"[2-9A-HJKMNP-Z]{8}", c) for c in codes)
    first = batch["codes"][0]
    assert first["display"] == f"{first['code'][:4]}-{first['code'][4:]}"
    assert first["url"].endswith(f"/s/{first['code']}") and batch["entry_url"].endswith("/s")
    # stored as issued: the organiser reads them again, as the printable slips page does
    again = client.get(f"{base}/invitations/{batch['id']}", headers=headers).json()
    assert [c["code"] for c in again["codes"]] == codes
    listed = client.get(f"{base}/invitations", headers=headers).json()
    assert [(b["id"], b["size"], b["used"]) for b in listed] == [(batch["id"], 5, 0)]
    codes_entry = db.exec(select(AuditEntry).where(AuditEntry.action == "survey.invitations")).one()
    assert json.loads(codes_entry.change)["size"] == 5
    assert not any(code in codes_entry.change for code in codes)  # never the codes

    added = client.post(f"{base}/sites", json={"name": "幸福社区服务站", "device_limit": 2},
                        headers=headers)
    assert added.status_code == 201, added.text
    site = added.json()
    assert (site["name"], site["device_limit"], site["active"]) == ("幸福社区服务站", 2, True)
    assert site["url"].endswith(f"/o/{site['token']}")
    assert [s["id"] for s in client.get(f"{base}/sites", headers=headers).json()] == [site["id"]]

    # residents answer: two with codes on their page, one by the site's open link
    answered_on_the_respondents_page(client, codes[0], STREET_ANSWERS)
    answered_on_the_respondents_page(client, codes[1], STREET_ANSWERS)
    assert answered_by_open_link(client, site["token"], UNHAPPY).status_code == 303

    # two paper questionnaires typed in at once
    headers = signed(client, world.purchaser)
    paper = client.post(f"{base}/paper", headers=headers, json={"questionnaires": [
        {"code": codes[2].lower(), "answers": {**STREET_ANSWERS, "Q6": ["bins", "dust"]}},
        {"code": f"{codes[3][:4]}-{codes[3][4:]}",
         "answers": {**UNHAPPY, "Q7": "垃圾桶经常满", "Q6": None}}]})
    assert paper.status_code == 200, paper.text
    assert paper.json() == {"entered": 2, "responses": 5,
                            "responses_by_channel": {"closed": 2, "open": 1, "paper": 2}}

    # the site's link is stopped: it takes no more answers
    stopped = client.post(f"{base}/sites/{site['id']}/active", json={"active": False},
                          headers=headers)
    assert stopped.status_code == 200 and stopped.json()["active"] is False
    client.cookies.clear()
    closed_link = client.get(f"/o/{site['token']}")
    assert 'name="submission_key"' not in closed_link.text  # a message, no questionnaire
    assert count(db, SurveyResponse) == 5
    headers = signed(client, world.purchaser)
    restarted = client.post(f"{base}/sites/{site['id']}/active", json={"active": True},
                            headers=headers)
    assert restarted.json()["active"] is True

    closed = client.post(f"{base}/close", headers=headers)
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    body = client.get(f"/api/surveys/{survey['id']}").json()
    assert (body["responses"], body["invitations_issued"], body["invitations_used"]) == (5, 5, 4)
    assert body["responses_by_channel"] == {"closed": 2, "open": 1, "paper": 2}
    tab = body["tabulation"]
    assert tab["responses"] == 5 and tab["population"] == 400
    q1 = next(q for q in tab["questions"] if q["id"] == "Q1")
    assert {o["name"]: o["count"] for o in q1["options"]}["satisfied"] == 3
    assert {o["name"]: o["count"] for o in q1["options"]}["dissatisfied"] == 2
    assert q1["rate"]["estimate"] == pytest.approx(3 / 5)
    assert q1["mean"]["estimate"] == pytest.approx(60.0)  # (3 × 100 + 2 × 0) / 5
    assert client.get(f"{base}/invitations", headers=headers).json()[0]["used"] == 4
    assert actions(db) == ["survey.create", "survey.population", "survey.open",
                           "survey.invitations", "survey.site", "survey.site.stop",
                           "survey.site.active", "survey.close"]


def test_paper_questionnaires_are_entered_all_or_none_naming_each_refusal(client, db, world):
    evaluation = evaluation_with_survey(db, world)
    batch = app_service.issue_invitations(db, world.purchaser_principal, evaluation.id, "4", "")
    codes = [i.code for i in db.exec(select(Invitation).where(Invitation.batch_id == batch.id)
                                     .order_by(Invitation.code)).all()]
    app_service.enter_paper(db, world.purchaser_principal, evaluation.id, codes[3],
                            lambda name: [STREET_ANSWERS[name]] if name in STREET_ANSWERS else [])
    headers = signed(client, world.purchaser)
    path = f"/api/evaluations/{evaluation.id}/survey/paper"
    partial = {k: v for k, v in STREET_ANSWERS.items() if k != "Q2"}
    refused = client.post(path, headers=headers, json={"questionnaires": [
        {"code": codes[0], "answers": STREET_ANSWERS},                            # fine
        {"code": codes[1], "answers": {**partial, "Q1": "very", "Q99": "yes"}},   # three faults
        {"code": codes[0], "answers": STREET_ANSWERS},                            # twice
        {"code": codes[3], "answers": STREET_ANSWERS},                            # used
        {"code": "ABCD-2345", "answers": STREET_ANSWERS}]})                        # not ours
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert set(errors) == {"questionnaires.1.answers.Q1", "questionnaires.1.answers.Q2",
                           "questionnaires.1.answers.Q99", "questionnaires.2.code",
                           "questionnaires.3.code", "questionnaires.4.code"}
    # the questionnaire's place and the question named, the rule in the reader's language
    assert "questionnaires.1" in errors["questionnaires.1.answers.Q2"]
    assert "Q2" in errors["questionnaires.1.answers.Q2"]
    assert errors["questionnaires.1.answers.Q2"].endswith("请回答此题。")
    assert errors["questionnaires.1.answers.Q1"].endswith("请选择列出的选项之一。")
    assert "questionnaires.3" in errors["questionnaires.3.code"]
    # nothing of the list was stored, not even the first, whose answers were fine
    assert count(db, SurveyResponse) == 1
    db.expire_all()
    assert [i.code for i in db.exec(select(Invitation).where(Invitation.used)).all()] == [codes[3]]
    # an answer of none of the kinds, named before anything is looked up
    typed = client.post(path, headers=headers, json={"questionnaires": [
        {"code": codes[0], "answers": {**STREET_ANSWERS, "Q1": True}},
        {"code": codes[1], "answers": {**STREET_ANSWERS, "Q2": {"x": 1}}}]})
    assert typed.status_code == 422
    assert set(typed.json()["errors"]) == {"questionnaires.0.answers.Q1",
                                           "questionnaires.1.answers.Q2"}
    assert "questionnaires.0" in typed.json()["errors"]["questionnaires.0.answers.Q1"]
    empty = client.post(path, headers=headers, json={"questionnaires": []})
    assert empty.status_code == 422 and set(empty.json()["errors"]) == {"questionnaires"}
    assert count(db, SurveyResponse) == 1
    # in English on request
    english = client.post(path, headers={**headers, "Accept-Language": "en"}, json={
        "questionnaires": [{"code": codes[1], "answers": partial}]})
    assert english.json()["errors"]["questionnaires.0.answers.Q2"] == (
        "Questionnaire 1 (questionnaires.0), question Q2: Please answer this question.")
    good = client.post(path, headers=headers, json={"questionnaires": [
        {"code": codes[0], "answers": STREET_ANSWERS},
        {"code": codes[1], "answers": {**STREET_ANSWERS, "Q6": ["frequency"]}}]})
    assert good.status_code == 200 and good.json()["entered"] == 2
    assert count(db, SurveyResponse) == 3


@pytest.mark.parametrize("role", ["auditor", "evaluator", "supplier", "admin"])
def test_a_role_that_does_not_organise_is_refused_and_changes_nothing(
        client, db, world, signed_in, role):
    evaluation = evaluation_with_survey(db, world)
    batch = app_service.issue_invitations(db, world.purchaser_principal, evaluation.id, "2", "")
    site = app_service.add_site(db, world.purchaser_principal, evaluation.id, "服务站", "1")
    code = db.exec(select(Invitation).where(Invitation.batch_id == batch.id)).first().code
    before = (actions(db), count(db, Invitation), count(db, SurveySite))
    user = signed_in(role)
    headers = signed(client, user)
    base = f"/api/evaluations/{evaluation.id}/survey"
    writes = [(base, {}), (f"{base}/population", {"population": 10}),
              (f"{base}/questionnaire/version", None), (f"{base}/questionnaire/publish", None),
              (f"{base}/invitations", {"size": 3}), (f"{base}/sites", {"name": "另一站"}),
              (f"{base}/sites/{site.id}/active", {"active": False}),
              (f"{base}/paper", {"questionnaires": [{"code": code, "answers": STREET_ANSWERS}]})]
    for path, body in writes:
        answer = client.post(path, json=body, headers=headers)
        assert answer.status_code == 403, (path, answer.text)
        assert "角色" in answer.json()["detail"]
    # the codes are the organiser's secret: an auditor reading everything does not get them
    for path in (f"{base}/invitations", f"{base}/invitations/{batch.id}", f"{base}/sites"):
        assert client.get(path).status_code == 403, path
    assert (actions(db), count(db, Invitation), count(db, SurveySite)) == before
    assert count(db, SurveyResponse) == 0
    db.expire_all()
    assert db.get(SurveySite, site.id).active is True
    assert app_service.survey_of(db, evaluation).population is None


def test_the_questionnaire_is_read_as_the_survey_pages_are(client, db, world, signed_in):
    evaluation = evaluation_with_survey(db, world, opened=False)
    path = f"/api/evaluations/{evaluation.id}/survey/questionnaire"
    signed_in("auditor")
    read = client.get(path)
    assert read.status_code == 200 and read.json()["editable"] is False
    assert read.json()["survey_id"] == app_service.survey_of(db, evaluation).id
    client.cookies.clear()
    signed_in("evaluator")  # not assigned to this evaluation
    assert client.get(path).status_code == 404
    client.cookies.clear()
    signed_in("supplier")
    assert client.get(path).status_code == 403
    no_survey = schedule(db, world, stage="interim", end="2026-03-31", **window())
    signed(client, world.purchaser)
    missing = client.get(f"/api/evaluations/{no_survey.id}/survey/questionnaire")
    assert missing.status_code == 404 and missing.json()["detail"] == "本评价尚未设置调查。"


def test_another_departments_survey_is_not_found_and_nothing_changes(
        client, db, world, make_user, make_org):
    evaluation = evaluation_with_survey(db, world)
    batch = app_service.issue_invitations(db, world.purchaser_principal, evaluation.id, "2", "")
    site = app_service.add_site(db, world.purchaser_principal, evaluation.id, "服务站", "1")
    other = contracted_world(db, make_user, make_org, n=2)
    before = actions(db)
    headers = signed(client, other.purchaser)
    base = f"/api/evaluations/{evaluation.id}/survey"
    for path, body in [(base, {}), (f"{base}/population", {"population": 10}),
                       (f"{base}/questionnaire/publish", None), (f"{base}/invitations",
                                                                {"size": 3}),
                       (f"{base}/sites", {"name": "另一站"}),
                       (f"{base}/sites/{site.id}/active", {"active": False}),
                       (f"{base}/paper", {"questionnaires": [{"code": "ABCD-2345",
                                                              "answers": {}}]})]:
        assert client.post(path, json=body, headers=headers).status_code == 404, path
    for path in (f"{base}/questionnaire", f"{base}/invitations",
                 f"{base}/invitations/{batch.id}", f"{base}/sites"):
        assert client.get(path).status_code == 404, path
    assert actions(db) == before and count(db, SurveySite) == 1
    # and the other department's own batch id and site id name nothing under this survey
    theirs = evaluation_with_survey(db, other)
    their_batch = app_service.issue_invitations(db, other.purchaser_principal, theirs.id, "1",
                                                "")
    their_site = app_service.add_site(db, other.purchaser_principal, theirs.id, "站", "1")
    headers = signed(client, world.purchaser)
    assert client.get(f"{base}/invitations/{their_batch.id}").status_code == 404
    moved = client.post(f"{base}/sites/{their_site.id}/active", json={"active": False},
                        headers=headers)
    assert moved.status_code == 404
    db.expire_all()
    assert db.get(SurveySite, their_site.id).active is True


def test_bad_input_is_refused_naming_the_field_in_chinese(client, db, world):
    headers = signed(client, world.purchaser)
    evaluation_id = scheduled(client, world, headers)
    base = f"/api/evaluations/{evaluation_id}/survey"
    unknown = client.post(base, json={"template": "gardening"}, headers=headers)
    assert unknown.status_code == 422 and set(unknown.json()["errors"]) == {"template"}
    assert unknown.json()["errors"]["template"] == "请选择列出的模板之一。"
    typo = client.post(base, json={"templat": "street_cleaning"}, headers=headers)
    assert typo.status_code == 422 and set(typo.json()["errors"]) == {"templat"}
    assert count(db, Survey) == 0
    assert client.post(base, json={"template": "from_scheme"}, headers=headers).status_code == 201

    def refused(path: str, body: dict, field: str) -> str:
        answer = client.post(f"{base}/{path}", json=body, headers=headers)
        assert answer.status_code == 422, (path, body, answer.text)
        assert set(answer.json()["errors"]) == {field}, answer.json()
        return answer.json()["errors"][field]

    assert refused("population", {"population": 0}, "population") == (
        "服务对象总数须为不小于 1 的整数，或留空。")
    assert refused("population", {"population": 10**12}, "population")
    assert refused("population", {"population": "很多"}, "population") == "population须为整数。"
    assert refused("population", {}, "population") == "population为必填项。"
    assert refused("invitations", {"size": 0}, "size") == "每次可生成 1 到 2000 个邀请码。"
    assert refused("invitations", {"size": 2001}, "size")
    assert refused("invitations", {"size": True}, "size") == "size须为整数。"
    assert refused("invitations", {"size": 3, "label": "长" * 101}, "label") == "最多 100 个字符。"
    assert refused("sites", {"name": "  "}, "name") == "请填写名称。"
    assert refused("sites", {"name": "站", "device_limit": 501}, "device_limit") == (
        "每部手机可答次数须为 1 到 500 之间的整数。")
    assert refused("paper", {"questionnaires": [{"code": "x", "answers": {}, "answer": {}}]},
                   "questionnaires.0.answer")
    survey = db.exec(select(Survey)).one()
    db.refresh(survey)
    assert survey.population is None
    assert (count(db, Invitation), count(db, SurveySite)) == (0, 0)
    assert actions(db) == ["survey.create"]


def test_a_step_out_of_order_is_a_conflict_and_changes_nothing(client, db, world):
    headers = signed(client, world.purchaser)
    evaluation_id = scheduled(client, world, headers)
    base = f"/api/evaluations/{evaluation_id}/survey"
    assert client.post(f"{base}/invitations", json={"size": 3},
                       headers=headers).status_code == 404  # no survey yet
    assert client.post(base, json={}, headers=headers).status_code == 201
    twice = client.post(base, json={}, headers=headers)
    assert twice.status_code == 409 and twice.json()["detail"] == "本评价已有调查。"
    early = client.post(f"{base}/questionnaire/publish", headers=headers)
    assert early.status_code == 409 and early.json()["detail"]
    draft_again = client.post(f"{base}/questionnaire/version", headers=headers)
    assert draft_again.status_code == 409  # version 1 is still a draft: edit it
    batch = client.post(f"{base}/invitations", json={"size": 2}, headers=headers).json()
    not_open = client.post(f"{base}/paper", headers=headers, json={"questionnaires": [
        {"code": batch["codes"][0]["code"], "answers": STREET_ANSWERS}]})
    assert not_open.status_code == 409 and not_open.json()["detail"]
    assert client.post(f"{base}/open", headers=headers).status_code == 200
    no_draft = client.post(f"{base}/questionnaire/publish", headers=headers)
    assert no_draft.status_code == 409
    assert client.post(f"{base}/close", headers=headers).status_code == 200
    before = actions(db)
    for path, body in [("invitations", {"size": 3}), ("sites", {"name": "站"}),
                       ("paper", {"questionnaires": [{"code": batch["codes"][1]["code"],
                                                      "answers": STREET_ANSWERS}]})]:
        late = client.post(f"{base}/{path}", json=body, headers=headers)
        assert late.status_code == 409, (path, late.text)
        assert late.json()["detail"]
    assert actions(db) == before
    assert (count(db, Invitation), count(db, SurveySite), count(db, SurveyResponse)) == (2, 0, 0)


def test_a_new_version_is_published_through_the_api(client, db, world, signed_in):
    evaluation = evaluation_with_survey(db, world)
    batch = app_service.issue_invitations(db, world.purchaser_principal, evaluation.id, "1", "")
    code = db.exec(select(Invitation).where(Invitation.batch_id == batch.id)).one().code
    headers = signed(client, world.finance)  # finance organises every survey
    base = f"/api/evaluations/{evaluation.id}/survey"
    entered = client.post(f"{base}/paper", headers=headers, json={"questionnaires": [
        {"code": code, "answers": STREET_ANSWERS}]})
    assert entered.status_code == 200
    frozen = client.get(f"{base}/questionnaire").json()
    assert (frozen["version"], frozen["frozen"], frozen["editable"]) == (1, True, False)
    draft = client.post(f"{base}/questionnaire/version", headers=headers)
    assert draft.status_code == 201, draft.text
    assert (draft.json()["version"], draft.json()["status"], draft.json()["editable"]) == (
        2, "draft", True)
    published = client.post(f"{base}/questionnaire/publish", headers=headers)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "current"
    assert [(v["version"], v["status"]) for v in published.json()["versions"]] == [
        (1, "retired"), (2, "current")]
    assert actions(db)[-2:] == ["survey.questionnaire.version", "survey.questionnaire.publish"]


def test_the_new_operations_are_documented(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    base = "/api/evaluations/{evaluation_id}/survey"
    for path, method in [(base, "post"), (f"{base}/population", "post"),
                         (f"{base}/questionnaire", "get"), (f"{base}/questionnaire/publish", "post"),
                         (f"{base}/invitations", "post"), (f"{base}/invitations/{{batch_id}}", "get"),
                         (f"{base}/sites", "post"), (f"{base}/sites/{{site_id}}/active", "post"),
                         (f"{base}/paper", "post")]:
        operation = paths[path][method]
        assert operation["tags"] == ["surveys"], path
        assert "Page-only" in paths[f"{base}/questionnaire"]["get"]["description"]
        assert re.search(r"\(.*[\u4e00-\u9fff].*\)$", operation["summary"]), path
