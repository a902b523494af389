"""The JSON API of supplier selection (承接主体选择): the selection page's readers and ranking —
the same candidates, ranks, closeness and figures, the barred ones with the reason — its refusals
(422 naming each parameter, 409 for a project already contracted), and nothing written."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlmodel import func, select

from evalplatform.models import AuditEntry, Contract
from evalplatform.services import selection, standing
from tests.conftest import login
from tests.settlement_builders import principal
from tests.test_standing_selection import (  # noqa: F401  (field_fixture: a fixture)
    CONSISTENT,
    field_fixture,
)

JUDGEMENTS = {f"a_{i}_{j}": v for (i, j), v in CONSISTENT.items()}


def sign_in(client, user) -> None:
    client.cookies.clear()
    assert login(client, user.username).status_code == 303


def audit_count(db) -> int:
    return db.exec(select(func.count()).select_from(AuditEntry)).one()


def page_cells(page: str, supplier_id: int) -> dict[str, str]:
    """A candidate's row of the selection page: each cell's text by its column label."""
    row = page.split(f'data-testid="candidate-{supplier_id}"')[1].split("</tr>")[0]
    return {label: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip()
            for label, text in re.findall(r'data-label="([^"]+)"[^>]*>(.*?)</td>', row, re.S)}


def test_without_sign_in_the_api_answers_401_in_json(client):
    response = client.get("/api/projects/1/selection")
    assert response.status_code == 401
    assert response.json() == {"detail": "请先登录。"}


def test_the_ranking_is_the_pages_candidates_closeness_and_figures(client, db, field):
    good, poor, fresh, project = field
    sign_in(client, good.purchaser)
    before = audit_count(db)
    quote = {"quote": f"{fresh.supplier.id}:400000"}
    response = client.get(f"/api/projects/{project.id}/selection", params=quote)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["project_id"], body["budget_yuan"], body["method"], body["share"]) == (
        project.id, "600000.00", "typed", None)
    ranking = selection.rank(db, project.id, values={f"quote_{fresh.supplier.id}": "400000"})
    assert [(c["rank"], c["supplier_id"]) for c in body["candidates"]] == [
        (c.rank, c.supplier.id) for c in ranking.candidates]
    # the lower quote puts the newcomer first
    assert [c["supplier_id"] for c in body["candidates"]] == [fresh.supplier.id, good.supplier.id]
    assert body["barred"] == [{"supplier_id": poor.supplier.id, "supplier": poor.supplier.name,
                               "barred_until": "2027-12-31",
                               "reason": body["barred"][0]["reason"]}]
    assert "55.00" in body["barred"][0]["reason"]
    weights = {c["key"]: c["weight"] for c in body["criteria"]}
    assert weights == pytest.approx({"score": 0.35, "satisfaction": 0.25, "trend": 0.10,
                                     "price": 0.20, "complaints": 0.10})
    assert [c["benefit"] for c in body["criteria"]] == [True, True, True, False, False]
    assert [c["closeness"] for c in body["candidates"]] == [c.closeness
                                                            for c in ranking.candidates]
    newcomer, best = body["candidates"]
    assert {k: f["value"] for k, f in best["figures"].items()} == {
        "score": "88.00", "satisfaction": "87.50", "trend": "108.00",
        "price": best["figures"]["price"]["value"], "complaints": "0"}
    assert newcomer["figures"]["price"] == {"value": "66.67", "used": pytest.approx(66.6667, 1e-4),
                                            "neutral": False}
    assert newcomer["figures"]["score"] == {"value": "88.00", "used": 88.0, "neutral": True}
    assert (newcomer["quote_fen"], newcomer["quote_yuan"]) == (40000000, "400000.00")
    assert best["standing_level"] == "preferred" and best["standing_label"]
    page = client.get(f"/projects/{project.id}/selection",
                      params={f"quote_{fresh.supplier.id}": "400000"}).text
    labels = {c["key"]: c["label"] for c in body["criteria"]}
    for candidate in body["candidates"]:
        cells = page_cells(page, candidate["supplier_id"])
        assert cells["排名"] == str(candidate["rank"])
        assert cells["贴近度"] == f"{candidate['closeness']:.4f}"
        for key, figure in candidate["figures"].items():
            shown = cells[labels[key]]
            assert shown.startswith(figure["value"]), (key, shown, figure)
            assert ("中性值" in shown) == figure["neutral"], (key, shown)
    for key, weight in weights.items():
        assert f'data-testid="weight-{key}">{weight:.4f}<' in page
    assert audit_count(db) == before and db.exec(select(func.count()).select_from(
        Contract).where(Contract.project_id == project.id)).one() == 0


def test_ahp_entropy_and_combined_weights_are_the_pages(client, db, field):
    good, poor, fresh, project = field
    standing.record_complaint(db, principal(good.purchaser), good.contract.id,
                              received_on="2026-03-02", summary="未按时清运，核实属实",
                              today=date(2026, 11, 1))
    sign_in(client, good.finance)
    path = f"/api/projects/{project.id}/selection"
    quote = f"{fresh.supplier.id}:540000"
    ahp = client.get(path, params={"method": "ahp", "quote": quote, **JUDGEMENTS}).json()
    assert ahp["consistency_ratio"] < 0.1 and ahp["method_label"] == "层次分析法（两两比较）"
    entropy = client.get(path, params={"method": "entropy", "quote": quote}).json()
    assert all(c["entropy"] is not None for c in entropy["criteria"])
    combined = client.get(path, params={"method": "combined", "share": "0.6", "quote": quote,
                                        **JUDGEMENTS}).json()
    assert combined["share"] == "0.6"
    for mixed, judged, measured in zip(combined["criteria"], ahp["criteria"],
                                       entropy["criteria"], strict=True):
        assert mixed["ahp_weight"] == pytest.approx(judged["weight"], abs=1e-12)
        assert mixed["entropy_weight"] == pytest.approx(measured["weight"], abs=1e-12)
        assert mixed["weight"] == pytest.approx(0.6 * judged["weight"] + 0.4 * measured["weight"],
                                                abs=1e-12)
    page = client.get(path.removeprefix("/api"), params={
        "method": "combined", "share": "0.6", f"quote_{fresh.supplier.id}": "540000",
        **JUDGEMENTS}).text
    for criterion in combined["criteria"]:
        assert f'data-testid="weight-{criterion["key"]}"><strong>{criterion["weight"]:.4f}<' \
            in page
    for candidate in combined["candidates"]:
        assert page_cells(page, candidate["supplier_id"])["贴近度"] == \
            f"{candidate['closeness']:.4f}"


@pytest.mark.parametrize("params, field_name, words", [
    ({"method": "lottery"}, "method", "熵权法"),
    ({"w_price": "-1"}, "w_price", "价格"),
    ({"w_score": ""}, "w_score", "历史得分"),
    ({"method": "ahp", "a_0_3": "10"}, "a_0_3", "10"),
    ({"method": "ahp", "a_0_1": "1/9", "a_1_2": "9", "a_0_2": "9"}, "matrix", "CR"),
    ({"method": "combined", "share": "2"}, "share", "0 到 1"),
    ({"quote": "abc"}, "quote", "abc"),
    ({"quote": "999999:1000"}, "quote", "999999"),
    ({"quote": "FRESH:700000"}, "quote", "600,000.00"),  # above the project's budget
    ({"quote": "POOR:500000"}, "quote", "2027-12-31"),  # barred: not a candidate
    ({"quote": ["FRESH:1000", "FRESH:2000"]}, "quote", "FRESH:2000"),
])
def test_a_bad_parameter_is_refused_naming_it(client, db, field, params, field_name, words):
    good, poor, fresh, project = field
    ids = {"FRESH": str(fresh.supplier.id), "POOR": str(poor.supplier.id)}

    def named(value: str) -> str:
        return re.sub(r"FRESH|POOR", lambda m: ids[m.group()], value)

    params = {k: [named(v) for v in value] if isinstance(value, list) else named(value)
              for k, value in params.items()}
    sign_in(client, good.purchaser)
    response = client.get(f"/api/projects/{project.id}/selection", params=params)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert set(errors) == {field_name}, errors
    assert named(words) in errors[field_name], errors


def test_a_project_already_contracted_is_no_new_procurement(client, field):
    good, *_ = field
    sign_in(client, good.purchaser)
    response = client.get(f"/api/projects/{good.project.id}/selection")
    assert response.status_code == 409
    assert response.json() == {"detail": "该项目已签订合同；承接主体选择用于新的采购。"}


def test_the_selection_pages_readers_and_no_one_else(client, field, make_user):
    good, poor, fresh, project = field
    path = f"/api/projects/{project.id}/selection"
    for user in (good.finance, make_user("auditor")):
        sign_in(client, user)
        assert client.get(path).status_code == 200
    sign_in(client, poor.purchaser)  # another department's project: not found, as the page
    assert client.get(path).status_code == 404
    assert client.get(path.removeprefix("/api")).status_code == 404
    for user in (good.supplier_user, make_user("evaluator"), make_user("admin")):
        sign_in(client, user)
        response = client.get(path)
        assert response.status_code == 403, user.role
        assert "角色" in response.json()["detail"]
    sign_in(client, good.finance)
    assert client.get("/api/projects/999999/selection").status_code == 404
