"""A department's own system registers projects and records their contracts through the JSON
API, and finance decides on them: the pages' services, rules, refusals and audit entries."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select

from evalplatform.models import AuditEntry, Contract, Instalment, Project
from tests.conftest import login
from tests.project_world import project_world


@pytest.fixture
def world(db, make_user, make_org):
    return project_world(db, make_user, make_org)


def signed(client, user) -> dict:
    client.cookies.clear()
    assert login(client, user.username).status_code == 303
    return {"x-csrf-token": client.get("/api/me").json()["csrf_token"]}


def count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


NEW = {"name": "社区心理健康服务", "catalogue_code": "A0501", "content": "为社区居民提供心理咨询",
       "recipients": "全市 60 岁以上居民", "year": 2026, "budget_line": "2026年民政专项资金",
       "budget_yuan": "1500000.00", "procurement_method": "public_tender",
       "performance_targets": {"quantity": "服务 800 人次", "satisfaction": "满意度 ≥ 90%"}}


def test_a_purchaser_registers_a_project_for_its_own_department(client, db, world):
    headers = signed(client, world.civil_purchaser)
    created = client.post("/api/projects", json=NEW, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/projects/{body['id']}"
    assert (body["department_id"], body["budget_fen"], body["budget_yuan"]) == (
        world.civil.id, 150000000, "1500000.00")
    assert body["status"] == "awaiting_approval"  # ¥1,000,000 or more waits for finance
    assert body["performance_targets"]["satisfaction"] == "满意度 ≥ 90%"
    assert client.get(created.headers["location"]).json()["name"] == "社区心理健康服务"
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "project.register",
                                             AuditEntry.entity_id == str(body["id"]))).one()
    assert json.loads(entry.change)["budget_fen"] == 150000000


def test_each_bad_field_is_named_under_its_api_name_and_nothing_is_registered(client, db,
                                                                              world):
    headers = signed(client, world.civil_purchaser)
    before = count(db, Project)
    refused = client.post("/api/projects", headers=headers, json={
        **NEW, "catalogue_code": "Z9999", "budget_yuan": "一百万", "budget_line": " ",
        "procurement_method": "lottery"})
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert set(errors) == {"catalogue_code", "budget_yuan", "budget_line", "procurement_method"}
    assert "预算" in errors["budget_line"]
    number = client.post("/api/projects", headers=headers, json={**NEW, "budget_yuan": 1500000})
    assert number.status_code == 422 and set(number.json()["errors"]) == {"budget_yuan"}
    target = client.post("/api/projects", headers=headers,
                         json={**NEW, "performance_targets": {"happiness": "高"}})
    assert set(target.json()["errors"]) == {"performance_targets.happiness"}
    typo = client.post("/api/projects", headers=headers, json={**NEW, "budget": "100"})
    assert typo.status_code == 422 and "budget" in typo.json()["errors"]
    negative = client.post("/api/projects", headers=headers,
                           json={**NEW, "name": "劳务派遣人员招聘", "content": "购买岗位，派遣人员"})
    assert negative.status_code == 422 and "negative_list" in negative.json()["errors"]
    assert count(db, Project) == before


@pytest.mark.parametrize("role", ["finance", "supplier", "auditor"])
def test_only_a_purchaser_registers(client, signed_in, role):
    signed_in(role)
    token = client.get("/api/session").json()["csrf_token"]
    response = client.post("/api/projects", json=NEW, headers={"x-csrf-token": token})
    assert response.status_code == 403


def test_finance_approves_or_returns_and_the_department_resubmits(client, db, world):
    headers = signed(client, world.civil_purchaser)
    project = client.post("/api/projects", json={**NEW, "budget_yuan": "1200000"},
                          headers=headers).json()
    assert client.post(f"/api/projects/{project['id']}/approve",
                       headers=headers).status_code == 403  # not the purchaser's to approve
    headers = signed(client, world.finance)
    no_reason = client.post(f"/api/projects/{project['id']}/return", json={"reason": " "},
                            headers=headers)
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["errors"]
    returned = client.post(f"/api/projects/{project['id']}/return",
                           json={"reason": "绩效目标请量化"}, headers=headers)
    assert returned.json()["status"] == "returned"
    assert returned.json()["return_reason"] == "绩效目标请量化"
    again = client.post(f"/api/projects/{project['id']}/approve", headers=headers)
    assert again.status_code == 409  # only a project awaiting approval
    headers = signed(client, world.civil_purchaser)
    assert client.post(f"/api/projects/{project['id']}/resubmit",
                       headers=headers).json()["status"] == "awaiting_approval"
    headers = signed(client, world.finance)
    approved = client.post(f"/api/projects/{project['id']}/approve", headers=headers)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"


CONTRACT = {"amount_yuan": "640000.00", "signed_on": "2026-03-02", "term_months": 12,
            "content": "社区老年助餐服务", "performance_targets": "助餐 300 人/日，满意度 ≥ 90%",
            "payment_rule": "linear", "floor_score": "60",
            "instalments": [{"share": "30%", "due_condition": "on_signing"},
                            {"share": "70%", "due_condition": "after_final",
                             "performance_linked": True}]}


def test_a_contract_states_its_own_band_table_and_the_settlement_pays_by_it(client, db, world):
    import scoring
    from evalplatform.models import Contract
    from evalplatform.services import settlements

    meals = world.projects["meals"]
    headers = signed(client, world.civil_purchaser)
    body = {**CONTRACT, "supplier_id": world.supplier.id, "payment_rule": "bands",
            "bands": "优 90: 100%, 良 80: 95%, 70: 90%, 60: 80%, 0: 0%"}
    created = client.post(f"/api/projects/{meals.id}/contract", json=body, headers=headers)
    assert created.status_code == 201, created.text
    rule = created.json()["payment_rule"]
    assert [(b["min_score"], b["ratio"]) for b in rule["bands"]] == [
        ("90", "1"), ("80", "0.95"), ("70", "0.9"), ("60", "0.8"), ("0", "0")]
    contract = db.get(Contract, created.json()["id"])
    paid = scoring.apply_payment(Decimal("75.00"), settlements.scoring_rule(contract),
                                 Decimal("100000.00"))
    assert paid.ratio == Decimal("0.9")  # the default table would pay 80 % at 75


@pytest.mark.parametrize("bands, words", [
    ("90: 100%, 80: 95%", "0"),  # no band for a total below 80
    ("80: 95%, 90: 100%, 0: 0%", "highest first"),
    ("90: 90%, 80: 95%, 0: 0%", "larger share"),
    ("很好", "很好"),
])
def test_a_bad_band_table_is_refused_naming_the_field_and_the_rule(client, world, bands, words):
    meals = world.projects["meals"]
    headers = {**signed(client, world.civil_purchaser), "Accept-Language": "en"}
    body = {**CONTRACT, "supplier_id": world.supplier.id, "payment_rule": "bands", "bands": bands}
    refused = client.post(f"/api/projects/{meals.id}/contract", json=body, headers=headers)
    assert refused.status_code == 422 and set(refused.json()["errors"]) == {"bands"}
    assert words in refused.json()["errors"]["bands"]
    assert client.get(f"/api/projects/{meals.id}", headers=headers).json()["contract"] is None


@pytest.mark.parametrize("floor", ["100", "100.00", "-1", "abc"])
def test_a_linear_rule_needs_a_floor_below_100(client, world, floor):
    """At 100 the straight line from the floor to full marks has no length: no result could
    be scored or settled under it, so the contract is refused when it is recorded."""
    meals = world.projects["meals"]
    headers = signed(client, world.civil_purchaser)
    body = {**CONTRACT, "supplier_id": world.supplier.id, "floor_score": floor}
    refused = client.post(f"/api/projects/{meals.id}/contract", json=body, headers=headers)
    assert refused.status_code == 422 and set(refused.json()["errors"]) == {"floor_score"}
    assert "100" in refused.json()["errors"]["floor_score"]
    assert client.get(f"/api/projects/{meals.id}", headers=headers).json().get("contract") is None


def test_a_purchaser_records_the_contract_with_its_schedule_exact_to_the_fen(client, db,
                                                                            world):
    meals = world.projects["meals"]
    headers = signed(client, world.civil_purchaser)
    body = {**CONTRACT, "supplier_id": world.supplier.id, "amount_yuan": "640000.01"}
    created = client.post(f"/api/projects/{meals.id}/contract", json=body, headers=headers)
    assert created.status_code == 201, created.text
    contract = created.json()
    assert created.headers["location"] == f"/api/contracts/{contract['id']}"
    assert [i["amount_fen"] for i in contract["instalments"]] == [19200000, 44800001]
    assert sum(i["amount_fen"] for i in contract["instalments"]) == 64000001
    assert contract["payment_rule"] == {"kind": "linear", "floor_score": "60"}
    assert contract["payment_days"] == 30  # a small or medium supplier, by default
    twice = client.post(f"/api/projects/{meals.id}/contract", json=body, headers=headers)
    assert twice.status_code == 409
    published = client.post(f"/api/contracts/{contract['id']}/published",
                            json={"published_on": "2026-03-03"}, headers=headers)
    assert published.status_code == 200 and published.json()["published_on"] == "2026-03-03"
    early = client.post(f"/api/contracts/{contract['id']}/published",
                        json={"published_on": "2026-03-01"}, headers=headers)
    assert early.status_code == 422 and set(early.json()["errors"]) == {"published_on"}


def test_a_bad_contract_is_refused_field_by_field_and_nothing_is_recorded(client, db, world):
    meals = world.projects["meals"]
    headers = signed(client, world.civil_purchaser)
    before = (count(db, Contract), count(db, Instalment))
    refused = client.post(f"/api/projects/{meals.id}/contract", headers=headers, json={
        **CONTRACT, "supplier_id": world.supplier.id, "amount_yuan": "9999999",
        "instalments": [{"share": "30%", "due_condition": "on_signing"}]})
    assert refused.status_code == 422
    assert "amount_yuan" in refused.json()["errors"]  # above the budget
    short = client.post(f"/api/projects/{meals.id}/contract", headers=headers, json={
        **CONTRACT, "supplier_id": world.supplier.id,
        "instalments": [{"share": "30%", "due_condition": "on_signing"}]})
    assert "instalments" in short.json()["errors"]  # 30 % is not the whole amount
    assert (count(db, Contract), count(db, Instalment)) == before
    other = signed(client, world.city_purchaser)
    foreign = client.post(f"/api/projects/{meals.id}/contract", headers=other,
                          json={**CONTRACT, "supplier_id": world.supplier.id})
    assert foreign.status_code == 404  # another department's project is not found


def test_a_publication_recorded_again_corrects_the_day_and_the_audit_keeps_the_old_one(
        client, db, world):
    meals = world.projects["meals"]
    headers = signed(client, world.civil_purchaser)
    body = {**CONTRACT, "supplier_id": world.supplier.id, "amount_yuan": "640000.01"}
    contract = client.post(f"/api/projects/{meals.id}/contract", json=body,
                           headers=headers).json()
    url = f"/api/contracts/{contract['id']}/published"
    for day in ("2026-03-03", "2026-03-04"):
        answer = client.post(url, json={"published_on": day}, headers=headers)
        assert answer.status_code == 200 and answer.json()["published_on"] == day
    refused = client.post(url, json={"published_on": "2026-03-05", "publisehd_on": "x"},
                          headers=headers)
    assert refused.status_code == 422 and set(refused.json()["errors"]) == {"publisehd_on"}
    entries = db.exec(select(AuditEntry).where(AuditEntry.action == "contract.publish",
                                               AuditEntry.entity_id == str(contract["id"]))
                      .order_by(AuditEntry.seq)).all()
    assert [json.loads(e.change) for e in entries] == [
        {"published_on": "2026-03-03", "previous": None},
        {"published_on": "2026-03-04", "previous": "2026-03-03"}]
