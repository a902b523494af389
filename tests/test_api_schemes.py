"""The JSON API of indicator schemes and of a contract's scheme choice: the scheme pages'
readers (401, 403, another department's scheme not found), the document as the editor shows it
(parts, weights, trees, rules), and the contract page's choice — its checks (422 naming the
source, 409 while the contract's own scheme is unfrozen), its audit entries, and a refusal that
changes nothing."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from sqlmodel import select

from evalplatform.models import AuditEntry, Contract, IndicatorScheme
from evalplatform.services import schemes
from tests.builders import contracted_world, schedule
from tests.conftest import login
from tests.test_api_project_writes import count, signed


@pytest.fixture
def world(db, make_user, make_org):
    return contracted_world(db, make_user, make_org)


@pytest.fixture
def other(db, make_user, make_org, world):
    """Another department, with a contract and a scheme of its own."""
    return contracted_world(db, make_user, make_org, n=2)


def sign_in(client, user) -> None:
    client.cookies.clear()
    assert login(client, user.username).status_code == 303


def template(db) -> IndicatorScheme:
    return next(s for s in db.exec(select(IndicatorScheme).where(IndicatorScheme.is_template)
                                   .order_by(IndicatorScheme.id)) if s.service_area == "市容环卫")


def audit_actions(db) -> list[str]:
    """The audit entries of schemes and contracts (signing in and new users aside)."""
    return [e.action for e in db.exec(select(AuditEntry).order_by(AuditEntry.id))
            if e.action.startswith(("scheme.", "contract."))]


# ---------------------------------------------------------------- reading


@pytest.mark.parametrize("path", ["/api/schemes", "/api/schemes/1"])
def test_without_sign_in_the_api_answers_401_in_json(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.json() == {"detail": "请先登录。"}


@pytest.mark.parametrize("role", ["supplier", "evaluator", "admin"])
def test_roles_without_the_scheme_pages_are_refused(client, world, signed_in, role):
    signed_in(role)
    for path in ["/api/schemes", f"/api/schemes/{world.scheme.id}"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "角色" in response.json()["detail"]


def test_a_purchaser_lists_the_templates_and_its_own_schemes_as_the_page(client, db, world,
                                                                        other):
    sign_in(client, world.purchaser)
    body = client.get("/api/schemes?per_page=200").json()
    ids = {i["id"] for i in body["items"]}
    assert world.scheme.id in ids and other.scheme.id not in ids
    assert {template(db).id} <= ids
    assert body["total"] == len(body["items"]) and body["sort"] == "-updated_at"
    page = client.get("/schemes").text
    assert sorted(int(i) for i in re.findall(r'<a href="/schemes/(\d+)">', page)) == sorted(ids)
    mine = next(i for i in body["items"] if i["id"] == world.scheme.id)
    assert (mine["status"], mine["status_label"], mine["is_template"], mine["frozen"]) == (
        "complete", "完整", False, False)
    assert mine["organisation_id"] == world.department.id
    assert mine["based_on_id"] == template(db).id and mine["updated_at"].endswith(("Z", "+00:00"))
    templates = client.get("/api/schemes?kind=template&per_page=200").json()["items"]
    assert templates and all(i["is_template"] for i in templates)
    assert [i["id"] for i in client.get("/api/schemes?kind=scheme").json()["items"]] == [
        world.scheme.id]
    by_name = client.get("/api/schemes?sort=name&per_page=200").json()
    assert by_name["sort"] == "name"
    assert [i["name"] for i in by_name["items"]] == sorted(i["name"] for i in by_name["items"])
    found = client.get("/api/schemes", params={"q": world.project.name}).json()["items"]
    assert [i["id"] for i in found] == [world.scheme.id]
    sign_in(client, world.finance)
    assert {world.scheme.id, other.scheme.id} <= {
        i["id"] for i in client.get("/api/schemes?per_page=200").json()["items"]}


@pytest.mark.parametrize("query, field, message", [
    ("kind=draft", "kind", "kind须为以下之一：template, scheme。"),
    ("sort=colour", "sort", None),
    ("page=9", "page", "页码须在 1 至 1（末页）之间。"),
    ("per_page=201", "per_page", None),
])
def test_a_bad_list_parameter_is_refused_naming_it_in_chinese(client, world, query, field,
                                                             message):
    sign_in(client, world.purchaser)
    response = client.get(f"/api/schemes?{query}")
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert set(errors) == {field}
    if message:
        assert errors[field] == message


def _nodes(node: dict):
    yield node
    for child in node["children"] or []:
        yield from _nodes(child)


def test_a_scheme_is_its_parts_weights_and_indicator_trees_as_the_editor_shows(client, db,
                                                                              world, make_user):
    sign_in(client, make_user("auditor"))  # reads the editor read-only
    body = client.get(f"/api/schemes/{world.scheme.id}").json()
    assert (body["valid"], body["problems"], body["editable"]) == (True, {}, False)
    assert [(p["id"], p["party"], p["weight"]) for p in body["parts"]] == [
        ("A", "purchaser", "0.40"), ("B", "recipient", "0.30"), ("C", "third_party", "0.30")]
    assert sum(Decimal(p["weight"]) for p in body["parts"]) == Decimal("1.00")
    assert body["parts"][0]["party_label"] == "购买主体"
    assert body["grades"] == [{"name": "优", "min": "90"}, {"name": "良", "min": "80"},
                              {"name": "中", "min": "60"}, {"name": "差", "min": "0"}]
    page = client.get(f"/schemes/{world.scheme.id}").text
    document = db.get(IndicatorScheme, world.scheme.id).document
    for part, stored in zip(body["parts"], document["parts"], strict=True):
        assert f'data-testid="weight-{part["id"]}">{part["weight"]}<' in page
        assert part["combine"] == stored["combine"] and part["tree"]["points"] == "100"
        for node in _nodes(part["tree"]):
            assert f'id="node-{node["id"]}"' in page, node["id"]
            located = schemes.locate(document, node["id"]).node
            assert node["points"] == located["points"]
            if node["children"] is None:  # a leaf: its rule as the editor writes it
                assert node["rule"]["type"] == located["rule"]["type"]
                assert node["rule"]["text"] == schemes.format_params(located["rule"])
                assert f"<code>{node['rule']['text'] or '—'}</code>" in page
            else:  # an inner node's points are its children's sum
                assert sum(Decimal(c["points"]) for c in node["children"]) == Decimal(
                    node["points"])
                assert node["rule"] is None
    survey = [n for p in body["parts"] for n in _nodes(p["tree"])
              if n["rule"] and n["rule"]["type"].startswith("survey")]
    assert survey and all(n["rule"]["params"]["scale"] in body["scales"] for n in survey)


def test_another_departments_scheme_is_not_found_and_a_template_is_read_only(client, db,
                                                                           world, other):
    sign_in(client, world.purchaser)
    assert client.get(f"/api/schemes/{world.scheme.id}").json()["editable"] is True
    hidden = client.get(f"/api/schemes/{other.scheme.id}")
    assert hidden.status_code == 404 and hidden.json()["detail"]
    shared = client.get(f"/api/schemes/{template(db).id}").json()
    assert (shared["is_template"], shared["editable"]) == (True, False)


# ---------------------------------------------------------------- the contract's choice


def test_a_contracts_own_scheme_is_adapted_not_replaced_until_an_evaluation_froze_it(
        client, db, world):
    headers = signed(client, world.purchaser)
    path = f"/api/contracts/{world.contract.id}/scheme"
    actions, schemes_before = audit_actions(db), count(db, IndicatorScheme)
    refused = client.post(path, json={"source_id": template(db).id}, headers=headers)
    assert refused.status_code == 409, refused.text
    assert world.scheme.name in refused.json()["detail"]
    assert count(db, IndicatorScheme) == schemes_before and audit_actions(db) == actions
    assert db.get(Contract, world.contract.id).scheme_id == world.scheme.id

    evaluation = schedule(db, world)  # freezes the contract's scheme
    page = client.get(f"/contracts/{world.contract.id}").text
    assert f'<option value="{template(db).id}">' in page  # the page offers the choice now
    chosen = client.post(path, json={"source_id": template(db).id}, headers=headers)
    assert chosen.status_code == 201, chosen.text
    body = chosen.json()
    assert chosen.headers["location"] == f"/api/schemes/{body['id']}"
    assert (body["based_on_id"], body["organisation_id"], body["frozen"], body["editable"],
            body["status"]) == (template(db).id, world.department.id, False, True, "complete")
    assert body["name"] == f"{world.project.name} · 指标体系"
    assert [p["weight"] for p in body["parts"]] == ["0.40", "0.30", "0.30"]
    db.expire_all()
    assert db.get(Contract, world.contract.id).scheme_id == body["id"]
    assert db.get(type(evaluation), evaluation.id).scheme_id == world.scheme.id  # it keeps its own
    assert audit_actions(db)[-2:] == ["scheme.copy", "contract.scheme"]
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "contract.scheme")
                    .order_by(AuditEntry.id.desc())).first()
    assert (entry.entity_id, entry.actor_id) == (str(world.contract.id), world.purchaser.id)
    assert json.loads(entry.change) == {"scheme": body["id"], "from": template(db).id}
    assert client.get(chosen.headers["location"]).json() == body


def test_a_source_not_the_departments_or_not_complete_is_refused_naming_it(client, db, world,
                                                                          other):
    schedule(db, world)
    incomplete = schemes.create(db, world.purchaser_principal, name="草拟中的体系")
    headers = signed(client, world.purchaser)
    path = f"/api/contracts/{world.contract.id}/scheme"
    actions, schemes_before = audit_actions(db), count(db, IndicatorScheme)
    for source, named in ((other.scheme.id, str(other.scheme.id)), (999999, "999999"),
                          (incomplete.id, "草拟中的体系")):  # the scheme named by id or name
        response = client.post(path, json={"source_id": source}, headers=headers)
        assert response.status_code == 422, response.text
        errors = response.json()["errors"]
        assert set(errors) == {"source_id"}, errors
        assert re.search(rf"(?<!\d){named}(?!\d)", errors["source_id"]), errors
    for body, field in (({"source_id": "某体系"}, "source_id"), ({}, "source_id"),
                        ({"source_id": 0}, "source_id"), ({"source_id": True}, "source_id"),
                        ({"source_id": template(db).id, "scheme": 1}, "scheme")):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 422 and field in response.json()["errors"], body
    assert count(db, IndicatorScheme) == schemes_before and audit_actions(db) == actions
    assert db.get(Contract, world.contract.id).scheme_id == world.scheme.id


def test_only_a_purchaser_of_the_contracts_department_chooses_its_scheme(client, db, world,
                                                                        other, make_user):
    schedule(db, world)
    path = f"/api/contracts/{world.contract.id}/scheme"
    body = {"source_id": template(db).id}
    auditor = make_user("auditor")
    actions, schemes_before = audit_actions(db), count(db, IndicatorScheme)
    for user in (world.finance, auditor, world.supplier_user):
        response = client.post(path, json=body, headers=signed(client, user))
        assert response.status_code == 403, user.role
        assert "角色" in response.json()["detail"]
    foreign = client.post(path, json=body, headers=signed(client, other.purchaser))
    assert foreign.status_code == 404 and foreign.json()["detail"]
    signed(client, world.purchaser)
    no_token = client.post(path, json=body)  # the right purchaser, without the CSRF token
    assert no_token.status_code == 403 and "表单已过期" in no_token.json()["detail"]
    client.cookies.clear()
    assert client.post(path, json=body).status_code == 401
    assert count(db, IndicatorScheme) == schemes_before and audit_actions(db) == actions
    assert db.get(Contract, world.contract.id).scheme_id == world.scheme.id
