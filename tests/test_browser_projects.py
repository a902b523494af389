"""In a real Chromium: a purchaser registers a project of ¥1,000,000 or more, finance approves
it, the purchaser records the contract with its instalment schedule, gives the contract its
indicator scheme from a template and schedules the first monitoring round."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from evalplatform.models import Instalment, Project
from evalplatform.services import catalogue, contracts, scheme_templates
from evalplatform.services.audit import SYSTEM
from evalplatform.services.credit_code import check_character
from tests.conftest import answering_yes, browser_login, htmx_settled

pytestmark = pytest.mark.browser


def test_register_approve_and_contract_a_project(page, db, make_user, make_org, viewport):
    catalogue.seed(db)
    scheme_templates.ensure_templates(db)
    dept = make_org("purchasing_department", name="临江市民政局")
    purchaser = make_user("purchaser", organisation=dept, display_name="张丽")
    finance = make_user("finance", display_name="王建国")
    first17 = "52330199MJ0000201"
    supplier = contracts.register_supplier(
        db, SYSTEM, name="临江市福康居家养老服务中心", credit_code=first17 + check_character(first17),
        supplier_kind="social_organisation", small_medium=True)

    browser_login(page, purchaser.username)
    page.goto("/projects/new")
    page.fill("#f-name", "2026年居家养老上门服务")
    entry_id = page.locator("#f-catalogue_entry_id option", has_text="A0501").get_attribute("value")
    page.select_option("#f-catalogue_entry_id", entry_id)
    page.fill("#f-content", "为失能、半失能老人提供助餐、助洁、助浴上门服务")
    page.fill("#f-recipients", "全市失能、半失能老人 1,200 人")
    page.fill("#f-budget", "1,860,000")
    page.select_option("#f-procurement_method", "public_tender")
    page.click("#project-form button[type=submit]")
    error = page.locator("#e-budget_line")
    error.wait_for()
    assert "无预算不购买" in error.inner_text()
    page.fill("#f-budget_line", "2026年养老服务专项资金")
    page.click("#project-form button[type=submit]")
    page.wait_for_url("**/projects/*")
    assert page.get_by_test_id("project-status").inner_text() == "待财政审批"
    project_url = page.url

    page.context.clear_cookies()
    browser_login(page, finance.username)
    page.goto("/")
    assert "待审批项目" in page.get_by_test_id("home-cards").inner_text()
    page.goto(project_url)
    answering_yes(page).click("#approve")
    page.wait_for_load_state()
    assert page.get_by_test_id("project-status").inner_text() == "财政已批准"
    # the approval dated, as the story has it, before the contract signed in February (a
    # contract signed before its project's approval is refused)
    project = db.get(Project, int(project_url.rstrip("/").rsplit("/", 1)[-1]))
    project.decided_at = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)
    db.add(project)
    db.commit()

    page.context.clear_cookies()
    browser_login(page, purchaser.username)
    page.goto(project_url)
    page.click("#record-contract")
    page.wait_for_url("**/contract/new")
    page.select_option("#f-supplier_id", str(supplier.id))
    page.fill("#f-amount", "1780000.01")
    page.fill("#f-signed_on", "2026-02-27")
    page.fill("#f-term_months", "12")
    page.fill("#f-performance_targets", "服务 1,200 人；满意度不低于 90%")
    page.fill("#f-share_1", "30%")
    page.select_option("#f-due_1", "on_signing")
    page.fill("#f-share_2", "30%")
    page.select_option("#f-due_2", "after_interim")
    page.check("#f-linked_2")
    page.fill("#f-share_3", "30%")
    page.select_option("#f-due_3", "after_final")
    page.check("#f-linked_3")
    page.click("#contract-form button[type=submit]")
    error = page.locator("#e-instalments")
    error.wait_for()
    assert "合同金额" in error.inner_text()
    page.fill("#f-share_3", "40%")
    page.click("#contract-form button[type=submit]")
    page.wait_for_url("**/contracts/*")
    assert page.get_by_test_id("contract-amount").inner_text() == "¥1,780,000.01"
    rows = page.locator("#instalment-table tbody tr")
    assert rows.count() == 3
    assert "¥712,000.01" in rows.nth(2).inner_text()  # the remainder fen on the last
    amounts = [i.amount_fen for i in db.exec(select(Instalment).order_by(Instalment.seq))]
    assert amounts == [53_400_000, 53_400_000, 71_200_001]
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0

    contract_url = page.url
    template = page.locator("#f-source_id option", has_text="居家养老").get_attribute("value")
    page.select_option("#f-source_id", template)
    page.click("#scheme button[type=submit]")
    page.wait_for_url("**/schemes/*")
    page.goto(contract_url)
    page.click("#evaluations a.button")
    page.wait_for_url("**/evaluations/new")
    page.fill("#f-title", "2026 年第一季度监控")
    page.select_option("#f-stage", "interim")
    page.fill("#f-period_start", "2026-01-01")  # before signing: refused, field named
    page.fill("#f-period_end", "2026-05-31")
    page.fill("#f-opens_at", "2026-06-01")
    page.fill("#f-closes_at", "2026-06-20")
    page.click("form.form button[type=submit]")
    page.locator("#e-period_start").wait_for()
    assert "合同签订日" in page.locator("#e-period_start").inner_text()
    page.fill("#f-period_start", "2026-02-27")
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/evaluations/*")
    assert page.get_by_test_id("evaluation-status").inner_text() == "草稿"
    page.goto(contract_url)
    assert "已冻结" in page.locator("#scheme").inner_text()


def test_the_project_list_and_the_budget_disclosure_sort_on_a_phone(browser, live_server, db,
                                                                    make_user, make_org):
    """At 390 px the tables are cards without headings: the sort choice above them sorts by
    the headings' keys (the finance journey's other sorted lists have the same choice)."""
    from tests.project_world import project_world

    world = project_world(db, make_user, make_org)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        browser_login(page, world.finance.username)
        for url, table in (("/projects", "#projects-table"), ("/disclosure/budget?year=2026",
                                                               "#budget-table")):
            page.goto(url)
            choice = page.locator(f"{table} .sort-choice select")
            assert choice.is_visible() and not page.locator(f"{table} thead").is_visible()
            budgets = page.locator(
                f"{table} tbody td:is([data-label='预算'], [data-label='预算金额'])")
            key = "budget" if table == "#projects-table" else "amount"
            for sort in (f"-{key}", key):
                # htmx has taken up the list it swapped in (as a person would wait)
                htmx_settled(page)
                choice.select_option(sort)
                page.wait_for_url(f"**sort={sort}**", timeout=30_000)
                expect(choice).to_have_value(sort)  # the list swapped in says its sort
                got = [int(t.replace("¥", "").replace(",", "").split(".")[0])
                       for t in budgets.all_inner_texts()]
                assert len(got) > 2 and got == sorted(got, reverse=sort.startswith("-")), url
    finally:
        context.close()
