"""The contract list (合同) and the contract page for each role that reads contracts: finance
and auditors all, a purchaser its department's, a supplier (承接主体) the contracts it signed —
with no purchaser's or finance's form on the supplier's view, and no link it may not follow."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlmodel import select

from evalplatform.models import Contract, Organisation, User
from evalplatform.services import contracts, demo
from tests.builders import contracted_world, schedule
from tests.conftest import PASSWORD, csrf_from, login
from tests.test_scoresheets_world import hashing_once

ROW = re.compile(r'<td data-label="项目"><a href="/contracts/(\d+)">')


@pytest.fixture
def worlds(db, make_user, make_org):
    """Three departments' contracts, each with its own supplier: two signed in 2026, one in
    2025."""
    return [contracted_world(db, make_user, make_org, n=1),
            contracted_world(db, make_user, make_org, n=2),
            contracted_world(db, make_user, make_org, n=3, signed_on="2025-03-02")]


def sign_in(client, user):
    client.cookies.clear()
    assert login(client, user.username).status_code == 303


def listed(client, query: str = "", **headers) -> list[int]:
    response = client.get(f"/contracts?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [int(i) for i in ROW.findall(response.text)]


def main_of(html: str) -> str:
    return html[html.index('<main'):html.index("</main>")]


def nav_of(html: str) -> str:
    return html[html.index('<nav id="nav"'):html.index("</nav>")]


# ---------------------------------------------------------------- who sees which contracts


def test_a_supplier_lists_only_the_contracts_it_signed(client, worlds):
    ours = worlds[0]
    sign_in(client, ours.supplier_user)
    assert listed(client) == [ours.contract.id]
    # a filter narrows the supplier's own list, never widens it
    assert listed(client, "q=洁美环境服务有限公司2") == []
    assert listed(client, f"department_id={worlds[1].department.id}") == []
    page = client.get("/contracts").text
    assert worlds[1].supplier.name not in page and worlds[1].project.name not in page
    assert "¥780,000.00" in page and "12 个月" in page and "2026-01-05" in page
    assert 'id="f-department_id"' not in page  # no department choice for a supplier


def test_a_purchaser_lists_its_own_departments_contracts(client, worlds):
    ours, theirs = worlds[0], worlds[1]
    sign_in(client, ours.purchaser)
    assert listed(client) == [ours.contract.id]
    assert listed(client, f"department_id={theirs.department.id}") == []
    assert 'id="f-department_id"' not in client.get("/contracts").text


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_finance_and_auditors_list_every_contract(client, worlds, signed_in, role):
    signed_in(role)
    assert sorted(listed(client)) == sorted(w.contract.id for w in worlds)
    assert listed(client, f"department_id={worlds[1].department.id}") == \
        [worlds[1].contract.id]


@pytest.mark.parametrize("role", ["evaluator", "admin"])
def test_evaluators_and_administrators_are_refused_the_list(client, worlds, signed_in, role):
    signed_in(role)
    assert client.get("/contracts").status_code == 403
    assert client.get(f"/contracts/{worlds[0].contract.id}").status_code == 403


def test_the_navigation_offers_contracts_to_those_who_read_them(client, signed_in):
    menus = {}
    for role in ["finance", "purchaser", "evaluator", "supplier", "auditor", "admin"]:
        client.cookies.clear()
        signed_in(role)
        menus[role] = nav_of(client.get("/").text)
    for role in ("finance", "purchaser", "auditor", "supplier"):
        assert re.search(r'href="/contracts"[^>]*>合同</a>', menus[role]), role
    for role in ("evaluator", "admin"):
        assert 'href="/contracts"' not in menus[role], role
    # the supplier's menu gains only this one entry: none of the purchasers' own pages
    supplier_links = re.findall(r'href="(/[^"]*)"', menus["supplier"])
    assert not {"/projects", "/due", "/suppliers", "/catalogue"} & set(supplier_links)


# ---------------------------------------------------------------- the supplier's contract page


def test_a_supplier_reads_its_contract_as_its_signatory(client, db, worlds):
    world = worlds[0]
    evaluation = schedule(db, world)
    sign_in(client, world.supplier_user)
    response = client.get(f"/contracts/{world.contract.id}")
    assert response.status_code == 200
    page = unescape(main_of(response.text))
    assert world.project.name in page and world.supplier.name in page
    assert "¥780,000.00" in page and "保洁达标率 95%" in page and "道路清扫保洁" in page
    table = page[page.index('id="instalment-table"'):]
    assert table.count("¥234,000.00") == 2 and "¥312,000.00" in table  # 30 % + 30 % + 40 %
    assert "≥80：95%" in page  # the payment rule's bands
    assert f'href="/evaluations/{evaluation.id}"' in page
    assert f'href="/contracts/{world.contract.id}/settlements"' in page
    assert world.scheme.name in page


def test_another_suppliers_contract_is_not_found(client, worlds):
    sign_in(client, worlds[0].supplier_user)
    other = worlds[1].contract.id
    for path in (f"/contracts/{other}", f"/contracts/{other}/signed-copy",
                 f"/contracts/{other}/settlements"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "<h1>未找到</h1>" in response.text, path
    # as a purchaser of another department is told
    sign_in(client, worlds[0].purchaser)
    assert client.get(f"/contracts/{other}").status_code == 404


def test_the_supplier_sees_no_purchasers_or_finances_form(client, db, worlds):
    world = worlds[0]
    schedule(db, world)
    sign_in(client, world.purchaser)
    purchaser_view = client.get(f"/contracts/{world.contract.id}").text
    assert f'action="/contracts/{world.contract.id}/published"' in purchaser_view  # the control
    sign_in(client, world.supplier_user)
    cid = world.contract.id
    for path in (f"/contracts/{cid}", f"/contracts/{cid}/settlements"):
        page = main_of(client.get(path).text)
        assert "<form" not in page and "<button" not in page, path
        for action in ("published", "signed-copy", "scheme", "evaluations/new", "terms",
                       "complaints", "termination-review"):
            assert f"/contracts/{cid}/{action}" not in page.replace(
                f'href="/contracts/{cid}/signed-copy"', ""), (path, action)
    # and the forms' endpoints refuse it
    token = csrf_from(client, "/")
    for action in ("published", "signed-copy", "scheme", "evaluations", "terms", "complaints",
                   "termination-review"):
        response = client.post(f"/contracts/{cid}/{action}", data={"csrf_token": token})
        assert response.status_code == 403, action


def test_every_link_on_the_suppliers_contract_pages_opens(client, db, worlds):
    """No link the supplier is shown leads into a refusal: the project's page and the
    indicator scheme's editor (finance's and purchasers' pages) are named, not linked."""
    world = worlds[0]
    evaluation = schedule(db, world)
    sign_in(client, world.supplier_user)
    seen, todo = set(), [f"/contracts/{world.contract.id}", "/contracts"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        assert response.status_code == 200, path
        if not path.startswith("/contracts") or "text/html" not in response.headers[
                "content-type"]:
            continue  # the pages the contract pages link to open; their own links are theirs
        for href in re.findall(r'href="(/[^"#]*)', main_of(response.text)):
            href = unescape(href)
            if not href.startswith("/static"):
                todo.append(href)
    assert f"/contracts/{world.contract.id}/signed-copy" in seen  # the copy it signed
    assert f"/evaluations/{evaluation.id}" in seen
    assert f"/contracts/{world.contract.id}/settlements" in seen
    assert not any(p.startswith(("/projects", "/schemes")) for p in seen), seen


def test_the_suppliers_evaluation_and_settlement_pages_lead_back_to_its_contract(client, db,
                                                                                 worlds):
    world = worlds[0]
    evaluation = schedule(db, world)
    sign_in(client, world.supplier_user)
    link = f'href="/contracts/{world.contract.id}"'
    assert link in client.get(f"/evaluations/{evaluation.id}").text
    assert link in client.get(f"/contracts/{world.contract.id}/settlements").text


# ---------------------------------------------------------------- filters, sorting, paging


def test_filters_sort_and_paging_of_the_list(client, db, worlds):
    first, second, older = worlds
    sign_in(client, first.finance)
    assert listed(client, "year=2025") == [older.contract.id]
    assert listed(client, "q=清扫保洁服务项目3") == [older.contract.id]
    assert listed(client, "q=洁美环境服务有限公司2") == [second.contract.id]
    contracts.record_publication(db, first.p_actor, first.contract.id, "2026-01-06")
    assert listed(client, "publication=published") == [first.contract.id]
    assert sorted(listed(client, "publication=unpublished")) == \
        sorted([second.contract.id, older.contract.id])
    assert listed(client)[-1] == older.contract.id  # newest signing first
    assert listed(client, "sort=signed_on")[0] == older.contract.id
    by_project = listed(client, "sort=-project")
    assert by_project == [w.contract.id for w in sorted(
        worlds, key=lambda w: w.project.name, reverse=True)]
    assert listed(client, "sort=-published_on")[0] == first.contract.id
    # paging: two a page, the rest on the next, swapped in by htmx without the layout
    first_page = client.get("/contracts?per_page=2&sort=signed_on").text
    assert len(ROW.findall(first_page)) == 2
    assert "第 1–2 条，共 3 条" in first_page and 'rel="next"' in first_page
    second_page = client.get("/contracts?per_page=2&sort=signed_on&page=2",
                             headers={"HX-Request": "true"})
    assert second_page.status_code == 200 and "<html" not in second_page.text
    assert [int(i) for i in ROW.findall(second_page.text)] == [second.contract.id]
    assert "第 3–3 条，共 3 条" in second_page.text and 'rel="prev"' in second_page.text


def test_a_bad_filter_is_named_and_not_applied(client, worlds):
    sign_in(client, worlds[0].finance)
    response = client.get("/contracts?year=twenty&publication=maybe")
    assert response.status_code == 200
    errors = unescape(response.text[response.text.index('id="filter-errors"'):])
    errors = errors.split("</div>")[0]
    assert "年度：请输入年度，如 2026。" in errors and "公开：请选择已公开或尚未公开。" in errors
    assert len(ROW.findall(response.text)) == 3  # the bad filters are not applied
    # digits that are not 0–9 ("²" is a digit to str.isdigit, not to int) were a 500
    for typed in ("%C2%B2%C2%B2%C2%B2%C2%B2", "0" * 5000):
        other = client.get(f"/contracts?year={typed}&department_id={typed}")
        assert other.status_code == 200 and "请输入年度，如 2026。" in unescape(other.text)


def test_the_list_is_cards_on_a_phone_with_each_cell_named(client, worlds):
    """Each cell carries its column's name (the phone's card label) and a sort choice stands
    above the rows, where the headings fold away."""
    sign_in(client, worlds[0].supplier_user)
    page = client.get("/contracts").text
    table = page[page.index('id="contracts-table"'):]
    assert 'class="sort-choice"' in table
    labels = re.findall(r'<td data-label="([^"]+)"', table)
    assert labels[:7] == ["项目", "部门", "承接主体", "签订日期", "期限", "合同金额", "公开"]


# ---------------------------------------------------------------- the demo


def test_the_demo_supplier_finds_its_contracts(client, db, monkeypatch):
    monkeypatch.setenv("EVAL_DEMO_PASSWORD", PASSWORD)
    with hashing_once():
        demo.load(db)
    user = db.exec(select(User).where(User.username == "fukang")).one()
    own = sorted(c.id for c in db.exec(select(Contract).where(
        Contract.supplier_id == user.organisation_id)))
    assert len(own) >= 2
    assert len(db.exec(select(Contract)).all()) > len(own)
    sign_in(client, user)
    assert sorted(listed(client)) == own
    assert sorted(i["id"] for i in client.get("/api/contracts").json()["items"]) == own
    organisation = db.get(Organisation, user.organisation_id)
    for contract_id in own:
        assert organisation.name in client.get(f"/contracts/{contract_id}").text
