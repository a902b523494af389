"""In a real Chromium on a 375 px phone: a respondent opens an invitation link, reads the
notice, answers, loses the connection, resumes and sends; the same code again is refused
kindly; the page passes an axe-core check; it works without JavaScript too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import func, select

from evalplatform.models import SurveyResponse
from evalplatform.services import surveys_app as app_service
from surveys import invitations
from tests.builders import contracted_world
from tests.conftest import browser_login
from tests.survey_helpers import evaluation_with_survey, open_survey_codes

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


def stored(db) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(SurveyResponse)).one()


@pytest.fixture
def code(db, make_user, make_org):
    return open_survey_codes(db, make_user, make_org, 2)[0]


@pytest.fixture
def phone(browser, live_server):
    contexts = []

    def open_phone(**options):
        context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server,
                                      has_touch=True, is_mobile=True, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_phone
    for context in contexts:
        context.close()


def choose(page, question: str, option_text: str) -> None:
    page.locator(f"#q-{question} label", has_text=re.compile(f"^{option_text}$")).click()


def test_a_respondent_answers_on_a_phone_through_a_lost_connection(db, code, phone):
    page = phone()
    second_tab = phone()
    page.goto(f"/s/{code}")
    second_tab.goto(f"/s/{code}")  # the same link opened twice (e.g. from WeChat and SMS)
    notice = page.locator("#notice")
    assert "我们收集什么" in notice.inner_text()
    assert notice.bounding_box()["y"] < page.locator("#q-Q1").bounding_box()["y"]
    page.click("#start")
    choose(page, "Q1", "满意")
    choose(page, "Q2", "较满意")
    assert page.locator("#progress").inner_text() == "已回答 2 题，共 7 题"
    label_box = page.locator("#q-Q1 label").first.bounding_box()
    assert label_box["height"] >= 48  # a large touch target
    # the connection drops: sending is held back and nothing is lost
    page.context.set_offline(True)
    page.click("#submit")
    assert "没有网络连接" in page.locator("#status").inner_text()
    assert stored(db) == 0
    page.context.set_offline(False)
    page.reload()
    assert page.locator("#q-Q1 input[value=satisfied]").is_checked()
    assert page.locator("#q-Q2 input[value=fairly_satisfied]").is_checked()
    assert "已恢复" in page.locator("#status").inner_text()
    choose(page, "Q3", "一般")
    choose(page, "Q4", "否")
    choose(page, "Q5", r"早上（6–9 点）")
    page.fill("#f-Q7", "早上扫地有点吵")
    page.click("#submit")
    page.wait_for_url(f"**/s/{code}/done")
    assert "感谢" in page.locator("h1").inner_text()
    assert page.evaluate(f"localStorage.getItem('evalplatform-survey:code:{code}')") is None
    assert stored(db) == 1
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    # the second tab sends the same code again: refused kindly, nothing more stored
    for question, text in [("Q1", "满意"), ("Q2", "满意"), ("Q3", "满意"), ("Q4", "是")]:
        choose(second_tab, question, text)
    choose(second_tab, "Q5", r"白天（9–17 点）")
    second_tab.click("#submit")
    second_tab.wait_for_load_state()
    assert "已经使用过" in second_tab.locator("main").inner_text()
    assert stored(db) == 1


def test_a_missing_answer_is_announced_and_focused(db, code, phone):
    page = phone()
    page.goto(f"/s/{code}")
    choose(page, "Q1", "满意")
    page.click("#submit")
    page.wait_for_load_state()
    alert = page.locator("#form-errors")
    assert alert.get_attribute("role") == "alert"
    assert page.locator("#e-Q2").inner_text() == "请回答此题。"
    focused = page.evaluate("document.activeElement.name")
    assert focused == "Q2"  # the first unanswered question has the focus
    assert stored(db) == 0


def test_the_alert_names_each_unanswered_question_and_keeps_what_was_chosen(db, code, phone):
    page = phone(java_script_enabled=False)  # the summary alone must say where to look
    page.goto(f"/s/{code}")
    choose(page, "Q1", "满意")
    choose(page, "Q3", "一般")
    page.fill("#f-Q7", "早上扫地有点吵")
    page.click("#submit")
    page.wait_for_load_state()
    named = page.locator("#form-errors li").all_inner_texts()
    assert named == ["第 2 题：您对道路路面的整洁程度满意吗？",
                     "第 4 题：最近一个月，您是否见过垃圾满溢、没有及时清运的情况？",
                     "第 5 题：您通常在什么时段经过这些道路？"]
    link = page.locator("#form-errors a").first
    assert link.get_attribute("href") == "#q-Q2"
    assert link.bounding_box()["height"] >= 40  # a thumb-sized link to the question
    assert page.locator("#q-Q1 input[value=satisfied]").is_checked()
    assert page.locator("#q-Q3 input[value=neutral]").is_checked()
    assert page.input_value("#f-Q7") == "早上扫地有点吵"
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert stored(db) == 0


def test_a_mistyped_code_gives_the_box_back_to_correct_it(db, code, phone):
    page = phone()
    page.goto("/s")
    wrong = ("B" if code[0] != "B" else "C") + code[1:]  # one letter misread from the slip
    page.fill("#f-code", wrong.lower())
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "找不到这个邀请码" in page.locator("#e-code").inner_text()
    assert page.input_value("#f-code") == f"{wrong[:4]}-{wrong[4:]}"  # what was typed, kept
    assert page.locator("#f-code").get_attribute("aria-invalid") == "true"
    page.fill("#f-code", code)
    page.click("main button[type=submit]")
    page.wait_for_url(f"**/s/{code}")
    assert page.locator("#survey-form").count() == 1
    assert not invitations.find(db, code).used


def test_an_open_link_notice_speaks_of_no_invitation_code(db, make_user, make_org, phone):
    world = contracted_world(db, make_user, make_org)
    evaluation = evaluation_with_survey(db, world)
    site = app_service.add_site(db, world.purchaser_principal, evaluation.id, "人民广场服务亭", "2")
    page = phone()
    page.goto(f"/o/{site.token}")
    notice = page.locator("#notice").inner_text()
    assert "匿名" in notice and "不足 5 份" in notice
    assert "邀请码" not in notice  # a resident at a service site was given none
    assert page.locator(".r-site").inner_text() == "服务点：人民广场服务亭"


def _serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(n["target"]) for n in v["nodes"][:5])
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_the_respondent_pages_pass_an_axe_check(db, code, phone):
    page = phone(bypass_csp=True)  # axe is injected as a script for the check only
    page.goto(f"/s/{code}")
    assert _serious_violations(page) == []
    choose(page, "Q1", "满意")
    page.click("#submit")  # the page with errors shown
    page.wait_for_load_state()
    assert _serious_violations(page) == []
    page.goto("/s")
    assert _serious_violations(page) == []


def test_the_printable_slips_pass_an_axe_check_with_a_used_code_still_readable(
        db, make_user, make_org, browser, live_server):
    """A used code's slip is marked (its QR faded, "used" written) but its text keeps 4.5:1:
    the whole slip was once faded to 45 %, grey on white."""
    world = contracted_world(db, make_user, make_org)
    evaluation = evaluation_with_survey(db, world)
    batch = app_service.issue_invitations(db, world.purchaser_principal, evaluation.id, "3", "")
    used = invitations.codes_of(db, batch.id)[0]
    assert invitations.use(db, used.id)
    db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  base_url=live_server, bypass_csp=True)
    page = context.new_page()
    browser_login(page, world.purchaser.username)
    page.goto(f"/evaluations/{evaluation.id}/survey/invitations/{batch.id}/sheet")
    assert page.locator("article.slip.used").count() == 1 and page.locator("article.slip").count() == 3
    violations = _serious_violations(page)
    page.emulate_media(media="print")
    qr_mm = _qr_sizes_mm(page)
    context.close()
    assert violations == []
    assert qr_mm == [(30.0, 30.0)] * 3  # the whole code fills its 30 mm box on paper


def _qr_sizes_mm(page) -> list[tuple[float, float]]:
    """Each QR code's width on the page and the width its drawing takes, in millimetres."""
    sizes = page.evaluate("""Array.from(document.querySelectorAll('svg.segno'), svg => {
        const box = svg.getBoundingClientRect().width;
        const drawn = svg.viewBox.baseVal.width * svg.getScreenCTM().a;
        return [box, drawn].map(px => Math.round(px * 25.4 / 96 * 10) / 10);
    })""")
    return [tuple(size) for size in sizes]


