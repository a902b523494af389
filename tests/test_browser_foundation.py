"""In a real Chromium: every role signs in and sees its own navigation; htmx forms work."""

import pytest
from playwright.sync_api import expect

from tests.conftest import browser_login

pytestmark = pytest.mark.browser

EXPECTED_MENU = {
    "admin": ["首页", "审计日志", "用户", "机构", "节假日安排", "我的账户"],
    "finance": ["首页", "购买服务项目", "合同", "到期与逾期", "承接主体", "指导性目录", "负面清单", "评价",
                "申诉", "结果公示", "结算", "履约信用", "指标体系", "专家库", "审计日志", "节假日安排",
                "我的账户"],
    "auditor": ["首页", "购买服务项目", "合同", "到期与逾期", "承接主体", "指导性目录", "负面清单", "评价",
                "申诉", "结果公示", "结算", "履约信用", "指标体系", "专家库", "审计日志", "用户", "机构",
                "节假日安排", "我的账户"],
    "purchaser": ["首页", "购买服务项目", "合同", "到期与逾期", "承接主体", "指导性目录", "负面清单", "评价",
                  "申诉", "结果公示", "结算", "履约信用", "指标体系", "我的账户"],
    "evaluator": ["首页", "评价", "结果公示", "我的账户"],
    "supplier": ["首页", "合同", "评价", "申诉", "结果公示", "结算", "履约信用", "我的账户"],
}


def test_each_role_signs_in_and_sees_its_navigation(page, make_user, viewport):
    failed = []  # every resource the pages ask for is served (a favicon.ico 404 was the last)
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    for role, menu in EXPECTED_MENU.items():
        user = make_user(role, display_name=f"测试{role}")
        page.context.clear_cookies()
        browser_login(page, user.username)
        assert page.get_by_test_id("who").inner_text().startswith(f"测试{role}")
        if viewport["width"] < 700:  # the phone layout folds the menu behind a button
            assert not page.locator("#nav").is_visible()
            page.click("[data-toggle-nav]")
        links = page.locator("#nav a").all_inner_texts()
        assert links == menu, role
        # nothing is wider than the screen
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{role}: page is {overflow}px wider than the viewport"
    assert failed == []
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(icon).headers["content-type"].startswith("image/svg+xml")


def test_a_form_shows_field_errors_in_place_and_then_succeeds(page, make_user, make_org, viewport):
    admin = make_user("admin")
    dept = make_org("purchasing_department", name="临江市民政局")
    browser_login(page, admin.username)
    page.goto("/admin/users/new")
    page.fill("#f-display_name", "张丽")
    page.select_option("#f-role", "purchaser")
    page.fill("#f-password", "short")
    page.click("#user-form button[type=submit]")
    error = page.locator("#e-username")
    error.wait_for()
    assert "请填写用户名" in error.inner_text()
    assert "至少需要 10 个字符" in page.locator("#e-password").inner_text()
    assert page.input_value("#f-display_name") == "张丽"  # kept across the swap
    assert page.url.endswith("/admin/users/new")  # swapped by htmx, no page load
    page.fill("#f-username", "zhangli")
    page.select_option("#f-organisation_id", str(dept.id))
    page.fill("#f-password", "a-long-enough-password")
    page.click("#user-form button[type=submit]")
    page.wait_for_url("**/admin/users")
    assert "已创建用户 zhangli" in page.locator("#flashes").inner_text()
    assert page.locator("#users-table").get_by_text("zhangli").count() == 1


def test_language_switch_to_english_and_back(page, make_user, viewport):
    user = make_user("finance")
    browser_login(page, user.username)
    page.click("button[name=language][value=en]")
    page.wait_for_load_state()
    assert page.locator("#nav").get_by_text("Audit log").count() == 1 or viewport["width"] < 700
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("button[name=language][value=zh_CN]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-CN"


def test_the_audit_log_draws_its_activity_chart_and_verifies_the_chain(page, make_user, viewport):
    auditor = make_user("auditor")
    browser_login(page, auditor.username)
    page.goto("/audit")
    page.locator(".chart svg").first.wait_for()  # ECharts, served from node_modules, drew it
    page.click("text=核验哈希链")
    expect(page.locator("#verification")).to_contain_text("哈希链完整")
    page.click("text=复核全部结果")  # every stored result scored again from its package
    expect(page.locator("#results-check .flash")).to_have_count(1)
    expect(page.locator("#results-check .flash-error")).to_have_count(0)


def _sign_in_again_in_another_tab(page, username):
    """The user signs out and in again in a second tab: the session's CSRF token is new, so
    a form still open in the first tab is refused (403) when it is sent."""
    other = page.context.new_page()
    other.goto("/")
    other.evaluate("document.querySelector('form[action=\"/logout\"]').submit()")
    other.wait_for_url("**/login**")
    browser_login(other, username)
    other.close()


def test_an_htmx_form_shows_a_refusal_that_is_not_a_field_error(page, make_user, viewport):
    """A 403/404/409 answer is not swapped in (base.html's htmx-config); the form says what
    the answer says instead of doing nothing."""
    purchaser = make_user("purchaser")
    browser_login(page, purchaser.username)
    page.goto("/suppliers")
    page.fill("#supplier-form #f-name", "临江市康宁护理服务中心")
    _sign_in_again_in_another_tab(page, purchaser.username)
    page.click("#supplier-form button[type=submit]")
    alert = page.locator("#supplier-form [role=alert]")
    expect(alert).to_contain_text("表单已过期或并非来自本站，请刷新页面后重试。")
    assert page.input_value("#supplier-form #f-name") == "临江市康宁护理服务中心"  # nothing lost

    page.goto("/projects/new")
    page.fill("#f-name", "2026年社区助餐服务")
    _sign_in_again_in_another_tab(page, purchaser.username)
    page.click("#project-form button[type=submit]")
    alert = page.locator("#project-form [role=alert]")
    expect(alert).to_contain_text("表单已过期")
    assert alert.count() == 1
    page.reload()  # a fresh page carries the new token: the form works again
    page.fill("#f-name", "2026年社区助餐服务")
    page.click("#project-form button[type=submit]")
    expect(page.locator("#project-form")).not_to_contain_text("表单已过期")
    expect(page.locator("#e-budget")).to_be_visible()  # field errors, in place, as before
