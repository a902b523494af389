"""In a real Chromium: a purchaser's project is refused by the negative list, finance records
an explained exception from the link the refusal gives, the purchaser registers the project
and its page shows the exception; then the public budget page and the catalogue import."""

import io

import pytest
from openpyxl import Workbook
from sqlmodel import select

from evalplatform.models import CatalogueEntry, Project
from evalplatform.services import catalogue
from tests.conftest import browser_login

pytestmark = pytest.mark.browser

NAME = "社区工作人员劳务派遣项目"


def no_overflow(page):
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the viewport"


def test_refused_then_excepted_then_registered(page, db, make_user, make_org, viewport):
    catalogue.seed(db)
    dept = make_org("purchasing_department", name="临江市民政局")
    purchaser = make_user("purchaser", organisation=dept, display_name="张丽")
    finance = make_user("finance", display_name="王建国")
    entry = db.exec(select(CatalogueEntry).where(CatalogueEntry.code == "B0201")).one()

    def fill_project():
        page.goto("/projects/new")
        page.fill("#f-name", NAME)
        page.select_option("#f-catalogue_entry_id", str(entry.id))
        page.fill("#f-content", "为 12 个社区配备网格员，协助开展社区治理")
        page.fill("#f-recipients", "12 个社区居民")
        page.fill("#f-budget", "600000")
        page.fill("#f-budget_line", "2026年社区治理专项")
        page.select_option("#f-procurement_method", "competitive_consultation")
        page.click("#project-form button[type=submit]")

    browser_login(page, purchaser.username)
    fill_project()
    notice = page.locator("#negative-list-refusal")
    notice.wait_for()
    assert "购人、购岗" in notice.inner_text() and "例外" in notice.inner_text()
    assert "购人、购岗" in page.locator("#e-name").inner_text()
    link = page.locator("#negative-list-link").get_attribute("href")
    no_overflow(page)
    assert db.exec(select(Project)).first() is None

    page.context.clear_cookies()
    browser_login(page, finance.username)
    page.goto(link)
    assert page.input_value("#f-project_name") == NAME
    assert page.input_value("#f-department_id") == str(dept.id)
    staffing = next(e for e in catalogue.list_negative(db) if "购人" in e.name)
    page.select_option("#f-entry_id", str(staffing.id))
    page.fill("#f-reason", "经市政府常务会议研究同意，作为社区治理试点保留一年")
    page.click("#override-form button[type=submit]")
    page.wait_for_url("**/negative-list")
    assert NAME in page.locator("#overrides").inner_text()
    no_overflow(page)

    page.context.clear_cookies()
    browser_login(page, purchaser.username)
    fill_project()
    page.wait_for_url("**/projects/*")
    section = page.locator("#negative-list-exceptions")
    assert "经市政府常务会议研究同意" in section.inner_text()
    assert "王建国" in section.inner_text()
    no_overflow(page)


def test_the_public_budget_and_the_catalogue_import(page, db, make_user, tmp_path, viewport):
    catalogue.seed(db)
    page.goto("/login")
    page.click("#budget-disclosure-link")
    page.wait_for_url("**/disclosure/budget")
    assert "政府购买服务预算" in page.locator("h1").inner_text()
    no_overflow(page)

    book = Workbook()
    sheet = book.active
    sheet.title = "指导性目录"
    sheet.append(["编码", "级次", "上级编码", "名称", "说明", "是否有效"])
    sheet.append(["A08", 2, "A", "托育", "", "是"])
    sheet.append(["A0801", 3, "A09", "普惠托育服务", "", "是"])
    buffer = io.BytesIO()
    book.save(buffer)
    path = tmp_path / "目录.xlsx"
    path.write_bytes(buffer.getvalue())
    browser_login(page, make_user("finance").username)
    page.goto("/catalogue")
    page.set_input_files("#f-catalogue-file", str(path))
    page.click("#catalogue-import-form button[type=submit]")
    errors = page.locator("#import-errors")
    errors.wait_for()
    assert "第 3 行 C 列（上级编码）" in errors.inner_text()
    no_overflow(page)
    sheet["C3"] = "A08"
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())
    page.set_input_files("#f-catalogue-file", str(path))
    page.click("#catalogue-import-form button[type=submit]")
    page.wait_for_url("**/catalogue")
    assert "新增 2 条" in page.locator("#flashes").inner_text()
    assert "普惠托育服务" in page.locator("#catalogue").inner_text()
