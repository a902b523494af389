"""In a real Chromium: the demo city's supplier (福康, user fukang) finds the contracts it
signed through the menu, opens one and reads its instalments; on a 390 px phone the list is
cards, each value named by its column."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from evalplatform.models import Contract, Instalment, User
from evalplatform.services import demo
from tests.conftest import PASSWORD, browser_login
from tests.test_scoresheets_world import hashing_once

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def fukang(db, monkeypatch):
    """The demo city, its supplier 福康 and the contracts it signed (newest signing first)."""
    monkeypatch.setenv("EVAL_DEMO_PASSWORD", PASSWORD)
    with hashing_once():
        demo.load(db)
    user = db.exec(select(User).where(User.username == "fukang")).one()
    own = db.exec(select(Contract).where(Contract.supplier_id == user.organisation_id)
                  .order_by(Contract.signed_on.desc(), Contract.id)).all()
    assert len(own) >= 2 and len(db.exec(select(Contract)).all()) > len(own)
    return user, own


def open_context(browser, live_server, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=live_server,
                                  has_touch=viewport == PHONE, is_mobile=viewport == PHONE)
    context.set_default_timeout(10_000)
    return context


def test_the_demo_supplier_opens_its_contract_from_the_menu(browser, live_server, db, fukang):
    user, own = fukang
    context = open_context(browser, live_server, {"width": 1280, "height": 800})
    page = context.new_page()
    try:
        browser_login(page, user.username)
        page.locator("#nav").get_by_role("link", name="合同", exact=True).click()
        page.wait_for_url("**/contracts")
        rows = page.locator("#contracts-table tbody tr")
        expect(rows).to_have_count(len(own))
        first = own[0]
        link = rows.first.locator("td").first.get_by_role("link")
        assert link.get_attribute("href") == f"/contracts/{first.id}"
        link.click()
        page.wait_for_url(f"**/contracts/{first.id}")
        instalments = db.exec(select(Instalment).where(Instalment.contract_id == first.id)
                              .order_by(Instalment.seq)).all()
        table = page.locator("#instalment-table")
        expect(table.locator("tbody tr")).to_have_count(len(instalments))
        amounts = table.locator("tbody td[data-label='金额']").all_inner_texts()
        assert amounts == [f"¥{i.amount_fen / 100:,.2f}" for i in instalments]
        expect(page.get_by_test_id("contract-amount")).to_have_text(
            f"¥{first.amount_fen / 100:,.2f}")
        assert page.locator("main form").count() == 0  # nothing for a supplier to record here
    finally:
        context.close()


def test_on_a_phone_the_contract_list_is_cards(browser, live_server, fukang):
    user, own = fukang
    context = open_context(browser, live_server, PHONE)
    page = context.new_page()
    try:
        browser_login(page, user.username)
        page.click(".menu-toggle")
        page.locator("#nav").get_by_role("link", name="合同", exact=True).tap()
        page.wait_for_url("**/contracts")
        table = page.locator("#contracts-table")
        assert not table.locator("thead").is_visible()  # the headings fold away
        expect(table.locator(".sort-choice select")).to_be_visible()
        cards = table.locator("tbody tr")
        expect(cards).to_have_count(len(own))
        assert cards.evaluate_all("rows => rows.map(r => getComputedStyle(r).display)") == \
            ["block"] * len(own)
        # each value stands beside its column's name, one below the other
        labels = cards.first.locator("td").evaluate_all(
            "cells => cells.map(c => getComputedStyle(c, '::before').content)")
        assert labels == ['"项目"', '"部门"', '"承接主体"', '"签订日期"', '"期限"', '"合同金额"',
                          '"公开"']
        boxes = [cell.bounding_box() for cell in cards.first.locator("td").all()]
        assert all(b["y"] < after["y"] for b, after in zip(boxes, boxes[1:], strict=False))
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    finally:
        context.close()
