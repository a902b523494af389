"""In a real Chromium: the purchaser proposes a settlement, another person in finance approves it
and records the payment with its voucher."""

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from evalplatform.models import Settlement, SettlementStatus
from evalplatform.services import projects, settlements
from tests.builders import contracted_world
from tests.conftest import answering_yes, browser_login, htmx_settled
from tests.settlement_builders import final_evaluation, instalment, principal

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
    answering_yes(page).click("#approve")
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


def _contrast(page, selector: str) -> float:
    """The WCAG contrast ratio of an element's text against its own background colour."""
    return page.evaluate("""selector => {
        const style = getComputedStyle(document.querySelector(selector));
        const rgb = text => text.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
        const lum = ([r, g, b]) => [r, g, b].map(v => {
            v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
        }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
        const [a, b] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))];
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    }""", selector)


def test_a_disabled_button_looks_disabled_and_stays_readable(browser, live_server, db, make_user,
                                                             make_org):
    """The proposal of an instalment whose service failed acceptance is disabled: it shows no
    pointer, does not look like the primary button beside it, keeps its text at 4.5:1 or
    more, and the page passes an axe-core check."""
    from datetime import date
    from pathlib import Path

    from evalplatform.services import acceptance
    from tests.settlement_builders import principal

    world = contracted_world(db, make_user, make_org)
    evaluation = final_evaluation(db, world, "86.35", "良")
    acceptance.record(db, principal(world.purchaser), evaluation.id, {
        "accepted_on": "2026-07-01", "conclusion": "rejected", "participants": "12",
        "participation": "居民代表 5 人参加现场验收", "opinion": "部分路段保洁不达标。",
        "survey_url": ""}, today=date(2026, 11, 1))
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN",
                                  base_url=live_server, bypass_csp=True)  # axe is injected
    context.set_default_timeout(10_000)
    page = context.new_page()
    browser_login(page, world.purchaser.username)
    page.goto(f"/contracts/{world.contract.id}/settlements")
    disabled = "#propose-3 button[type=submit]"
    assert page.locator(disabled).is_disabled()
    style = page.evaluate("""selector => {
        const s = getComputedStyle(document.querySelector(selector));
        return {cursor: s.cursor, background: s.backgroundColor, border: s.borderStyle};
    }""", disabled)
    primary = page.evaluate("""() => getComputedStyle(
        document.querySelector('button.primary:not(:disabled)')).backgroundColor""")
    assert style["cursor"] == "not-allowed"
    assert style["background"] != primary and style["border"] == "dashed"
    assert _contrast(page, disabled) >= 4.5
    axe = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
    page.add_script_tag(path=str(axe))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
    context.close()
    assert serious == []


def _due_projects(page) -> list[str]:
    return page.locator("#due-table tbody td:first-child a").all_inner_texts()


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_the_due_list_sorts_on_a_phone_where_the_headings_fold_away(browser, live_server, db,
                                                                     make_user, make_org,
                                                                     javascript):
    """At 390 px the table is cards without headings; a sort choice above them uses the
    headings' sort parameter, through htmx or, without JavaScript, as a plain form."""
    first = contracted_world(db, make_user, make_org, n=1)
    contracted_world(db, make_user, make_org, n=2, signed_on="2026-02-10")
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  base_url=live_server, java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        browser_login(page, first.finance.username)
        page.goto("/settlements/due?show=all")
        assert not page.locator("#due-table thead").is_visible()
        choice = page.locator("#due-table .sort-choice select")
        assert choice.is_visible()
        before = _due_projects(page)
        assert len(set(before)) == 2 and before != sorted(before, reverse=True)
        for sort, wanted in (("-project", sorted(before, reverse=True)),
                             ("project", sorted(before))):
            if javascript:  # htmx has taken up the list it swapped in (as a person would wait)
                htmx_settled(page)
            choice.select_option(sort)
            if not javascript:
                page.click("#due-table .sort-choice button[type=submit]")
            page.wait_for_url(f"**sort={sort}**", timeout=30_000)
            expect(choice).to_have_value(sort)  # the list swapped in says its sort
            assert _due_projects(page) == wanted, sort
            assert "show=all" in page.url  # the other parameters travel with the sort
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
    finally:
        context.close()


