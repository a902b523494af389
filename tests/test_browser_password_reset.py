"""In a real Chromium: the administrator resets a forgotten password; the user signs in with
the temporary one, is made to choose a new one before anything else, and then works."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import browser_login

pytestmark = pytest.mark.browser


def test_a_reset_user_is_made_to_choose_a_new_password_and_then_sees_home(
        page, make_user, viewport):
    admin = make_user("admin")
    user = make_user("purchaser", display_name="张丽")
    browser_login(page, admin.username)
    page.goto(f"/admin/users?q={user.username}")
    page.locator("#users-table").get_by_role("link", name=user.username).click()
    page.wait_for_url(f"**/admin/users/{user.id}")
    expect(page.locator("#role-fixed")).to_contain_text("用户角色不可更改")
    page.click("#password-reset-form button[type=submit]")  # empty: the platform generates
    page.wait_for_url(f"**/admin/users/{user.id}/password-reset")
    temporary = page.locator("#temporary-password").inner_text()
    assert re.fullmatch(r"\S{4}-\S{4}-\S{4}", temporary)

    page.context.clear_cookies()
    page.goto("/login")
    page.fill("#f-username", user.username)
    page.fill("#f-password", temporary)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/account")  # not home: a new password first
    expect(page.locator("#must-change-password")).to_contain_text("您的密码由管理员设置")
    page.goto("/projects")
    page.wait_for_url("**/account")
    page.fill("#f-current_password", temporary)
    page.fill("#f-new_password", temporary)
    page.fill("#f-confirm_password", temporary)
    page.click("form[action='/account/password'] button[type=submit]")
    expect(page.locator("#e-new_password")).to_contain_text("不能沿用管理员给您的临时密码")
    page.fill("#f-current_password", temporary)
    page.fill("#f-new_password", "zhangli-own-password")
    page.fill("#f-confirm_password", "zhangli-own-password")
    page.click("form[action='/account/password'] button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("#flashes")).to_contain_text("新密码已设置")
    page.goto("/projects")
    assert page.url.endswith("/projects")
    expect(page.locator("h1")).to_contain_text("购买服务项目")
