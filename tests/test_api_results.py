"""GET /api/results/{id}: the public result page's figures for anyone, no personal data, an
unpublished result 404 to the public; the stored result and package for a reader of the
evaluation's result page, under that page's roles and ownership."""

from __future__ import annotations

import json

import pytest

from evalplatform.services import results
from tests.conftest import login
from tests.results_feed import (  # noqa: F401  (feed_fixture, world_fixture: fixtures)
    HAND_TOTAL,
    fed,
    feed_fixture,
    principal,
    published,
    world_fixture,
)

PUBLIC_KEYS = {"id", "evaluation_id", "evaluation", "stage", "period_start", "period_end",
               "project", "department", "supplier", "version", "total", "grade",
               "published_on", "appeal_deadline", "final_on", "state", "parts",
               "later_publication", "result", "package"}


def sign_in(client, user):
    client.cookies.clear()
    assert login(client, user.username).status_code == 303


def test_the_public_reads_a_published_result_without_personal_data(client, db, world, feed):
    evaluation, result = published(db, world, feed)
    response = client.get(f"/api/results/{result.id}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == PUBLIC_KEYS
    assert body["total"] == HAND_TOTAL and body["project"] == world.project.name
    assert body["supplier"] == world.supplier.name and body["evaluation_id"] == evaluation.id
    assert body["parts"] == json.loads(json.dumps(results.public_parts(result)))
    assert body["result"] is None and body["package"] is None
    text = response.text
    for personal in (world.finance.display_name, world.finance.username,
                     world.purchaser.username, world.supplier_user.username, "E1", "E2",
                     "作业人员未穿反光背心", "满意度问卷"):
        assert personal not in text, personal


def test_an_unpublished_result_is_404_to_the_public_and_to_the_supplier(client, db, world,
                                                                       feed):
    evaluation = fed(db, world, feed)
    result = results.compute(db, principal(world.finance), evaluation.id)
    response = client.get(f"/api/results/{result.id}")
    assert response.status_code == 404
    assert response.json() == {"detail": "该结果尚未公示。"}
    assert client.get("/api/results/999999").status_code == 404
    sign_in(client, world.supplier_user)  # the result page hides an unpublished version too
    assert client.get(f"/api/results/{result.id}").status_code == 404


def test_finance_reads_an_unpublished_result_whole_as_the_downloads_give_it(client, db, world,
                                                                           feed):
    evaluation = fed(db, world, feed)
    result = results.compute(db, principal(world.finance), evaluation.id)
    sign_in(client, world.finance)
    body = client.get(f"/api/results/{result.id}").json()
    assert body["published_on"] is None and body["total"] == HAND_TOTAL
    downloaded = f"/evaluations/{evaluation.id}/result"
    assert body["result"] == client.get(f"{downloaded}/result.json").json()
    assert body["package"] == client.get(f"{downloaded}/package.json").json()


def test_another_departments_purchaser_gets_only_the_public_answer(client, db, world, feed,
                                                                  make_user, make_org):
    evaluation, result = published(db, world, feed)
    stranger = make_user("purchaser", organisation=make_org("purchasing_department", name="临江市民政局"))
    sign_in(client, stranger)
    body = client.get(f"/api/results/{result.id}").json()
    assert body["total"] == HAND_TOTAL and body["result"] is None and body["package"] is None
    sign_in(client, world.purchaser)
    assert client.get(f"/api/results/{result.id}").json()["package"] is not None


def test_an_id_that_is_not_a_number_is_not_found_as_elsewhere_in_the_api(client):
    assert client.get("/api/results/abc").json() == {"detail": "该页面不存在。"}


@pytest.mark.parametrize("query, name", [("sort=bogus", "sort"), ("page=0", "page")])
def test_the_public_list_refuses_a_bad_parameter_naming_it(client, query, name):
    response = client.get(f"/api/results?{query}")
    assert response.status_code == 422 and name in response.json()["errors"]


def test_the_openapi_document_describes_the_result_detail(client):
    document = client.get("/api/openapi.json").json()
    assert "/api/results/{result_id}" in document["paths"]
    assert "ResultDetailOut" in document["components"]["schemas"]


# ---------------------------------------------------------------- compute and publish


def headers_of(client) -> dict:
    return {"x-csrf-token": client.get("/api/me").json()["csrf_token"]}


def test_finance_computes_and_publishes_over_the_api_as_the_buttons_do(client, db, world, feed):
    from sqlmodel import select

    from evalplatform.models import AuditEntry, EvaluationStatus

    evaluation = fed(db, world, feed)
    sign_in(client, world.finance)
    headers = headers_of(client)
    base = f"/api/evaluations/{evaluation.id}/result"
    read = client.get(f"/api/evaluations/{evaluation.id}").json()
    stale = client.post(f"{base}/compute", headers=headers,
                        json={"expected_version": read["version"] - 1})
    assert stale.status_code == 409 and stale.json()["detail"]
    computed = client.post(f"{base}/compute", headers=headers,
                           json={"expected_version": read["version"]})
    assert computed.status_code == 201, computed.text
    body = computed.json()
    assert (body["version"], body["total"], body["grade"], body["final_ready"]) == \
        (1, HAND_TOTAL, "良", True)
    assert computed.headers["location"] == f"{base}?version=1"
    assert client.get(computed.headers["location"]).json()["total"] == HAND_TOTAL
    published_now = client.post(f"{base}/publish", headers=headers, json={})
    assert published_now.status_code == 200, published_now.text
    assert published_now.json()["published_at"] and published_now.json()["appeal_deadline"]
    again = client.post(f"{base}/publish", headers=headers, json={})
    assert again.status_code == 409 and again.json()["detail"]  # published already
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.published
    actions = list(db.exec(select(AuditEntry.action).where(
        AuditEntry.action.in_(("result.compute", "result.publish")))))
    assert actions == ["result.compute", "result.publish"]


def test_computing_over_the_api_needs_the_organisers_role_and_the_csrf_token(
        client, db, world, feed, make_user):
    evaluation = fed(db, world, feed)
    url = f"/api/evaluations/{evaluation.id}/result/compute"
    assert client.post(url, json={}).status_code in (401, 403)
    sign_in(client, world.supplier_user)
    assert client.post(url, headers=headers_of(client), json={}).status_code == 403
    sign_in(client, make_user("evaluator"))
    assert client.post(url, headers=headers_of(client), json={}).status_code in (403, 404)
    sign_in(client, world.purchaser)
    assert client.post(url, json={}).status_code == 403  # no CSRF token
    bad = client.post(url, headers=headers_of(client), json={"expected_version": "two"})
    assert bad.status_code == 422 and "expected_version" in bad.json()["errors"]
    assert results.current(db, evaluation.id) is None  # nothing computed by a refusal
    assert client.post(url, headers=headers_of(client), json={}).status_code == 201


def test_computing_and_publishing_take_no_body_at_all(client, db, world, feed):
    """The body is optional, as the README says: without one no version is checked (an
    empty object did the same); the document says it is not required, and a key it does not
    declare, or true for a version, is refused naming it."""
    evaluation = fed(db, world, feed)
    sign_in(client, world.finance)
    headers = headers_of(client)
    base = f"/api/evaluations/{evaluation.id}/result"
    for body in ({"expected_version": True}, {"expected_version": 1, "force": True}):
        refused = client.post(f"{base}/compute", headers=headers, json=body)
        assert refused.status_code == 422, refused.text
        assert set(refused.json()["errors"]) == {"force" if "force" in body
                                                 else "expected_version"}
    assert results.current(db, evaluation.id) is None
    computed = client.post(f"{base}/compute", headers=headers)
    assert computed.status_code == 201, computed.text
    published_now = client.post(f"{base}/publish", headers=headers)
    assert published_now.status_code == 200, published_now.text
    assert published_now.json()["published_at"]
    paths = client.get("/api/openapi.json").json()["paths"]
    for step in ("compute", "publish"):
        body = paths[f"/api/evaluations/{{evaluation_id}}/result/{step}"]["post"]["requestBody"]
        assert not body.get("required", False), step


def test_the_public_list_refuses_a_grade_nobody_has_naming_the_grades(client, db, world, feed):
    published(db, world, feed)  # 良
    refused = client.get("/api/results?grade=bogus", headers={"Accept-Language": "en"})
    assert refused.status_code == 422
    assert set(refused.json()["errors"]) == {"grade"}
    assert "优, 良, 中, 差" in refused.json()["errors"]["grade"]
    assert client.get("/api/results?grade=良").json()["total"] == 1
    assert client.get("/api/results?grade=优").json()["total"] == 0  # a grade, none has it
    assert client.get("/api/results?grade=").json()["total"] == 1


def test_the_json_downloads_answer_and_are_documented_as_downloads_beside_the_pages(
        client, db, world, feed, make_user):
    """Not under /api: a browser is sent to sign in and shown the pages' errors; a program
    that accepts JSON gets JSON refusals; the document says both."""
    evaluation, _result = published(db, world, feed)
    url = f"/evaluations/{evaluation.id}/result/package.json"
    program = {"Accept": "application/json"}
    client.cookies.clear()
    assert client.get(url, follow_redirects=False).status_code == 303
    assert client.get(url, headers=program).status_code == 401
    for user, status in [(make_user("evaluator"), 403), (make_user("supplier"), 404)]:
        sign_in(client, user)
        assert client.get(url).headers["content-type"].startswith("text/html")
        refused = client.get(url, headers=program)
        assert refused.status_code == status and refused.json()["detail"]
    operations = client.get("/api/openapi.json").json()["paths"]
    for part in ("package", "result"):
        operation = operations[f"/evaluations/{{evaluation_id}}/result/{part}.json"]["get"]
        assert {"200", "303", "401", "403", "404"} <= set(operation["responses"]), part
        assert "Accept: application/json" in operation["description"]
        assert operation["responses"]["404"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"}


def test_the_api_reads_a_result_final_once_its_appeal_window_has_closed(client, db, world, feed):
    """As the pages do, reading the result or the evaluation over the API makes final a result
    whose window closed with no appeal open: a program polling the API sees it final."""
    from datetime import timedelta

    from sqlmodel import select

    from evalplatform.models import EvaluationResult, EvaluationStatus

    evaluation = fed(db, world, feed)
    sign_in(client, world.finance)
    headers = headers_of(client)
    base = f"/api/evaluations/{evaluation.id}/result"
    assert client.post(f"{base}/compute", headers=headers, json={}).status_code == 201
    assert client.post(f"{base}/publish", headers=headers, json={}).status_code == 200
    assert client.get(f"/api/evaluations/{evaluation.id}").json()["status"] == "published"
    db.expire_all()
    stored = db.exec(select(EvaluationResult).where(
        EvaluationResult.evaluation_id == evaluation.id)).one()
    stored.appeal_deadline = stored.appeal_deadline - timedelta(days=30)  # the window closed
    db.add(stored)
    db.commit()
    assert client.get(f"/api/evaluations/{evaluation.id}").json()["status"] == "final"
    read = client.get(base).json()
    assert read["final_at"] and read["state"] == "final"
    db.expire_all()
    assert db.get(type(evaluation), evaluation.id).status == EvaluationStatus.final