def test_the_half_year_summary_puts_each_label_above_its_figures_on_a_phone(
        browser, live_server, db, make_user, make_org):
    """At 390 px the summary's long labels (本期确定的评价结果) left its figures a third of the
    width, each broken over four or five lines; a label now stands above its figures."""
    world = contracted_world(db, make_user, make_org)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        browser_login(page, world.finance.username)
        page.goto("/reports/half-year?year=2026&half=1")
        figures = page.get_by_test_id("projects-of-the-year")
        label = page.locator("#summary dt").first
        card = page.locator("#summary dl").bounding_box()
        assert figures.bounding_box()["width"] >= 0.9 * card["width"]
        assert figures.bounding_box()["y"] >= label.bounding_box()["y"] + \
            label.bounding_box()["height"] - 1
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    finally:
        context.close()


def test_the_no_acceptance_notice_is_one_box_on_a_phone(browser, live_server, db, make_user,
                                                       make_org):
    """The notice that no acceptance is recorded sat inline in the payment-due line: on a
    phone its padding and border were drawn round each wrapped line, over the lines above."""
    world = contracted_world(db, make_user, make_org)
    final_evaluation(db, world, "86.35", "良")
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        browser_login(page, world.finance.username)
        for url, notice in ((f"/settlements/{settlement.id}", "no-acceptance"),
                            (f"/contracts/{world.contract.id}/settlements", "no-acceptance-3")):
            page.goto(url)
            box = page.get_by_test_id(notice)
            assert box.evaluate("e => e.getClientRects().length") == 1, url
            assert box.bounding_box()["height"] > 40, url  # several lines inside one box
    finally:
        context.close()


def test_on_a_desktop_the_page_buttons_sit_together_and_the_period_button_lines_up(
        browser, live_server, db, make_user, make_org):
    """The settlement list's two buttons stood apart, one in the middle of the page head; the
    half-year report's 显示 button sat below the inputs beside it (the fields' margin)."""
    world = contracted_world(db, make_user, make_org)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        browser_login(page, world.finance.username)
        page.goto("/settlements")
        buttons = page.locator(".page-head .button")
        boxes = [buttons.nth(i).bounding_box() for i in range(buttons.count())]
        assert len(boxes) == 3  # due dates, the half-year report, the budget advice
        for left, right in zip(boxes, boxes[1:], strict=False):
            assert right["x"] - (left["x"] + left["width"]) <= 16  # side by side
            assert right["y"] == left["y"]
        assert boxes[-1]["x"] + boxes[-1]["width"] > 1000  # on the right
        page.goto("/reports/half-year?year=2026&half=1")
        year = page.locator("#f-year").bounding_box()
        show = page.locator("#period-form button[type=submit]").bounding_box()
        assert abs((year["y"] + year["height"]) - (show["y"] + show["height"])) <= 2
    finally:
        context.close()


def test_the_settlement_sheet_prints_without_menus_and_forms(page, db, make_user, make_org,
                                                             viewport):
    """Printed for the payment file (Ctrl+P), the sheet keeps its figures and the names of the
    two people who proposed and approved it, and leaves out the menus and forms."""
    world = contracted_world(db, make_user, make_org)
    final_evaluation(db, world, "86.35", "良")
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    browser_login(page, world.finance.username)
    page.goto(f"/settlements/{settlement.id}")
    assert page.locator("#decide").is_visible() and page.locator(".topbar").is_visible()
    page.emulate_media(media="print")
    assert page.locator("#sheet").is_visible()
    assert page.get_by_test_id("settlement-payable").inner_text() == "¥296,400.00"
    assert world.purchaser.display_name in page.get_by_test_id("proposed-by").inner_text()
    for hidden in ("#decide", ".topbar", ".footer", "#download-sheet"):
        assert not page.locator(hidden).is_visible(), hidden
