"""In a real Chromium: an expert scores online (draft kept across a closed browser, a deduction
without a reason refused, submitted, report uploaded); the purchaser scores its quarter."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from evalplatform.models import Scoresheet, ScoringFile, SheetStatus
from tests.conftest import answering_yes, browser_login
from tests.test_scoresheets_world import panel_world

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.7\n% third-party evaluation report\n%%EOF\n"


def test_an_expert_scores_saves_a_draft_returns_and_submits(page, browser, live_server, db,
                                                              make_user, make_org, viewport,
                                                              tmp_path):
    pw = panel_world(db, make_user, make_org, pool_size=5, seats=3, alternates=1)
    other = panel_world(db, make_user, make_org, pool_size=3, seats=3, alternates=0, n=2,
                        sector="E02")  # another panel, other experts
    member = pw.seated(db)[0]
    expert = pw.user_of(db, member)

    browser_login(page, expert.username)
    page.goto("/evaluations")
    rows = page.locator("#evaluations-table tbody tr")
    expect(rows).to_have_count(1)  # only its own assignment
    assert other.evaluation.id != pw.evaluation.id
    page.click(f"a[href='/evaluations/{pw.evaluation.id}']")
    page.get_by_test_id("start-expert").click()
    page.wait_for_url("**/sheets/*")
    sheet_url = page.url
    assert "每发现一处满溢、散落扣 1 分" in page.get_by_test_id("leaf-C1.3").inner_text()
    page.select_option('[name="value-C1.2"]', "达成")
    page.fill('[name="value-C1.3"]', "12")
    page.press('[name="value-C1.3"]', "Tab")
    expect(page.get_by_test_id("draft-status")).to_contain_text("草稿已于")
    expect(page.get_by_test_id("leaf-C1.3")).to_contain_text("扣分理由")  # still to do
    # the sheet adds up as it is saved: 15 × 1.0 + 12
    expect(page.get_by_test_id("sheet-subtotal")).to_contain_text("已评 2 / 4 项，得分 27.00")
    page.fill('[name="value-C2.2"]', "21")  # above the maximum 20: the rest is still saved
    page.press('[name="value-C2.2"]', "Tab")
    expect(page.get_by_test_id("draft-status")).to_contain_text("标出的指标除外")
    expect(page.get_by_test_id("leaf-C2.2")).to_contain_text("0 到满分 20")
    page.fill('[name="value-C2.2"]', "20")
    page.press('[name="value-C2.2"]', "Tab")
    expect(page.get_by_test_id("draft-status")).not_to_contain_text("标出的指标除外")
    expect(page.get_by_test_id("draft-status")).to_contain_text("草稿已于")
    expect(page.get_by_test_id("sheet-subtotal")).to_contain_text("已评 3 / 4 项，得分 47.00")

    # the browser is closed; the expert comes back in a new one and finds the draft
    page.close()
    context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=live_server)
    context.set_default_timeout(10_000)
    again = context.new_page()
    try:
        browser_login(again, expert.username)
        again.goto(sheet_url)
        assert again.input_value('[name="value-C1.3"]') == "12"
        assert again.input_value('[name="value-C1.2"]') == "达成"
        assert again.input_value('[name="value-C2.2"]') == "20"
        again.select_option('[name="value-C2.1"]', "达成")
        answering_yes(again).get_by_test_id("submit-sheet").click()
        again.wait_for_load_state()
        expect(again.get_by_test_id("leaf-C1.3")).to_contain_text("扣分理由")
        assert again.get_by_test_id("sheet-status").inner_text() == "草稿"
        # the refused submission shows the sheet's own address and kept what was typed: a
        # reload reads the sheet again instead of sending the form, and finds every entry
        assert again.url == sheet_url
        again.reload()
        assert again.input_value('[name="value-C2.1"]') == "达成"
        assert again.input_value('[name="value-C1.3"]') == "12"
        again.fill('[name="reason-C1.3"]', "三处收集点满溢")
        answering_yes(again).get_by_test_id("submit-sheet").click()
        expect(again.get_by_test_id("sheet-status")).to_have_text("已提交")
        assert "三处收集点满溢" in again.get_by_test_id("entered-C1.3").inner_text()
        db.expire_all()
        sheet = db.exec(select(Scoresheet).where(Scoresheet.member_id == member.id)).one()
        assert sheet.status == SheetStatus.submitted
        assert sheet.scores["C1.3"] == {"points": "12", "reason": "三处收集点满溢"}

        report = tmp_path / "第三方评价报告.pdf"
        report.write_bytes(PDF)
        again.goto(f"/evaluations/{pw.evaluation.id}")
        overflow = again.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page with the report form is {overflow}px too wide"
        again.set_input_files("#f-report", str(report))
        again.click("#my-sheets form[action$='/report'] button[type=submit]")
        again.wait_for_load_state()
        expect(again.locator("#flashes")).to_contain_text("评价报告已上传")
        db.expire_all()
        assert db.exec(select(ScoringFile)).one().filename == "第三方评价报告.pdf"
    finally:
        context.close()


def test_the_purchaser_scores_its_quarter(page, db, make_user, make_org):
    pw = panel_world(db, make_user, make_org, pool_size=3, seats=3, alternates=0)
    browser_login(page, pw.purchaser.username)
    page.goto(f"/evaluations/{pw.evaluation.id}")
    expect(page.get_by_test_id("scoring-progress")).to_contain_text("专家组与评分表")
    page.fill("#occ-A", "2026 第一季度")
    page.get_by_test_id("start-occasion").click()
    page.wait_for_url("**/sheets/*")
    page.select_option('[name="value-A2.1"]', "部分达成")
    page.fill('[name="reason-A2.1"]', "三月整改记录缺失")
    page.fill('[name="value-A2.2"]', "10")
    asked = []  # submitting locks the sheet, so the page asks first; "no" sends nothing
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_test_id("submit-sheet").click()
    assert asked and "提交后即锁定" in asked[0]
    assert page.get_by_test_id("sheet-status").inner_text() == "草稿"
    db.expire_all()
    assert db.exec(select(Scoresheet).where(Scoresheet.scorer_key == "2026 第一季度")
                   ).one().status == SheetStatus.draft
    answering_yes(page).get_by_test_id("submit-sheet").click()
    expect(page.get_by_test_id("sheet-status")).to_have_text("已提交")
    db.expire_all()
    sheet = db.exec(select(Scoresheet).where(Scoresheet.scorer_key == "2026 第一季度")).one()
    assert sheet.scores == {"A2.1": {"tier": "部分达成", "reason": "三月整改记录缺失"},
                            "A2.2": {"points": "10"}}


def test_the_purchaser_types_a_rate_in_percent(page, db, make_user, make_org):
    """道路保洁达标率 is a rate: its field has a % after it; 95 typed and saved as one types is
    kept as 0.95 and shown again as 95; 1001 is refused at the field, naming it."""
    pw = panel_world(db, make_user, make_org, pool_size=3, seats=3, alternates=0)
    browser_login(page, pw.purchaser.username)
    page.goto(f"/evaluations/{pw.evaluation.id}")
    page.get_by_test_id("start-data").click()
    page.wait_for_url("**/sheets/*")
    field = page.get_by_test_id("leaf-A1.1")
    expect(field).to_contain_text("目标 95%")
    expect(field.locator(".suffix")).to_have_text("%")
    expect(field.locator(".suffix")).to_be_visible()
    page.fill('[name="value-A1.1"]', "95")
    page.fill('[name="source-A1.1"]', "城管巡查台账")
    page.press('[name="source-A1.1"]', "Tab")
    expect(page.get_by_test_id("draft-status")).to_contain_text("草稿已于")
    db.expire_all()
    sheet = db.exec(select(Scoresheet).where(Scoresheet.kind == "data")).one()
    assert sheet.scores["A1.1"] == {"value": "0.95", "source": "城管巡查台账"}
    page.reload()
    assert page.input_value('[name="value-A1.1"]') == "95"
    page.fill('[name="value-A1.1"]', "1001")
    page.press('[name="value-A1.1"]', "Tab")
    expect(field.locator(".error")).to_contain_text("道路保洁达标率按百分比填写")
    expect(field.locator(".error")).to_contain_text("0 到 1000%")
    db.expire_all()
    assert db.get(Scoresheet, sheet.id).scores["A1.1"]["value"] == "0.95"


def test_the_scoring_summarys_forms_stay_inside_their_table_on_a_phone(page, db, make_user,
                                                                         make_org, viewport):
    """On a phone the summary's sheet table stacks each row; the 'ask to reopen' reason field
    stuck out of the table's right edge, cut off (12 px at 390 px wide). Every field and
    button now stays inside the table on a phone and on a desktop."""
    from evalplatform.services import scoresheets
    from tests.test_scoresheets_world import principal

    pw = panel_world(db, make_user, make_org, pool_size=3, seats=3, alternates=0)
    purchaser = principal(db, pw.purchaser)
    sheet = scoresheets.start(db, purchaser, pw.evaluation.id, "A", "occasion", "2026 第一季度")
    scoresheets.submit(db, purchaser, pw.evaluation.id, sheet.id,
                       {"value-A2.1": "达成", "value-A2.2": "10"})
    browser_login(page, pw.purchaser.username)
    page.goto(f"/evaluations/{pw.evaluation.id}/scoring")
    expect(page.locator("form[action$='/reopen-request'] input[name=reason]")).to_be_visible()
    outside = page.evaluate("""() => [...document.querySelectorAll('.table-wrap')].flatMap(w => {
        const edge = w.getBoundingClientRect().right;
        return [...w.querySelectorAll('input:not([type=hidden]), button')]
            .filter(e => e.getBoundingClientRect().right > edge + 0.5)
            .map(e => (e.name || e.textContent) + ' ' + Math.round(e.getBoundingClientRect().right
                       - edge) + 'px');
    })""")
    assert outside == [], f"at {viewport['width']} px wide: {outside}"


def test_a_refused_submission_outlines_only_the_field_at_fault_and_n_a_keeps_the_entry(
        page, db, make_user, make_org):
    """After a refused submission only the faulty field is outlined in red; the evidence box
    spans the sheet's width; ticking 不适用 and reloading keeps the points and the reason."""
    pw = panel_world(db, make_user, make_org, pool_size=4, seats=3, alternates=0)
    browser_login(page, pw.user_of(db, pw.seated(db)[0]).username)
    page.goto(f"/evaluations/{pw.evaluation.id}")
    page.get_by_test_id("start-expert").click()
    page.wait_for_url("**/sheets/*")
    sheet_url = page.url
    # a new sheet: the evidence box is as wide as the sheet, not half of it
    form_box = page.locator("#sheet-form").bounding_box()
    evidence_box = page.locator("#attach-evidence").bounding_box()
    assert abs(evidence_box["width"] - form_box["width"]) <= 2, (evidence_box, form_box)

    page.fill('[name="value-C1.3"]', "12")
    page.fill('[name="reason-C1.3"]', "一处满溢")
    page.check('[name="na-C1.3"]')
    page.fill('[name="na_reason-C1.3"]', "本期未设收集点")
    page.press('[name="na_reason-C1.3"]', "Tab")
    expect(page.get_by_test_id("draft-status")).to_contain_text("草稿已于")
    expect(page.get_by_test_id("sheet-subtotal")).to_contain_text("1 项不适用")
    page.goto(sheet_url)  # the draft as stored
    assert page.is_checked('[name="na-C1.3"]')
    assert page.input_value('[name="value-C1.3"]') == "12"
    assert page.input_value('[name="reason-C1.3"]') == "一处满溢"
    page.uncheck('[name="na-C1.3"]')

    page.select_option('[name="value-C1.2"]', "达成")
    page.fill('[name="value-C2.2"]', "25")  # above the maximum 20
    page.fill('[name="reason-C2.2"]', "预案未演练")
    answering_yes(page).get_by_test_id("submit-sheet").click()
    page.wait_for_load_state()
    expect(page.locator("#sheet-errors")).to_be_visible()
    leaf = page.get_by_test_id("leaf-C2.2")
    red = leaf.locator('[name="value-C2.2"]').evaluate("e => getComputedStyle(e).borderTopColor")
    for name in ("reason-C2.2", "na_reason-C2.2"):
        colour = leaf.locator(f'[name="{name}"]').evaluate(
            "e => getComputedStyle(e).borderTopColor")
        assert colour != red, name
    field = leaf.locator('[name="value-C2.2"]')
    assert field.get_attribute("aria-invalid") == "true"
    error = leaf.locator("p.error")
    expect(error).to_have_text("得分必须在 0 到满分 20 之间。")
    assert error.get_attribute("id") in field.get_attribute("aria-describedby").split()


