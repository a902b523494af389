"""In a real Chromium: a finance user imports a scheme workbook and edits it in the editor."""

import pytest
from sqlmodel import select

from evalplatform.i18n import language
from evalplatform.models import IndicatorScheme
from evalplatform.services import scheme_excel, scheme_templates
from tests.conftest import browser_login

pytestmark = pytest.mark.browser


def test_finance_imports_a_workbook_and_edits_it(page, make_user, db, tmp_path, viewport):
    scheme_templates.ensure_templates(db)
    template = db.exec(select(IndicatorScheme).where(
        IndicatorScheme.service_area == "市容环卫")).one()
    with language("zh_CN"):
        workbook = tmp_path / "环卫指标.xlsx"
        workbook.write_bytes(scheme_excel.export_workbook(template))
    user = make_user("finance")
    browser_login(page, user.username)
    page.goto("/schemes/import")
    page.set_input_files("#f-file", str(workbook))
    page.fill("#f-name", "2025 年市容环卫绩效评价")
    page.click("#scheme-import-form button[type=submit]")
    page.wait_for_url("**/schemes/*")
    assert "已导入指标体系 2025 年市容环卫绩效评价" in page.locator("#flashes").inner_text()
    assert page.locator("h1").inner_text() == "2025 年市容环卫绩效评价"
    assert page.get_by_test_id("weight-A").inner_text() == "0.40"
    assert page.get_by_test_id("sum-A1").inner_text() == "下级合计：50"
    # change a leaf's points: the running sum of its parent updates and shows the mismatch
    page.fill("#f-A1\\.1-points", "26")
    page.press("#f-A1\\.1-points", "Enter")
    page.wait_for_selector("[data-testid=sum-A1].mismatch")
    assert page.get_by_test_id("sum-A1").inner_text() == "下级合计：56 ≠ 50"
    assert "“合同履约”（A1）" in page.locator("#scheme-problems").inner_text()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the viewport"


def test_a_refused_sub_indicator_stays_open_with_what_was_typed(page, make_user, db):
    from evalplatform.services import schemes
    from tests.test_schemes import principal_of

    user = make_user("purchaser")
    scheme = schemes.create(db, principal_of(user), name="民政局自有指标体系")
    schemes.add_child(db, principal_of(user), scheme.id, "A", name="服务质量", points="100")
    browser_login(page, user.username)
    page.goto(f"/schemes/{scheme.id}")
    node = page.locator("#node-A1")
    node.locator(":scope > details.add-child > summary").click()
    page.fill("#f-A1-child-name", "多余的")
    page.fill("#f-A1-child-points", "abc")
    node.locator(":scope > details.add-child button[type=submit]").click()
    error = page.locator("#e-A1-child-points")
    error.wait_for()
    assert "分值必须是大于 0 的数字" in error.inner_text()
    assert page.locator("#node-A1 > details.add-child").get_attribute("open") is not None
    assert page.input_value("#f-A1-child-name") == "多余的"
    assert page.input_value("#f-A1-child-points") == "abc"
    # the message sits right under the points field it is about
    field, message = page.locator("#f-A1-child-points").bounding_box(), error.bounding_box()
    assert field["y"] + field["height"] <= message["y"] < field["y"] + field["height"] + 40
    assert abs(message["x"] - field["x"]) < 2
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the viewport"
