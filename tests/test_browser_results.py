"""In a real Chromium: finance computes a result from the collected inputs, reads how a leaf
lost points, publishes it, and the public page (no sign-in) lists it; the supplier appeals."""

from __future__ import annotations

import json

import pytest

from tests.builders import contracted_world
from tests.conftest import answering_yes, browser_login, served
from tests.results_feed import FEED_FILE_ENV, HAND_TOTAL, hand_inputs, ready

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def fed_server(database_url, engine, tmp_path_factory):
    """The application in its own process, its test collector reading a feed file."""
    feed_file = tmp_path_factory.mktemp("feed") / "feed.json"
    feed_file.write_text("{}", encoding="utf-8")
    with served("tests.results_feed:create_app", database_url, name="fed-server",
                **{FEED_FILE_ENV: str(feed_file)}) as base:
        yield base, feed_file


@pytest.fixture
def fed_page(browser, fed_server, db, viewport):
    base, _feed_file = fed_server
    context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=base)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def test_finance_computes_and_publishes_and_the_public_page_shows_it(fed_page, fed_server, db,
                                                                      make_user, make_org,
                                                                      viewport):
    page = fed_page
    _base, feed_file = fed_server
    world = contracted_world(db, make_user, make_org)
    evaluation = ready(db, world)
    feed_file.write_text(json.dumps({str(evaluation.id): hand_inputs()}, ensure_ascii=False),
                         encoding="utf-8")

    browser_login(page, world.finance.username)
    page.goto(f"/evaluations/{evaluation.id}")
    page.click("#compute-result")
    page.wait_for_url(f"**/evaluations/{evaluation.id}/result")
    assert page.get_by_test_id("result-total").inner_text() == HAND_TOTAL
    assert page.get_by_test_id("result-grade").inner_text() == "良"
    # why A2.2 (安全生产) lost points, in the engine's words
    leaf = page.locator("#node-A2\\.2")
    assert "作业人员未穿反光背心" in leaf.inner_text() and "9.00" in leaf.inner_text()
    page.locator("#chart-indicators svg").wait_for()  # ECharts drew the indicator chart
    page.locator("#chart-parts svg").wait_for()
    page.locator("#chart-survey svg").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    # each status badge (已评分 …) stays on one line, not one character a line
    lines = page.evaluate("""() => [...document.querySelectorAll('#tree-table .badge')]
                                   .map(badge => badge.getClientRects().length)""")
    assert lines and set(lines) == {1}
    with page.expect_download() as download:
        page.click("#download-package")
    package = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert package["scheme"]["parts"][0]["weight"] == "0.40"

    answering_yes(page).click("#publish-result")
    page.wait_for_load_state()
    assert "已公示" in page.locator("#flashes").inner_text()
    deadline = page.get_by_test_id("appeal-deadline").inner_text()[:10]

    page.context.clear_cookies()
    page.goto("/results")  # no sign-in
    row = page.locator("#public-results tbody tr").first
    text = row.inner_text()
    assert world.project.name in text and world.supplier.name in text and HAND_TOTAL in text
    assert deadline in text and world.finance.display_name not in page.content()
    row.locator("a").first.click()
    page.wait_for_url("**/results/*")
    assert page.get_by_test_id("public-total").inner_text() == HAND_TOTAL

    browser_login(page, world.supplier_user.username)
    page.goto(f"/evaluations/{evaluation.id}/result")
    page.click("#file-appeal")
    page.fill("#f-reasons", "6 月 12 日暴雨停工已报备，台账缺记录不应扣分。")
    page.check("input[name=leaves][value='A2.1']")
    page.click("#appeal-form button[type=submit]")
    page.wait_for_url("**/appeals/*")
    assert page.get_by_test_id("appeal-status").inner_text() == "待财政部门处理"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