def test_a_colleagues_newer_version_is_never_overwritten_and_nothing_typed_is_lost(
        page, db, make_user, make_org):
    """Two purchasers of one department fill the department's quarter: while one types, the
    other saves. Saving as one types is refused from then on, saying who saved and when, and
    overwrites nothing; 保存草稿 shows the page again with what was typed, the colleague's entry
    beside each indicator where they differ, and saving once more keeps one's own entries."""
    from evalplatform.services import scoresheets
    from tests.test_scoresheets_world import principal

    pw = panel_world(db, make_user, make_org, pool_size=3, seats=3, alternates=0)
    colleague = principal(db, make_user("purchaser", organisation=pw.world.department,
                                        display_name="王芳"))
    sheet = scoresheets.start(db, principal(db, pw.purchaser), pw.evaluation.id, "A", "occasion",
                              "2026 第一季度")
    browser_login(page, pw.purchaser.username)
    page.goto(f"/evaluations/{pw.evaluation.id}/sheets/{sheet.id}")
    sheet_url = page.url
    loaded = page.input_value("#sheet-version")
    scoresheets.save_draft(db, colleague, pw.evaluation.id, sheet.id,
                           {"value-A2.1": "达成", "value-A2.2": "8", "reason-A2.2": "一次未配备防护"})
    theirs = {"A2.1": {"tier": "达成"}, "A2.2": {"points": "8", "reason": "一次未配备防护"}}

    page.select_option('[name="value-A2.1"]', "达成")
    page.fill('[name="value-A2.2"]', "6")
    page.fill('[name="reason-A2.2"]', "两次未配备防护")
    page.press('[name="reason-A2.2"]', "Tab")
    expect(page.get_by_test_id("draft-status")).to_contain_text("王芳")
    assert page.input_value("#sheet-version") == loaded  # the next keystroke is refused too
    page.fill('[name="reason-A2.2"]', "两次未配备防护用品")
    page.press('[name="reason-A2.2"]', "Tab")
    page.wait_for_timeout(1500)
    expect(page.get_by_test_id("draft-status")).to_contain_text("王芳")
    db.expire_all()
    assert db.get(Scoresheet, sheet.id).scores == theirs

    page.locator("#sheet-form .actions button:not(.primary)").click()  # 保存草稿
    page.wait_for_load_state()
    expect(page.get_by_test_id("sheet-conflict")).to_contain_text("王芳")
    expect(page.get_by_test_id("stored-A2.2")).to_contain_text("一次未配备防护")
    expect(page.get_by_test_id("stored-A2.1")).to_have_count(0)
    assert page.input_value('[name="value-A2.2"]') == "6"
    assert page.input_value('[name="reason-A2.2"]') == "两次未配备防护用品"
    assert page.input_value("#sheet-version") != loaded
    # saving as one types waits for the choice
    page.fill('[name="value-A2.2"]', "7")
    page.press('[name="value-A2.2"]', "Tab")
    page.wait_for_timeout(1500)
    db.expire_all()
    assert db.get(Scoresheet, sheet.id).scores == theirs
    page.locator("#sheet-form .actions button:not(.primary)").click()  # keep mine
    page.wait_for_url(sheet_url)
    expect(page.get_by_test_id("sheet-conflict")).to_have_count(0)
    assert page.input_value('[name="value-A2.2"]') == "7"
    db.expire_all()
    assert db.get(Scoresheet, sheet.id).scores["A2.2"] == {"points": "7",
                                                             "reason": "两次未配备防护用品"}
