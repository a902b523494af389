"""In a real Chromium on a 390 × 844 phone (zh-CN, touch): an expert's scoresheet and a
supplier's appeal can be worked with the thumb, and their errors say where they are."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from evalplatform.services import results
from tests.conftest import answering_yes, browser_login
from tests.results_feed import (  # noqa: F401  (feed_fixture, world_fixture: fixtures)
    fed,
    feed_fixture,
    principal,
    world_fixture,
)
from tests.test_scoresheets_world import panel_world

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
MIN_TARGET = 40  # px: what a thumb hits reliably


@pytest.fixture
def phone(browser, live_server):
    contexts = []

    def open_phone():
        context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server,
                                      has_touch=True, is_mobile=True)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_phone
    for context in contexts:
        context.close()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def tap_heights(page, selector: str) -> list[float]:
    return page.locator(selector).evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)")


def open_expert_sheet(db, make_user, make_org, page):
    pw = panel_world(db, make_user, make_org, pool_size=4, seats=3, alternates=0)
    browser_login(page, pw.user_of(db, pw.seated(db)[0]).username)
    page.goto(f"/evaluations/{pw.evaluation.id}")
    page.get_by_test_id("start-expert").click()
    page.wait_for_url("**/sheets/*")
    return pw


def test_the_not_applicable_box_of_a_scoresheet_is_a_thumb_sized_row(db, make_user, make_org,
                                                                      phone):
    page = phone()
    open_expert_sheet(db, make_user, make_org, page)
    assert no_sideways_scroll(page)
    heights = tap_heights(page, ".leaf .field.checkbox label")
    assert heights and min(heights) >= MIN_TARGET
    box = page.locator('[name="na-C1.2"]').bounding_box()
    assert box["width"] >= 20 and box["height"] >= 20
    page.get_by_test_id("leaf-C1.2").locator(".field.checkbox label").tap()
    assert page.locator('[name="na-C1.2"]').is_checked()  # the words tick the box too


def published_today(db, world, feed):
    """A result published now: its appeal window is open."""
    evaluation = fed(db, world, feed)
    results.compute(db, principal(world.finance), evaluation.id)
    results.publish(db, principal(world.finance), evaluation.id, at=datetime.now(UTC))
    return evaluation


def test_the_indicators_of_an_appeal_are_thumb_sized_rows(db, world, feed, phone):
    evaluation = published_today(db, world, feed)
    page = phone()
    browser_login(page, world.supplier_user.username)
    page.goto(f"/evaluations/{evaluation.id}/appeal")
    assert no_sideways_scroll(page)
    heights = tap_heights(page, "#appeal-form .field.checkbox label")
    assert len(heights) > 5 and min(heights) >= MIN_TARGET
    page.locator("#appeal-form .field.checkbox label", has_text="A2.2").tap()
    assert page.locator('#appeal-form input[value="A2.2"]').is_checked()


def test_a_refused_scoresheet_names_each_indicator_on_the_first_screen(db, make_user, make_org,
                                                                      phone):
    page = phone()
    open_expert_sheet(db, make_user, make_org, page)
    page.select_option('[name="value-C1.2"]', "达成")
    page.fill('[name="value-C1.3"]', "25")  # above the maximum 15
    page.fill('[name="reason-C1.3"]', "三处收集点满溢")
    page.select_option('[name="value-C2.1"]', "达成")
    page.fill('[name="value-C2.2"]', "18")  # a deduction without its reason
    answering_yes(page).get_by_test_id("submit-sheet").click()
    page.wait_for_load_state()
    summary = page.locator("#sheet-errors")
    assert summary.bounding_box()["y"] < PHONE["height"]  # seen without scrolling
    named = summary.locator("li").all_inner_texts()
    assert named[0] == "C1.3 垃圾收集点管理：得分必须在 0 到满分 15 之间。"
    assert named[1].startswith("C2.2 应急保障能力：") and "扣分理由" in named[1]
    link = summary.locator("a").first
    assert link.bounding_box()["height"] >= MIN_TARGET
    link.tap()
    target = page.locator(link.get_attribute("href"))
    assert target.get_attribute("data-testid") == "leaf-C1.3"
    assert "0 到满分 15" in target.locator("p.error").inner_text()  # next to the field
    assert page.input_value('[name="value-C1.3"]') == "25"  # what was typed is kept
    assert no_sideways_scroll(page)


def test_the_header_links_and_buttons_are_thumb_sized(make_user, phone):
    user = make_user("supplier")
    page = phone()
    page.goto("/login")  # signed out: the language buttons
    sizes = page.locator(".topbar a:visible, .topbar button:visible").evaluate_all(
        "els => els.map(e => [e.innerText.trim(), e.getBoundingClientRect().width,"
        " e.getBoundingClientRect().height])")
    assert sizes and all(h >= MIN_TARGET and w >= MIN_TARGET for _t, w, h in sizes), sizes
    browser_login(page, user.username)
    page.click(".menu-toggle")  # the menu opens: each entry is a row to tap
    sizes = page.locator(".topbar a:visible, .topbar button:visible").evaluate_all(
        "els => els.map(e => [e.innerText.trim(), e.getBoundingClientRect().width,"
        " e.getBoundingClientRect().height])")
    texts = [t for t, _w, _h in sizes]
    assert "退出" in texts and "English" in texts and "申诉" in texts
    assert all(h >= MIN_TARGET and w >= MIN_TARGET for _t, w, h in sizes), sizes
    assert no_sideways_scroll(page)


def test_an_expert_opens_the_draft_sheet_and_the_decline_form_with_the_thumb(
        db, make_user, make_org, phone):
    page = phone()
    pw = open_expert_sheet(db, make_user, make_org, page)
    page.goto(f"/evaluations/{pw.evaluation.id}")
    opener = page.get_by_test_id("open-sheet-expert")
    box = opener.bounding_box()
    assert box["height"] >= MIN_TARGET and box["width"] >= MIN_TARGET
    decline = page.locator("details.decline summary")
    assert decline.bounding_box()["height"] >= MIN_TARGET
    assert no_sideways_scroll(page)
    opener.tap()
    page.wait_for_url("**/sheets/*")


def test_an_appeal_sent_back_says_which_chosen_files_must_be_chosen_again(db, world, feed, phone,
                                                                         tmp_path):
    evaluation = published_today(db, world, feed)
    log = tmp_path / "6月巡查记录.pdf"
    log.write_bytes(b"%PDF-1.4\n% the cleaning log of June\n%%EOF\n")
    page = phone()
    browser_login(page, world.supplier_user.username)
    page.goto(f"/evaluations/{evaluation.id}/appeal")
    page.fill("#f-reasons", "记录有误")  # shorter than the rule's 10 characters
    page.locator("#appeal-form .field.checkbox label", has_text="A2.2").tap()
    photo = tmp_path / "现场照片.txt"
    photo.write_bytes(b"not a PDF")
    page.set_input_files("#f-evidence", [str(log), str(photo)])
    page.click("#appeal-form button[type=submit]")
    page.wait_for_load_state()
    assert "至少 10 个字" in page.locator("#e-reasons").inner_text()
    assert page.locator("#e-evidence").inner_text().startswith("现场照片.txt：")
    assert page.input_value("#f-reasons") == "记录有误"
    assert page.locator('#appeal-form input[value="A2.2"]').is_checked()
    # the file box comes back empty: the page says so, naming the acceptable file
    assert page.locator("#unsent-evidence").inner_text() == \
        "以下文件尚未提交，请重新选择：6月巡查记录.pdf"
    assert "unsent-evidence" in page.locator("#f-evidence").get_attribute("aria-describedby")
    page.fill("#f-reasons", "6 月 12 日为暴雨停工日，已报备，见附件。")
    page.set_input_files("#f-evidence", [str(log)])
    page.click("#appeal-form button[type=submit]")
    page.wait_for_url("**/appeals/*")
    assert "6月巡查记录.pdf" in page.locator("main").inner_text()
    assert no_sideways_scroll(page)


def test_a_self_evaluation_sent_back_names_the_file_to_choose_again(db, make_user, make_org,
                                                                    phone, tmp_path):
    pw = panel_world(db, make_user, make_org, pool_size=4, seats=3, alternates=0)
    report = tmp_path / "上半年自评报告.pdf"
    report.write_bytes(b"%PDF-1.4\n% our own account of the half year\n%%EOF\n")
    page = phone()
    browser_login(page, pw.world.supplier_user.username)
    page.goto(f"/evaluations/{pw.evaluation.id}")
    page.fill("#f-summary", "上半年完成 126 条道路日常清扫保洁。")
    page.fill("#f-claimed_total", "120")  # above 100
    page.set_input_files("#f-self-file", [str(report)])
    page.locator("#self-evaluation button[type=submit]").click()
    page.wait_for_load_state()
    assert "0 到 100" in page.locator("#e-claimed_total").inner_text()
    assert page.input_value("#f-summary") == "上半年完成 126 条道路日常清扫保洁。"
    assert page.locator("#unsent-self-file").inner_text() == \
        "以下文件尚未提交，请重新选择：上半年自评报告.pdf"
    assert no_sideways_scroll(page)


def test_a_points_error_shows_right_above_the_field_as_one_types(db, make_user, make_org,
                                                                 phone):
    page = phone()
    open_expert_sheet(db, make_user, make_org, page)
    field = page.locator('[name="value-C1.3"]')
    field.fill("25")  # above the maximum 15
    field.press("Tab")
    error = page.get_by_test_id("leaf-C1.3").locator("p.error")
    expect(error).to_have_text("得分必须在 0 到满分 15 之间。")
    error_box, field_box = error.bounding_box(), field.bounding_box()
    # above the field, only its label between: not below the other fields, under the keyboard
    assert error_box["y"] + error_box["height"] <= field_box["y"] < error_box["y"] + 100
    described = field.get_attribute("aria-describedby").split()
    assert error.get_attribute("id") in described