def test_a_site_poster_fits_a_phone_and_prints_its_code_110_mm_wide(db, make_user, make_org,
                                                                    browser, live_server):
    """The poster of an open link is checked on a phone before it is printed: the code is
    centred and nothing runs off the screen; on A4 the code is 110 mm, drawn to the edge."""
    world = contracted_world(db, make_user, make_org)
    evaluation = evaluation_with_survey(db, world)
    site = app_service.add_site(db, world.purchaser_principal, evaluation.id, "人民广场服务亭", "2")
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server)
    page = context.new_page()
    browser_login(page, world.purchaser.username)
    page.goto(f"/evaluations/{evaluation.id}/survey/sites/{site.id}/poster")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    box = page.locator("svg.segno").bounding_box()
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 718, "height": 1047})  # A4 less the 10 mm margins
    qr_mm = _qr_sizes_mm(page)
    context.close()
    assert overflow <= 0
    assert box["width"] <= PHONE["width"]
    assert abs(box["x"] + box["width"] / 2 - PHONE["width"] / 2) <= 1  # centred
    assert qr_mm == [(110.0, 110.0)]


def test_the_respondent_page_works_without_javascript(db, code, phone):
    page = phone(java_script_enabled=False)
    page.goto(f"/s/{code}")
    page.click("#start")
    for question, text in [("Q1", "满意"), ("Q2", "一般"), ("Q3", "不满意"), ("Q4", "是")]:
        choose(page, question, text)
    choose(page, "Q5", r"傍晚和夜间")
    page.click("#submit")
    page.wait_for_url(f"**/s/{code}/done")
    assert "感谢" in page.locator("main").inner_text()
    assert stored(db) == 1
    db.expire_all()
    answers = db.exec(select(SurveyResponse)).one().answers
    assert answers["Q3"] == "dissatisfied" and answers["Q5"] == "evening"


