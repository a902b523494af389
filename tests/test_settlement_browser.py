"""In a real Chromium: the purchaser proposes a settlement, another person in finance approves it
and records the payment with its voucher."""

import pytest
from sqlmodel import select

from evalplatform.models import Settlement, SettlementStatus
from evalplatform.services import projects
from tests.builders import contracted_world
from tests.conftest import browser_login
from tests.settlement_builders import final_evaluation

pytestmark = pytest.mark.browser


def test_purchaser_proposes_and_finance_approves_with_a_voucher(page, db, make_user, make_org,
                                                                 viewport):
    world = contracted_world(db, make_user, make_org)
    final_evaluation(db, world, "86.35", "良")

    browser_login(page, world.purchaser.username)
    page.goto(f"/contracts/{world.contract.id}/settlements")
    assert page.get_by_test_id("sheet-payable-3").inner_text() == "¥296,400.00"
    page.locator("#propose-3 textarea").fill("终期评价结果已确定，请审核")
    page.click("#propose-3 button[type=submit]")
    page.wait_for_url("**/settlements/*")
    assert page.get_by_test_id("settlement-status").inner_text() == "待财政审批"
    assert page.get_by_test_id("settlement-deduction").inner_text() == "¥15,600.00"
    assert page.locator("#approve").count() == 0  # the proposer never decides
    settlement_url = page.url

    page.context.clear_cookies()
    browser_login(page, world.finance.username)
    page.goto("/")
    assert "待审核的结算" in page.get_by_test_id("home-cards").inner_text()
    page.goto("/settlements?status=proposed")
    path = "/" + settlement_url.split("/", 3)[3]  # /settlements/<id>
    page.click(f"#settlements-table a[href='{path}']")
    page.wait_for_url("**/settlements/*")
    page.locator(".chart svg").first.wait_for()  # payable and deduction, drawn by ECharts
    page.click("#approve")
    page.wait_for_load_state()
    assert page.get_by_test_id("settlement-status").inner_text() == "已审核，待支付"
    page.click("#record-payment")  # the voucher is required
    assert page.locator("#f-voucher_no").evaluate("e => e.validity.valueMissing")
    page.fill("#f-voucher_no", "LJGK-2026-001234")
    page.fill("#f-paid_on", projects.today().isoformat())
    page.click("#record-payment")
    page.wait_for_load_state()
    assert page.get_by_test_id("settlement-status").inner_text() == "已支付"
    assert "LJGK-2026-001234" in page.get_by_test_id("settlement-paid").inner_text()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0

    settlement = db.exec(select(Settlement)).one()
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.paid
    assert settlement.proposed_by == world.purchaser.id and settlement.decided_by == world.finance.id


def test_the_due_list_switch_keeps_a_sort_chosen_through_htmx(page, db, make_user, make_org,
                                                              viewport):
    if viewport["width"] < 700:
        pytest.skip("the phone layout folds the table's headings away")
    world = contracted_world(db, make_user, make_org)
    browser_login(page, world.finance.username)
    page.goto("/settlements/due?show=all")
    page.click("#due-table th a:has-text('应付金额')")
    page.wait_for_url("**sort=amount**")
    switch = page.locator("#due-show a")
    switch.wait_for()
    assert page.locator("#due-show").count() == 1
    page.wait_for_function(
        "document.querySelector('#due-show a').getAttribute('href').includes('sort=amount')")
    assert switch.get_attribute("href") == "/settlements/due?sort=amount"
    switch.click()
    page.wait_for_load_state()
    assert "sort=amount" in page.url and page.locator("#due-table th[aria-sort]").count() == 1
