"""The JSON API of surveys: the pages' roles and ownership (401, 403, 404), paging, and the
tabulation's figures, checked against values computed by hand."""

from __future__ import annotations

import pytest

from evalplatform.services import surveys_app as app_service
from surveys import invitations
from tests.builders import contracted_world
from tests.conftest import login
from tests.survey_helpers import STREET_ANSWERS, evaluation_with_survey, form


@pytest.fixture
def world(db, make_user, make_org):
    return contracted_world(db, make_user, make_org)


def sign_in(client, user):
    client.cookies.clear()
    assert login(client, user.username).status_code == 303


def codes(db, world, evaluation, n: int) -> list[str]:
    batch = app_service.issue_invitations(db, world.purchaser_principal, evaluation.id, str(n), "")
    return [i.code for i in invitations.codes_of(db, batch.id)]


def survey_id(db, evaluation) -> int:
    return app_service.survey_of(db, evaluation).id


@pytest.mark.parametrize("path", ["/api/surveys", "/api/surveys/1"])
def test_without_sign_in_the_api_answers_401_in_json(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.json() == {"detail": "请先登录。"}


@pytest.mark.parametrize("role", ["supplier", "admin"])
def test_roles_without_the_survey_pages_are_refused(client, db, world, signed_in, role):
    evaluation = evaluation_with_survey(db, world)
    signed_in(role)
    for path in ["/api/surveys", f"/api/surveys/{survey_id(db, evaluation)}"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "角色" in response.json()["detail"]


def test_a_purchaser_sees_only_its_own_departments_surveys(client, db, world, make_user,
                                                           make_org):
    ours = evaluation_with_survey(db, world)
    other_world = contracted_world(db, make_user, make_org, n=2)
    theirs = evaluation_with_survey(db, other_world)
    sign_in(client, world.purchaser)
    listed = client.get("/api/surveys").json()
    assert [item["id"] for item in listed["items"]] == [survey_id(db, ours)]
    assert listed["total"] == 1 and listed["items"][0]["evaluation_id"] == ours.id
    response = client.get(f"/api/surveys/{survey_id(db, theirs)}")
    assert response.status_code == 404 and response.json()["detail"]
    assert client.get("/api/surveys/999999").status_code == 404
    assert client.get(f"/api/surveys/{survey_id(db, ours)}").status_code == 200


def test_an_evaluator_not_assigned_sees_no_survey(client, db, world, signed_in):
    evaluation = evaluation_with_survey(db, world)
    signed_in("evaluator")
    assert client.get("/api/surveys").json() == {"items": [], "total": 0, "page": 1, "pages": 1,
                                                 "per_page": 20, "sort": "-opens_at"}
    assert client.get(f"/api/surveys/{survey_id(db, evaluation)}").status_code == 404


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_finance_and_auditors_see_every_survey_paged(client, db, world, make_user, make_org,
                                                     signed_in, role):
    first = evaluation_with_survey(db, world)
    second = evaluation_with_survey(db, contracted_world(db, make_user, make_org, n=2),
                                    opened=False)
    signed_in(role)
    everything = client.get("/api/surveys").json()
    assert {i["id"] for i in everything["items"]} == {survey_id(db, first), survey_id(db, second)}
    states = {i["id"]: i["state"] for i in everything["items"]}
    assert states == {survey_id(db, first): "open", survey_id(db, second): "draft"}
    one = client.get("/api/surveys?per_page=1&page=2&sort=id").json()
    assert one["total"] == 2 and one["pages"] == 2 and one["page"] == 2
    assert [i["id"] for i in one["items"]] == [max(survey_id(db, first), survey_id(db, second))]
    assert client.get("/api/surveys?q=不存在的评价").json()["total"] == 0


def test_the_survey_in_json_counts_and_tabulates_as_computed_by_hand(client, db, world):
    evaluation = evaluation_with_survey(db, world)
    issued = codes(db, world, evaluation, 5)
    # three residents answer with codes, one paper questionnaire is typed in:
    # Q1 满意 (100, satisfied), Q2 较满意 (80, satisfied), Q3 一般 (60) in three of them;
    # the fourth says 不满意 (0) to all three
    for code in issued[:3]:
        app_service.submit_with_code(db, code, form(**STREET_ANSWERS), "10.0.0.1")
    unhappy = {**STREET_ANSWERS, "Q1": "dissatisfied", "Q2": "dissatisfied", "Q3": "dissatisfied",
               "Q7": "路面经常有垃圾"}
    app_service.enter_paper(db, world.purchaser_principal, evaluation.id, issued[3], form(**unhappy))
    sign_in(client, world.purchaser)
    body = client.get(f"/api/surveys/{survey_id(db, evaluation)}").json()
    assert body["state"] == "open" and body["evaluation_id"] == evaluation.id
    assert body["invitations_issued"] == 5 and body["invitations_used"] == 4
    assert body["responses"] == 4
    assert body["responses_by_channel"] == {"closed": 3, "open": 0, "paper": 1}
    questionnaire = body["questionnaire"]
    assert questionnaire["version"] == 1 and questionnaire["frozen"] is True
    q1 = next(q for q in questionnaire["questions"] if q["id"] == "Q1")
    assert q1["type"] == "scale" and q1["required"] is True and q1["leaf"]
    assert [o["score"] for o in q1["options"] if o["score"] is not None] == [100, 80, 60, 0]
    tab = body["tabulation"]
    assert tab["responses"] == 4 and tab["response_rate"] == pytest.approx(4 / 5)
    # pooled over Q1–Q3: 6 satisfied answers of 12 counted; mean (3 × 240 + 0) / 12 = 60
    assert tab["satisfaction_rate"]["estimate"] == pytest.approx(6 / 12)
    assert tab["satisfaction_rate"]["low"] < 0.5 < tab["satisfaction_rate"]["high"]
    assert tab["mean"]["estimate"] == pytest.approx(60.0)
    assert tab["sample_short"] is True and tab["warnings"]
    figures = {q["id"]: q for q in tab["questions"]}
    assert figures["Q1"]["answered"] == 4
    assert figures["Q1"]["rate"]["estimate"] == pytest.approx(3 / 4)
    assert figures["Q1"]["mean"]["estimate"] == pytest.approx(75.0)  # (3 × 100 + 0) / 4
    counts = {o["name"]: o["count"] for o in figures["Q1"]["options"]}
    assert counts["satisfied"] == 3 and counts["dissatisfied"] == 1
    # free text stays hidden below 5 responses, as on the page
    assert figures["Q7"]["texts"] is None and figures["Q7"]["texts_hidden"] == 1
    assert "路面经常有垃圾" not in str(body)
    groups = {g["name"]: g for b in tab["breakdowns"] for g in b["groups"]}
    assert all(not g["shown"] and g["rate"] is None for g in groups.values())
    # the list says the same counts
    item = client.get("/api/surveys").json()["items"][0]
    assert (item["responses"], item["invitations_issued"], item["invitations_used"]) == (4, 5, 4)
    assert item["questionnaire_version"] == 1


def test_the_api_is_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/surveys" in paths and "/api/surveys/{survey_id}" in paths