def test_switching_language_without_javascript_keeps_the_answers_and_uses_nothing(db, code,
                                                                                  phone):
    page = phone(java_script_enabled=False)
    page.goto(f"/s/{code}")
    choose(page, "Q1", "满意")
    choose(page, "Q2", "一般")
    choose(page, "Q4", "否")
    page.fill("#f-Q7", "路灯下面没扫干净")
    page.click("#lang-en")  # a button of the questionnaire's own form
    page.wait_for_load_state()
    assert page.url.endswith(f"/s/{code}")  # redirected after the POST: a reload resends nothing
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Before you start" in page.locator("#notice").inner_text()
    assert page.locator("#lang-en").get_attribute("aria-pressed") == "true"
    assert page.locator("#q-Q1 input[value=satisfied]").is_checked()
    assert page.locator("#q-Q2 input[value=neutral]").is_checked()
    assert page.locator("#q-Q4 input[value=no]").is_checked()
    assert page.input_value("#f-Q7") == "路灯下面没扫干净"
    assert page.locator("#form-errors").count() == 0  # nothing was sent for checking
    assert stored(db) == 0 and not invitations.find(db, code).used
    page.click("#lang-zh_CN")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("#q-Q2 input[value=neutral]").is_checked()
    assert stored(db) == 0
    db.expire_all()
    assert not invitations.find(db, code).used
    choose(page, "Q3", "不满意")
    choose(page, "Q5", r"早上（6–9 点）")
    page.click("#submit")
    page.wait_for_url(f"**/s/{code}/done")
    assert stored(db) == 1
    answers = db.exec(select(SurveyResponse)).one().answers
    assert answers == {"Q1": "satisfied", "Q2": "neutral", "Q3": "dissatisfied", "Q4": "no",
                       "Q5": "morning", "Q7": "路灯下面没扫干净"}


def _outside(page) -> list[str]:
    """The texts of the page that run past the right edge of the screen (text overflowing
    its box leaves the box's own edges inside)."""
    return page.evaluate("""() => { const width = document.documentElement.clientWidth;
        const walker = document.createTreeWalker(document.querySelector('main'),
                                                 NodeFilter.SHOW_TEXT);
        const out = [];
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const range = document.createRange();
          range.selectNodeContents(node);
          const box = range.getBoundingClientRect();
          const hidden = node.parentElement.closest('.visually-hidden, .r-hp');  // clipped
          if (box.width && box.right > width + 1 && !hidden) out.push(node.textContent.slice(0, 40));
        }
        return out; }""")


