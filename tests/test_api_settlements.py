"""The JSON API of settlements and their payment: the settlement pages' roles and ownership
(401, 403, 404), filters and paging, the sheet's figures in fen and yuan, and the payment
recorded through the same service as the page's form — audited — or refused with nothing
changed."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from evalplatform.models import AuditEntry, EvaluationResult, Settlement, SettlementStatus
from evalplatform.services import settlements
from tests.builders import contracted_world
from tests.conftest import csrf_from, login
from tests.settlement_builders import (
    add_result,
    approved_on_signing,
    final_evaluation,
    instalment,
    principal,
)


@pytest.fixture
def world(db, make_user, make_org):
    return contracted_world(db, make_user, make_org)


def sign_in(client, user) -> dict:
    """Sign in as ``user``; the headers a state-changing request sends (its CSRF token)."""
    client.cookies.clear()
    assert login(client, user.username).status_code == 303
    return {"x-csrf-token": client.get("/api/me").json()["csrf_token"]}


def ids(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def proposed(db, world, seq: int = 1) -> Settlement:
    return settlements.propose(db, principal(world.purchaser), instalment(db, world, seq).id)


def settlement_audit(db, settlement) -> list[str]:
    return list(db.exec(select(AuditEntry.action).where(
        AuditEntry.entity_type == "settlement", AuditEntry.entity_id == str(settlement.id))
        .order_by(AuditEntry.seq)))


def refused(response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()


TODAY = settlements.projects.today().isoformat()


@pytest.mark.parametrize("method, path", [("get", "/api/settlements"),
                                          ("get", "/api/settlements/1"),
                                          ("post", "/api/settlements/1/payment")])
def test_without_sign_in_the_api_answers_401_in_json(client, method, path):
    headers = {"x-csrf-token": csrf_from(client, "/login")}
    response = client.request(method, path, headers=headers,
                              json={"paid_on": TODAY, "voucher_no": "GK-1"})
    assert response.status_code == 401
    assert response.json() == {"detail": "请先登录。"}


@pytest.mark.parametrize("role", ["evaluator", "admin"])
def test_roles_without_the_settlement_pages_are_refused(client, db, world, signed_in, role):
    settlement = proposed(db, world)
    signed_in(role)
    for path in ["/api/settlements", f"/api/settlements/{settlement.id}"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "角色" in response.json()["detail"]


def test_each_reader_sees_what_the_pages_show_them(client, db, world, make_user, make_org):
    ours = proposed(db, world)
    other = contracted_world(db, make_user, make_org, n=2)
    theirs = proposed(db, other)
    for user, listed in [(world.purchaser, [ours.id]), (world.supplier_user, [ours.id]),
                         (other.purchaser, [theirs.id]), (other.supplier_user, [theirs.id]),
                         (world.finance, [theirs.id, ours.id]),
                         (make_user("auditor"), [theirs.id, ours.id])]:
        sign_in(client, user)
        assert sorted(ids(client.get("/api/settlements"))) == sorted(listed), user.role
        for settlement in (ours, theirs):
            status = 200 if settlement.id in listed else 404
            response = client.get(f"/api/settlements/{settlement.id}")
            assert response.status_code == status, (user.role, settlement.id)
        # another contract's filter narrows a purchaser's list, it never widens it
        if user.role == "purchaser":
            assert ids(client.get(f"/api/settlements?contract_id={other.contract.id}")) \
                == ([theirs.id] if user is other.purchaser else [])
    sign_in(client, make_user("supplier"))  # a supplier without contracts
    assert ids(client.get("/api/settlements")) == []
    assert client.get(f"/api/settlements/{ours.id}").status_code == 404
    assert client.get("/api/settlements/999999").status_code == 404


def test_filters_sort_and_paging(client, db, world, make_user, make_org):
    first = approved_on_signing(db, world)
    final_evaluation(db, world, "86.35", "良")
    third = proposed(db, world, seq=3)
    other = contracted_world(db, make_user, make_org, n=2)
    elsewhere = proposed(db, other)
    sign_in(client, world.finance)
    assert ids(client.get("/api/settlements?status=approved")) == [first.id]
    assert set(ids(client.get("/api/settlements?status=proposed"))) == {third.id, elsewhere.id}
    assert ids(client.get("/api/settlements?status=paid")) == []
    assert set(ids(client.get(f"/api/settlements?contract_id={world.contract.id}"))) \
        == {first.id, third.id}
    assert ids(client.get(f"/api/settlements?contract_id={world.contract.id}&status=proposed")) \
        == [third.id]
    by_payable = client.get("/api/settlements?sort=-payable&per_page=2").json()
    assert (by_payable["total"], by_payable["pages"], by_payable["sort"]) == (3, 2, "-payable")
    payables = [i["payable_fen"] for i in by_payable["items"]]
    assert payables == sorted(payables, reverse=True)
    last = client.get("/api/settlements?sort=-payable&per_page=2&page=2").json()
    assert len(last["items"]) == 1 and last["page"] == 2
    assert client.get("/api/settlements").json()["sort"] == "-proposed_at"


@pytest.mark.parametrize("query, field, words", [
    ("status=settled", "status", "proposed, returned, approved, paid"),
    ("contract_id=abc", "contract_id", "整数"),
    ("sort=amount", "sort", "payable"),
    ("page=0", "page", "页码不得小于 1"),
    ("page=2", "page", "页码须在 1 至 1（末页）之间"),
    ("per_page=201", "per_page", "每页条数不得大于 200"),
])
def test_a_bad_parameter_is_refused_naming_it(client, db, world, query, field, words):
    proposed(db, world)
    sign_in(client, world.finance)
    body = refused(client.get(f"/api/settlements?{query}"), 422)
    assert set(body["errors"]) == {field} and body["detail"], body
    assert words in body["errors"][field], body


def test_the_sheet_in_fen_and_yuan_with_its_due_date_and_interest(client, db, world):
    evaluation = final_evaluation(db, world, "86.35", "良")
    settlement = proposed(db, world, seq=3)
    sign_in(client, world.supplier_user)
    body = client.get(f"/api/settlements/{settlement.id}").json()
    assert body["number"] == f"JS-{settlement.id:06d}"
    assert (body["status"], body["basis"], body["total"], body["grade"], body["ratio"]) == \
        ("proposed", "performance", "86.35", "良", "0.95")
    assert (body["instalment_seq"], body["instalment_amount_fen"], body["instalment_amount_yuan"]) \
        == (3, 31_200_000, "312000.00")
    assert (body["payable_fen"], body["payable_yuan"]) == (29_640_000, "296400.00")
    assert (body["deduction_fen"], body["deduction_yuan"]) == (1_560_000, "15600.00")
    assert body["payable_fen"] + body["deduction_fen"] == body["instalment_amount_fen"]
    assert (body["contract_amount_fen"], body["contract_amount_yuan"]) == (78_000_000, "780000.00")
    assert body["contract_id"] == world.contract.id and body["project_name"] == world.project.name
    assert body["supplier_name"] == world.supplier.name
    assert body["department_name"] == world.department.name
    assert body["evaluation_id"] == evaluation.id and body["evaluation_title"] == evaluation.title
    assert "95%" in body["payment_rule_text"] and "bands" in body["payment_rule"]
    assert body["proposed_by"] == {"id": world.purchaser.id,
                                   "display_name": world.purchaser.display_name}
    assert body["decided_by"] is None and body["paid_on"] is None and body["voucher_no"] is None
    assert [h["action"] for h in body["history"]] == ["settlement.propose"]
    # no acceptance recorded: no due date, and the page's notice says why
    assert body["payment"]["due_on"] is None and "验收" in body["payment"]["note"]
    assert body["payment"]["period_days"] == 30 and body["payment"]["interest_per_day"] == "0.05"
    # the on-signing instalment: due 30 days after signing, overdue since, interest owed so far
    first = approved_on_signing(db, world)
    payment = client.get(f"/api/settlements/{first.id}").json()["payment"]
    overdue = (settlements.projects.today() - date(2026, 2, 4)).days
    assert (payment["due_on"], payment["counted_from"], payment["starts_on"]) == \
        ("2026-02-04", "signing", "2026-01-05")
    assert payment["overdue_days"] == overdue and payment["late_days"] == 0
    assert payment["interest_fen"] == 11_700 * overdue  # ¥234,000 × 0.05 % a day
    assert payment["interest_yuan"] == f"{117 * overdue}.00"


def test_finance_records_the_payment_and_it_is_audited(client, db, world):
    settlement = approved_on_signing(db, world)
    headers = sign_in(client, world.finance)
    before = client.get(f"/api/settlements/{settlement.id}").json()
    assert before["status"] == "approved" and before["payment_refusal"] is None
    response = client.post(f"/api/settlements/{settlement.id}/payment", headers=headers, json={
        "paid_on": "2026-06-10", "voucher_no": " GK-2026-000777 ",
        "expected_version": before["version"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["paid_on"], body["voucher_no"]) == \
        ("paid", "2026-06-10", "GK-2026-000777")
    assert body["paid_recorded_by"]["id"] == world.finance.id
    assert body["version"] == before["version"] + 1
    # 126 days after the due date of 4 February: ¥11,700 a day
    assert body["payment"]["late_days"] == 126 and body["payment"]["overdue_days"] == 0
    assert (body["payment"]["interest_fen"], body["payment"]["interest_yuan"]) == \
        (1_474_200, "14742.00")
    assert [h["action"] for h in body["history"]][-1] == "settlement.pay"
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.paid and settlement.voucher_no == "GK-2026-000777"
    assert settlement.interest_fen == 1_474_200
    assert settlement_audit(db, settlement) == ["settlement.propose", "settlement.approve",
                                                "settlement.pay"]
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "settlement.pay")).one()
    assert entry.actor_id == world.finance.id and "GK-2026-000777" in entry.change
    assert ids(client.get("/api/settlements?status=paid")) == [settlement.id]
    # paid once: a second payment is refused, nothing changes
    again = refused(client.post(f"/api/settlements/{settlement.id}/payment", headers=headers,
                                json={"paid_on": "2026-06-11", "voucher_no": "GK-2026-000778"}),
                    409)
    assert "已支付" in again["detail"]
    db.refresh(settlement)
    assert settlement.voucher_no == "GK-2026-000777" and settlement.paid_on == date(2026, 6, 10)


def assert_unchanged(db, settlement, version: int):
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.approved and settlement.version == version
    assert settlement.voucher_no is None and settlement.paid_on is None
    assert settlement_audit(db, settlement) == ["settlement.propose", "settlement.approve"]


@pytest.mark.parametrize("body, field, words", [
    ({"paid_on": "2026-06-10", "voucher_no": "  "}, "voucher_no", "凭证号"),
    ({"paid_on": "2026-06-10", "voucher_no": "X" * 61}, "voucher_no", "60"),
    ({"paid_on": "2026/06/10", "voucher_no": "GK-1"}, "paid_on", "YYYY-MM-DD"),
    ({"paid_on": "2099-01-01", "voucher_no": "GK-1"}, "paid_on", "晚于今天"),
    ({"paid_on": "2026-05-31", "voucher_no": "GK-1"}, "paid_on", "2026-06-01"),
    ({"voucher_no": "GK-1"}, "paid_on", "必填"),
    ({"paid_on": "2026-06-10"}, "voucher_no", "支付凭证号"),  # required unless ¥0 is payable
    ({"paid_on": "2026-06-10", "voucher_no": "GK-1", "expected_version": "two"},
     "expected_version", "整数"),
])
def test_a_bad_payment_is_refused_naming_the_field_and_nothing_changes(client, db, world, body,
                                                                      field, words):
    settlement = approved_on_signing(db, world)
    headers = sign_in(client, world.finance)
    answer = refused(client.post(f"/api/settlements/{settlement.id}/payment", headers=headers,
                                 json=body), 422)
    assert set(answer["errors"]) == {field}, answer
    assert words in answer["errors"][field], answer
    assert_unchanged(db, settlement, 2)


def test_a_voucher_already_recorded_is_refused(client, db, world):
    first = approved_on_signing(db, world)
    settlements.record_payment(db, principal(world.finance), first.id, voucher_no="GK-2026-9",
                               paid_on="2026-06-10")
    final_evaluation(db, world, "86.35", "良")
    third = settlements.approve(db, principal(world.finance), proposed(db, world, seq=3).id)
    headers = sign_in(client, world.finance)
    answer = refused(client.post(f"/api/settlements/{third.id}/payment", headers=headers,
                                 json={"paid_on": TODAY, "voucher_no": "GK-2026-9"}), 422)
    assert "GK-2026-9" in answer["errors"]["voucher_no"]
    assert_unchanged(db, third, 2)


def test_a_settlement_not_approved_is_not_paid(client, db, world):
    settlement = proposed(db, world)
    headers = sign_in(client, world.finance)
    answer = refused(client.post(f"/api/settlements/{settlement.id}/payment", headers=headers,
                                 json={"paid_on": TODAY, "voucher_no": "GK-1"}), 409)
    assert "只有已审核的结算才能登记支付" in answer["detail"] and "待财政审批" in answer["detail"]
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.proposed and settlement.voucher_no is None


def test_a_payment_blocked_since_the_approval_is_refused_with_the_reason(client, db, world):
    """The result the settlement was computed from was replaced after the approval: the page
    offers no payment form but says to withdraw the approval; the API says the same, 409."""
    evaluation = final_evaluation(db, world, "86.35", "良")
    settlement = settlements.approve(db, principal(world.finance), proposed(db, world, 3).id)
    old = db.get(EvaluationResult, settlement.result_id)
    old.superseded = True
    db.add(old)
    db.commit()
    add_result(db, evaluation, "91.00", "优", version=2)
    headers = sign_in(client, world.finance)
    shown = client.get(f"/api/settlements/{settlement.id}").json()
    assert "撤回审核" in shown["payment_refusal"]
    answer = refused(client.post(f"/api/settlements/{settlement.id}/payment", headers=headers,
                                 json={"paid_on": TODAY, "voucher_no": "GK-1"}), 409)
    assert answer["detail"] == shown["payment_refusal"]
    assert_unchanged(db, settlement, 2)
    client.post("/language", data={"language": "en", "csrf_token": headers["x-csrf-token"]})
    english = refused(client.post(f"/api/settlements/{settlement.id}/payment", headers=headers,
                                  json={"paid_on": TODAY, "voucher_no": "GK-1"}), 409)
    assert "withdraw the approval" in english["detail"]


def test_a_payment_on_a_settlement_decided_on_since_is_refused(client, db, world):
    settlement = approved_on_signing(db, world)
    headers = sign_in(client, world.finance)
    answer = refused(client.post(f"/api/settlements/{settlement.id}/payment", headers=headers,
                                 json={"paid_on": "2026-06-10", "voucher_no": "GK-1",
                                       "expected_version": 1}), 409)
    assert answer["detail"]
    assert_unchanged(db, settlement, 2)


def test_only_finance_pays_and_only_with_the_sessions_csrf_token(client, db, world, make_user,
                                                                 make_org):
    settlement = approved_on_signing(db, world)
    url = f"/api/settlements/{settlement.id}/payment"
    body = {"paid_on": "2026-06-10", "voucher_no": "GK-1"}
    for user in (world.purchaser, world.supplier_user, make_user("auditor"),
                 make_user("evaluator"), make_user("admin")):
        headers = sign_in(client, user)
        answer = refused(client.post(url, headers=headers, json=body), 403)
        assert "角色" in answer["detail"], user.role
    headers = sign_in(client, world.finance)
    assert refused(client.post(url, json=body), 403)["detail"]
    assert refused(client.post(url, headers={"x-csrf-token": "wrong"}, json=body), 403)
    assert refused(client.post("/api/settlements/999999/payment", headers=headers, json=body),
                   404)["detail"]
    assert_unchanged(db, settlement, 2)


def test_the_openapi_document_describes_the_endpoints(client):
    document = client.get("/api/openapi.json").json()
    paths = document["paths"]
    assert {"/api/settlements", "/api/settlements/{settlement_id}",
            "/api/settlements/{settlement_id}/payment", "/api/contracts/{contract_id}/settlements",
            "/api/settlements/{settlement_id}/approve", "/api/settlements/{settlement_id}/return",
            "/api/settlements/{settlement_id}/withdraw"} <= set(paths)
    assert "201" in paths["/api/contracts/{contract_id}/settlements"]["post"]["responses"]
    parameters = {p["name"] for p in paths["/api/settlements"]["get"]["parameters"]}
    assert {"status", "contract_id", "sort", "page", "per_page"} <= parameters
    payment = paths["/api/settlements/{settlement_id}/payment"]["post"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(payment["responses"])
    assert payment["responses"]["409"]["content"]["application/json"]["schema"] == \
        {"$ref": "#/components/schemas/Problem"}
    schemas = document["components"]["schemas"]
    assert {"paid_on", "voucher_no", "expected_version"} <= set(schemas["PaymentIn"]["properties"])
    assert schemas["SettlementDetail"]["properties"]["payable_fen"]["type"] == "integer"
    assert schemas["SettlementDetail"]["properties"]["payable_yuan"]["type"] == "string"


# ---------------------------------------------------------------- the workflow over the API


def test_the_purchaser_proposes_and_finance_returns_then_approves_over_the_api(
        client, db, world, make_user):
    """Propose → return with reasons → propose again → approve, each step through the
    service its page calls, audited as the page's steps are, and refused as the page refuses
    (a stale version, a second proposal, the proposer deciding)."""
    final_evaluation(db, world, "86.35", "良")
    third = instalment(db, world, 3)
    headers = sign_in(client, world.purchaser)
    url = f"/api/contracts/{world.contract.id}/settlements"
    created = client.post(url, headers=headers, json={"instalment_id": third.id,
                                                      "note": "请审核"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/settlements/{body['id']}"
    assert (body["status"], body["payable_fen"], body["deduction_fen"]) == \
        ("proposed", 29_640_000, 1_560_000)  # ¥312,000 × 95 %
    assert body["note"] == "请审核" and body["explanation"].startswith("总分 86.35（良）")
    again = refused(client.post(url, headers=headers, json={"instalment_id": third.id}), 409)
    assert again["detail"]
    # the proposer cannot decide; an instalment of another contract is not found
    assert client.post(f"/api/settlements/{body['id']}/approve", headers=headers,
                       json={}).status_code == 403
    assert refused(client.post(url, headers=headers, json={"instalment_id": 10**6}), 404)

    headers = sign_in(client, world.finance)
    no_reason = refused(client.post(f"/api/settlements/{body['id']}/return", headers=headers,
                                    json={"reason": " "}), 422)
    assert set(no_reason["errors"]) == {"reason"}  # nothing changed: still proposed
    assert db.get(Settlement, body["id"]).status == SettlementStatus.proposed
    back = client.post(f"/api/settlements/{body['id']}/return", headers=headers,
                       json={"reason": "请补充验收材料", "expected_version": body["version"]})
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "returned"
    assert back.json()["return_reason"] == "请补充验收材料"
    twice = refused(client.post(f"/api/settlements/{body['id']}/return", headers=headers,
                                json={"reason": "再次退回"}), 409)
    assert twice["detail"]  # returned already: nothing to return

    headers = sign_in(client, world.purchaser)
    anew = client.post(url, headers=headers, json={"instalment_id": third.id})
    assert anew.status_code == 201, anew.text
    version = anew.json()["version"]
    headers = sign_in(client, world.finance)
    stale = refused(client.post(f"/api/settlements/{body['id']}/approve", headers=headers,
                                json={"expected_version": version - 1}), 409)
    assert stale["detail"]
    approved = client.post(f"/api/settlements/{body['id']}/approve", headers=headers,
                           json={"expected_version": version})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    settlement = db.get(Settlement, body["id"])
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.approved
    assert settlement_audit(db, settlement) == [
        "settlement.propose", "settlement.return", "settlement.propose", "settlement.approve"]
    withdrawn = client.post(f"/api/settlements/{body['id']}/withdraw", headers=headers,
                            json={"reason": "验收结论有误，撤回重审",
                                  "expected_version": approved.json()["version"]})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "returned"


def test_a_proposal_before_the_result_is_final_is_refused_and_nothing_is_stored(client, db,
                                                                                 world):
    headers = sign_in(client, world.purchaser)
    response = client.post(f"/api/contracts/{world.contract.id}/settlements", headers=headers,
                           json={"instalment_id": instalment(db, world, 3).id})
    assert response.status_code in (409, 422), response.text
    assert "确定" in response.json()["detail"] or "errors" in response.json()
    assert db.exec(select(Settlement)).all() == []
    bad = refused(client.post(f"/api/contracts/{world.contract.id}/settlements",
                              headers=headers, json={"instalment_id": "three"}), 422)
    assert "instalment_id" in bad["errors"]


def test_the_workflow_needs_the_right_role_the_own_contract_and_the_csrf_token(
        client, db, world, make_user, make_org):
    final_evaluation(db, world, "86.35", "良")
    other = make_user("purchaser", organisation=make_org("purchasing_department", name="另一局"))
    url = f"/api/contracts/{world.contract.id}/settlements"
    body = {"instalment_id": instalment(db, world, 3).id}
    assert client.post(url, json=body).status_code in (401, 403)  # no session, no token
    headers = sign_in(client, other)
    assert client.post(url, headers=headers, json=body).status_code == 404
    headers = sign_in(client, world.finance)
    assert client.post(url, headers=headers, json=body).status_code == 403  # finance decides
    headers = sign_in(client, world.purchaser)
    assert client.post(url, json=body).status_code == 403  # no CSRF token
    assert db.exec(select(Settlement)).all() == []
    assert client.post(url, headers=headers, json=body).status_code == 201


# ---------------------------------------------------------------- what a black-box client met


def test_the_instalment_ids_the_contract_lists_are_the_ones_a_proposal_sends(client, db,
                                                                            world):
    """propose_settlement asks for an instalment_id and points to GET /api/contracts/{id}:
    the contract (and its project) list each instalment with its id."""
    final_evaluation(db, world, "86.35", "良")
    headers = sign_in(client, world.purchaser)
    listed = client.get(f"/api/contracts/{world.contract.id}").json()["instalments"]
    assert [(i["seq"], i["id"]) for i in listed] == [
        (seq, instalment(db, world, seq).id) for seq in (1, 2, 3)]
    project = client.get(f"/api/projects/{world.project.id}").json()
    assert [i["id"] for i in project["contract"]["instalments"]] == [i["id"] for i in listed]
    created = client.post(f"/api/contracts/{world.contract.id}/settlements", headers=headers,
                          json={"instalment_id": listed[2]["id"]})
    assert created.status_code == 201, created.text
    assert (created.json()["instalment_id"], created.json()["instalment_seq"]) == (
        listed[2]["id"], 3)


@pytest.mark.parametrize("body, field", [
    ({"instalment_id": True}, "instalment_id"),
    ({"instalment_id": 3, "evaluation_id": True}, "evaluation_id"),
    ({"instalment_id": 3, "foo": "bar"}, "foo"),
    ({"instalment_id": 3, "note": "注" * 2001}, "note"),
])
def test_a_proposal_with_a_bad_or_unknown_field_is_refused_naming_it(client, db, world, body,
                                                                     field):
    """true is no id (pydantic read it as 1: the first instalment), a key the API does not
    know is refused rather than left out, and a note over the limit is refused stating it."""
    final_evaluation(db, world, "86.35", "良")
    if body["instalment_id"] == 3:
        body = {**body, "instalment_id": instalment(db, world, 3).id}
    headers = sign_in(client, world.purchaser)
    answer = refused(client.post(f"/api/contracts/{world.contract.id}/settlements",
                                 headers=headers, json=body), 422)
    assert set(answer["errors"]) == {field}, answer
    if field == "note":
        assert "2000" in answer["errors"]["note"]
    assert db.exec(select(Settlement)).all() == []


def test_the_note_limit_is_stated_in_the_openapi_document(client):
    schema = client.get("/api/openapi.json").json()["components"]["schemas"]["ProposalIn"]
    assert schema["properties"]["note"]["maxLength"] == settlements.MAX_TEXT
    assert schema["additionalProperties"] is False


def test_finance_approves_without_a_body_as_the_readme_says(client, db, world):
    """The body of an approval is optional: without one, no version is checked (an empty
    object did the same already); the document says it is not required."""
    final_evaluation(db, world, "86.35", "良")
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    headers = sign_in(client, world.finance)
    url = f"/api/settlements/{settlement.id}/approve"
    assert refused(client.post(url, headers=headers, json={"expected_version": True}),
                   422)["errors"].keys() == {"expected_version"}
    approved = client.post(url, headers=headers)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert settlement_audit(db, settlement) == ["settlement.propose", "settlement.approve"]
    operation = client.get("/api/openapi.json").json()["paths"][
        "/api/settlements/{settlement_id}/approve"]["post"]
    assert not operation["requestBody"].get("required", False)
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]


# ---------------------------------------------------------------- QA: money (helper "money")


def test_the_api_proposal_reads_a_result_whose_appeal_window_closed_as_final(client, db, world):
    """Published on 10 July 2026 and its appeal window long closed without an appeal, the
    result is final: the proposal settles on it without someone opening the result first."""
    from tests.builders import schedule
    from tests.settlement_builders import to_status

    evaluation = to_status(db, world, schedule(db, world), "published")
    add_result(db, evaluation, "86.35", "良", final_on=None, published_on=date(2026, 7, 10))
    headers = sign_in(client, world.purchaser)
    answer = client.post(f"/api/contracts/{world.contract.id}/settlements",
                         json={"instalment_id": instalment(db, world, 3).id}, headers=headers)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["payable_fen"], body["deduction_fen"], body["grade"]) == (
        29_640_000, 1_560_000, "良")
