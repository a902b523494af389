"""The JSON API of contracts: the contract page's roles and ownership (401, 403, 404) — a
supplier reads its own contracts —, filters and paging, and the contract's terms, payment rule,
instalments and evaluations."""

from __future__ import annotations

import pytest

from evalplatform.services import contracts, settlements
from tests.builders import contracted_world, schedule
from tests.conftest import login


@pytest.fixture
def worlds(db, make_user, make_org):
    """Three departments' contracts: two signed in 2026, one in 2025."""
    return [contracted_world(db, make_user, make_org, n=1),
            contracted_world(db, make_user, make_org, n=2),
            contracted_world(db, make_user, make_org, n=3, signed_on="2025-03-02")]


def sign_in(client, user):
    client.cookies.clear()
    assert login(client, user.username).status_code == 303


def ids(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.mark.parametrize("path", ["/api/contracts", "/api/contracts/1"])
def test_without_sign_in_the_api_answers_401_in_json(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.json() == {"detail": "请先登录。"}


@pytest.mark.parametrize("role", ["evaluator", "admin"])
def test_roles_the_contract_pages_refuse_are_refused(client, worlds, signed_in, role):
    signed_in(role)
    for path in ["/api/contracts", f"/api/contracts/{worlds[0].contract.id}"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "角色" in response.json()["detail"]


def test_a_supplier_sees_only_the_contracts_it_signed(client, db, worlds):
    """Its pay follows their instalments and payment rule: it reads them in full, as the
    purchaser does; another supplier's contract is not found, as on the contract page."""
    ours, theirs = worlds[0], worlds[1]
    evaluation = schedule(db, ours)
    sign_in(client, ours.purchaser)
    as_purchaser = client.get(f"/api/contracts/{ours.contract.id}").json()
    sign_in(client, ours.supplier_user)
    assert ids(client.get("/api/contracts")) == [ours.contract.id]
    # a filter narrows the supplier's own list, never widens it
    assert ids(client.get(f"/api/contracts?supplier_id={theirs.supplier.id}")) == []
    assert ids(client.get(f"/api/contracts?department_id={theirs.department.id}")) == []
    body = client.get(f"/api/contracts/{ours.contract.id}").json()
    assert body == as_purchaser  # the same fields and figures as for its purchaser
    assert [i["amount_fen"] for i in body["instalments"]] == [23_400_000, 23_400_000, 31_200_000]
    assert "得分 ≥ 80（良） → 支付 95%" in body["payment_rule_text"]
    assert body["terms"]["performance_targets"] == "保洁达标率 95%"
    assert [e["id"] for e in body["evaluations"]] == [evaluation.id]
    for other in (theirs.contract.id, worlds[2].contract.id, 999999):
        response = client.get(f"/api/contracts/{other}")
        assert response.status_code == 404 and response.json()["detail"], other


def test_a_purchaser_sees_only_its_own_departments_contracts(client, worlds):
    ours, theirs = worlds[0], worlds[1]
    sign_in(client, ours.purchaser)
    assert ids(client.get("/api/contracts")) == [ours.contract.id]
    assert ids(client.get(f"/api/contracts?department_id={theirs.department.id}")) == []
    response = client.get(f"/api/contracts/{theirs.contract.id}")
    assert response.status_code == 404 and response.json()["detail"]
    assert client.get("/api/contracts/999999").status_code == 404
    assert client.get(f"/api/contracts/{ours.contract.id}").status_code == 200


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_finance_and_auditors_see_every_contract(client, worlds, signed_in, role):
    signed_in(role)
    assert sorted(ids(client.get("/api/contracts"))) == sorted(w.contract.id for w in worlds)
    for world in worlds:
        assert client.get(f"/api/contracts/{world.contract.id}").status_code == 200


def test_filters_sort_and_paging(client, db, worlds):
    first, second, older = worlds
    sign_in(client, first.finance)
    assert ids(client.get(f"/api/contracts?department_id={second.department.id}")) == \
        [second.contract.id]
    assert ids(client.get(f"/api/contracts?supplier_id={first.supplier.id}")) == \
        [first.contract.id]
    assert ids(client.get("/api/contracts?year=2025")) == [older.contract.id]
    assert sorted(ids(client.get("/api/contracts?year=2026"))) == \
        sorted([first.contract.id, second.contract.id])
    assert ids(client.get("/api/contracts?q=清扫保洁服务项目3")) == [older.contract.id]
    assert ids(client.get("/api/contracts?q=洁美环境服务有限公司2")) == [second.contract.id]
    newest = client.get("/api/contracts").json()
    assert newest["sort"] == "-signed_on" and newest["items"][-1]["id"] == older.contract.id
    oldest = client.get("/api/contracts?sort=signed_on&per_page=2").json()
    assert (oldest["total"], oldest["pages"], oldest["per_page"]) == (3, 2, 2)
    assert oldest["items"][0]["id"] == older.contract.id
    rest = client.get("/api/contracts?sort=signed_on&per_page=2&page=2").json()
    assert len(rest["items"]) == 1
    by_project = [i["project_name"] for i in client.get("/api/contracts?sort=-project").json()
                  ["items"]]
    assert by_project == sorted(by_project, reverse=True)
    contracts.record_publication(db, first.p_actor, first.contract.id, "2026-01-06")
    assert ids(client.get("/api/contracts?published=true")) == [first.contract.id]
    assert sorted(ids(client.get("/api/contracts?published=false"))) == \
        sorted([second.contract.id, older.contract.id])
    assert ids(client.get("/api/contracts?sort=-published_on"))[0] == first.contract.id
    assert client.get("/api/contracts?sort=term").status_code == 200


@pytest.mark.parametrize("query, field, words", [
    ("department_id=civil", "department_id", "整数"),
    ("supplier_id=1.5", "supplier_id", "整数"),
    ("year=twenty", "year", "整数"),
    ("sort=budget", "sort", "signed_on"),
    ("page=0", "page", "页码不得小于 1"),
    ("page=2", "page", "页码须在 1 至 1（末页）之间"),
    ("per_page=201", "per_page", "每页条数不得大于 200"),
])
def test_a_bad_parameter_is_refused_naming_it(client, worlds, query, field, words):
    sign_in(client, worlds[0].finance)
    response = client.get(f"/api/contracts?{query}")
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body["errors"]) == {field} and body["detail"], body
    assert words in body["errors"][field], body


def test_a_contract_with_its_terms_rule_instalments_and_evaluations(client, db, worlds):
    world = worlds[0]
    evaluation = schedule(db, world)
    sign_in(client, world.purchaser)
    body = client.get(f"/api/contracts/{world.contract.id}").json()
    assert (body["amount_fen"], body["amount_yuan"]) == (78_000_000, "780000.00")
    assert body["project_id"] == world.project.id and body["project_name"] == world.project.name
    assert (body["department_id"], body["department_name"]) == \
        (world.department.id, world.department.name)
    assert (body["supplier_id"], body["supplier_name"]) == (world.supplier.id, world.supplier.name)
    assert (body["signed_on"], body["term_months"], body["year"]) == ("2026-01-05", 12, 2026)
    assert [(i["seq"], i["amount_fen"], i["amount_yuan"], i["due_condition"],
             i["performance_linked"]) for i in body["instalments"]] == [
        (1, 23_400_000, "234000.00", "on_signing", False),
        (2, 23_400_000, "234000.00", "after_interim", True),
        (3, 31_200_000, "312000.00", "after_final", True)]
    assert sum(i["amount_fen"] for i in body["instalments"]) == body["amount_fen"]
    assert body["payment_rule"]["kind"] == "bands"
    assert "得分 ≥ 80（良） → 支付 95%" in body["payment_rule_text"]
    terms = body["terms"]
    assert (terms["content"], terms["performance_targets"]) == ("道路清扫保洁", "保洁达标率 95%")
    assert (terms["interest_per_day"], terms["termination_threshold"]) == ("0.05", "80")
    assert terms["settlement_terms_recorded"] is False and terms["payment_period_days"] == 30
    assert body["scheme_id"] == world.scheme.id and body["scheme_name"] == world.scheme.name
    assert body["publication"]["due"] and body["publication"]["done_on"] is None
    assert body["signed_copy_filing"] is None  # under ¥5,000,000: no filing due
    assert body["evaluations"] == [{
        "id": evaluation.id, "title": evaluation.title, "stage": "final", "status": "draft",
        "period_start": "2026-01-05", "period_end": "2026-12-31"}]
    # terms the purchaser recorded replace the defaults
    settlements.set_terms(db, world.purchaser_principal, world.contract.id,
                          interest_per_day="0.03", termination_threshold="75")
    terms = client.get(f"/api/contracts/{world.contract.id}").json()["terms"]
    assert (terms["interest_per_day"], terms["termination_threshold"],
            terms["settlement_terms_recorded"]) == ("0.03", "75", True)


def test_the_openapi_document_describes_the_endpoints(client):
    document = client.get("/api/openapi.json").json()
    paths = document["paths"]
    assert {"/api/contracts", "/api/contracts/{contract_id}"} <= set(paths)
    parameters = {p["name"] for p in paths["/api/contracts"]["get"]["parameters"]}
    assert {"department_id", "supplier_id", "year", "published", "q", "sort", "page",
            "per_page"} <= parameters
    # it says who reads what: a supplier its own contracts, not "suppliers are refused"
    listing = paths["/api/contracts"]["get"]["description"]
    assert "a supplier its own" in listing
    assert "another supplier's" in paths["/api/contracts/{contract_id}"]["get"]["description"]
    schemas = document["components"]["schemas"]
    assert schemas["ContractSummary"]["properties"]["amount_fen"]["type"] == "integer"
    assert {"terms", "instalments", "evaluations", "payment_rule"} <= \
        set(schemas["ContractDetail"]["properties"])