def test_a_long_web_address_wraps_on_a_320_px_phone_and_a_rating_keeps_10_whole(
        db, make_user, make_org, phone):
    """A service site named by a long address (as an introduction or a label may hold one)
    ran off a 320 px screen, its end unreadable; it wraps. At 200 % text the rating's "10"
    stays on one line (it is not broken into "1" and "0")."""
    world = contracted_world(db, make_user, make_org)
    evaluation = evaluation_with_survey(db, world, template="elderly_care")
    name = "https://www.linjiang.gov.cn/zwgk/ggfw/2026/" + "x" * 50
    site = app_service.add_site(db, world.purchaser_principal, evaluation.id, name, "2")
    page = phone()
    page.set_viewport_size({"width": 320, "height": 740})
    page.goto(f"/o/{site.token}")
    assert page.locator(".r-site").inner_text().endswith("x" * 50)
    assert _outside(page) == []
    page.add_style_tag(content="html.respondent-page { font-size: 40px !important; }")
    ten, nine = page.locator("label[for=f-Q7-11]"), page.locator("label[for=f-Q7-10]")
    assert (ten.inner_text(), nine.inner_text()) == ("10", "9")  # Q7: the 0–10 rating
    assert ten.bounding_box()["height"] == nine.bounding_box()["height"]  # "10": one line
    assert _outside(page) == []


def test_typing_an_answer_does_not_make_the_progress_be_read_again(db, code, phone):
    """The progress line is a live region: rewritten at every key, a screen reader read
    "1 of 7 questions answered" again and again while one typed a comment."""
    page = phone()
    page.goto(f"/s/{code}")
    choose(page, "Q1", "满意")
    page.evaluate("""() => { window.progressChanges = 0;
        new MutationObserver(m => { window.progressChanges += m.length; })
          .observe(document.getElementById('progress'),
                   {childList: true, characterData: true, subtree: true}); }""")
    page.locator("#f-Q7").press_sequentially("路灯下面没扫干净")
    page.wait_for_timeout(100)
    assert page.evaluate("window.progressChanges") == 1  # once: the comment counts as answered
    assert page.locator("#progress").inner_text() == "已回答 2 题，共 7 题"


def test_closing_the_survey_asks_first(db, make_user, make_org, browser, live_server):
    """Closing cannot be undone (a closed survey never opens again): one stray click closed
    it. The browser now asks; "cancel" leaves it open."""
    world = contracted_world(db, make_user, make_org)
    evaluation = evaluation_with_survey(db, world)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  base_url=live_server)
    page = context.new_page()
    browser_login(page, world.purchaser.username)
    page.goto(f"/evaluations/{evaluation.id}/survey")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.click("#close-survey")
    page.wait_for_timeout(500)
    db.expire_all()
    survey = app_service.survey_of(db, evaluation)
    assert asked == ["confirm"] and survey.closed_at is None
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#close-survey")
    page.wait_for_selector("[data-testid=survey-state].off")
    context.close()
    db.expire_all()
    assert app_service.survey_of(db, evaluation).closed_at is not None


def test_a_long_written_answer_wraps_on_the_results_page(db, make_user, make_org, browser,
                                                          live_server):
    """One written answer of 900 letters without a space (a held-down key, a web address)
    made the whole results page 7000 px wide, on a desk and on a phone."""
    from tests.survey_helpers import STREET_ANSWERS, form

    world = contracted_world(db, make_user, make_org)
    evaluation = evaluation_with_survey(db, world)
    batch = app_service.issue_invitations(db, world.purchaser_principal, evaluation.id, "5", "")
    for n, invitation in enumerate(invitations.codes_of(db, batch.id)):
        text = "https://example.com/" + "a" * 900 if n == 0 else "环卫工人辛苦了"
        app_service.submit_with_code(db, invitation.code, form(**STREET_ANSWERS, Q7=text), None)
    for viewport in ({"width": 1280, "height": 900}, PHONE):
        context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=live_server)
        page = context.new_page()
        browser_login(page, world.purchaser.username)
        page.goto(f"/evaluations/{evaluation.id}/survey/results")
        assert page.locator("#result-Q7 .texts li").count() == 5
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        context.close()
        assert overflow <= 0, viewport


def test_a_comment_in_uyghur_reads_right_to_left_where_typed_and_where_read(
        db, make_user, make_org, browser, live_server):
    """A resident writing in Uyghur (Arabic script, right to left) saw the text box lay it
    out left to right, its "!" at the wrong end; so did the results page that lists it."""
    from tests.survey_helpers import STREET_ANSWERS, form

    world = contracted_world(db, make_user, make_org)
    evaluation = evaluation_with_survey(db, world)
    codes = [i.code for i in invitations.codes_of(db, app_service.issue_invitations(
        db, world.purchaser_principal, evaluation.id, "5", "").id)]
    comment = "مۇلازىمەت ياخشى!"
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server,
                                  has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(f"/s/{codes[0]}")
    page.fill("#f-Q7", comment)
    typed_rtl = page.evaluate("document.getElementById('f-Q7').matches(':dir(rtl)')")
    page.fill("#f-Q7", "路灯下面没扫干净")
    chinese_ltr = page.evaluate("document.getElementById('f-Q7').matches(':dir(ltr)')")
    context.close()
    assert typed_rtl and chinese_ltr
    for n, code in enumerate(codes):
        app_service.submit_with_code(db, code, form(**STREET_ANSWERS,
                                                    Q7=comment if n == 0 else "很好"), None)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  base_url=live_server)
    page = context.new_page()
    browser_login(page, world.purchaser.username)
    page.goto(f"/evaluations/{evaluation.id}/survey/results")
    directions = page.locator("#result-Q7 .texts li").evaluate_all(
        "items => items.map(li => [li.textContent, li.matches(':dir(rtl)')])")
    context.close()
    assert [comment, True] in directions and ["很好", False] in directions


def test_a_shared_device_at_a_service_site_passes_nothing_to_the_next_resident(
        db, make_user, make_org, phone):
    """A tablet at the counter: a draft is restored only if it is minutes old (the resident's
    own lost connection), not one left unfinished long ago by someone else; the next resident
    can clear the page; Back after sending brings a fresh, empty form, never the answers just
    sent to send again."""
    world = contracted_world(db, make_user, make_org)
    evaluation = evaluation_with_survey(db, world)
    site = app_service.add_site(db, world.purchaser_principal, evaluation.id, "人民广场服务亭", "20")
    key = f"evalplatform-survey:site:{site.token}"
    page = phone()
    page.goto(f"/o/{site.token}")
    choose(page, "Q1", "不满意")
    page.fill("#f-Q7", "我家住在3栋")
    page.reload()  # a moment later (a lost connection): the resident's own answers come back
    assert page.locator("#q-Q1 input[value=dissatisfied]").is_checked()
    assert "已恢复" in page.locator("#status").inner_text()
    # left unfinished; the next resident comes an hour later
    page.evaluate(f"localStorage.setItem('{key}:at', String(Date.now() - 3600 * 1000))")
    page.reload()
    assert not page.locator("#q-Q1 input[value=dissatisfied]").is_checked()
    assert page.locator("#f-Q7").input_value() == ""
    assert page.evaluate(f"localStorage.getItem('{key}')") is None
    # the next resident finds answers on the page: one tap clears them (after asking)
    choose(page, "Q1", "一般")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#start-again")
    assert not page.locator("#q-Q1 input[value=neutral]").is_checked()
    assert page.evaluate(f"localStorage.getItem('{key}')") is None
    # a complete answer, sent; then Back
    for question, text in [("Q1", "满意"), ("Q2", "满意"), ("Q3", "满意"), ("Q4", "是")]:
        choose(page, question, text)
    choose(page, "Q5", r"白天（9–17 点）")
    page.click("#submit")
    page.wait_for_url(f"**/o/{site.token}/done")
    assert stored(db) == 1
    response = page.go_back()
    assert response is not None and response.headers["cache-control"] == "no-store"
    assert page.locator("#survey-form").get_attribute("autocomplete") == "off"
    assert page.locator("#survey-form input[type=radio]:checked").count() == 0
    page.click("#submit")  # nothing chosen: refused, nothing stored twice
    assert stored(db) == 1
