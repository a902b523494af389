"""The survey's pages: the organiser's, the respondent's (no account), access by role."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlmodel import func, select

from evalplatform.models import Invitation, SurveyResponse
from evalplatform.services import surveys_app as app_service
from surveys import invitations
from surveys import questionnaire as qn
from tests.builders import contracted_world, schedule
from tests.conftest import csrf_from, login
from tests.survey_helpers import STREET_ANSWERS, evaluation_with_survey, window


@pytest.fixture
def world(db, make_user, make_org):
    return contracted_world(db, make_user, make_org)


def stored(db) -> int:
    return db.exec(select(func.count()).select_from(SurveyResponse)).one()


def issue(db, world, evaluation, n=2) -> list[str]:
    batch = app_service.issue_invitations(db, world.purchaser_principal, evaluation.id, str(n), "")
    return [i.code for i in invitations.codes_of(db, batch.id)]


def sign_in(client, user):
    client.cookies.clear()
    assert login(client, user.username).status_code == 303


def test_the_organiser_prepares_opens_and_reads_the_survey_through_its_pages(client, db, world):
    evaluation = schedule(db, world, **window())
    sign_in(client, world.purchaser)
    base = f"/evaluations/{evaluation.id}/survey"
    page = client.get(f"/evaluations/{evaluation.id}").text
    assert "满意度调查" in page and f'href="{base}"' in page  # the evaluation page's panel
    home = client.get(base).text
    assert 'value="street_cleaning" checked' in home  # suggested by the scheme's service area
    token = csrf_from(client, base)
    response = client.post(base, data={"template": "street_cleaning", "csrf_token": token})
    assert response.headers["location"] == f"{base}/questionnaire"
    editor = client.get(f"{base}/questionnaire").text
    assert "道路整洁程度评价" in editor and "Q3" in editor
    # an htmx edit with a missing Chinese text is refused in place, in Chinese
    refused = client.post(f"{base}/questionnaire/questions/Q7",
                          data={"label_zh": "", "label_en": "Comments"},
                          headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert refused.status_code == 422 and "中文" in refused.text
    added = client.post(f"{base}/questionnaire/questions", data={"type": "rating"},
                        headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert added.status_code == 200 and "Q8" in added.text
    # a new question keeps the survey from opening until its text is written
    assert "新题目的占位文字" in added.text
    written = client.post(f"{base}/questionnaire/questions/Q8",
                          data={"label_zh": "您向亲友推荐这项服务的可能性有多大？",
                                "label_en": "How likely are you to recommend it?"},
                          headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert written.status_code == 200 and "新题目的占位文字" not in written.text
    preview = client.get(f"{base}/preview").text
    assert "预览" in preview and "您对道路路面的整洁程度满意吗" in preview
    assert "我们收集什么" in preview  # the privacy notice comes first
    assert preview.index("r-notice") < preview.index('id="q-Q1"')
    assert client.post(f"{base}/open", data={"csrf_token": token}).status_code == 303
    db.expire_all()
    assert app_service.state(app_service.survey_of(db, evaluation), evaluation) == "open"
    client.post(f"{base}/invitations", data={"size": "12", "label": "一号楼", "csrf_token": token})
    batch_id = re.search(r"/invitations/(\d+)/sheet", client.get(base).text).group(1)
    sheet = client.get(f"{base}/invitations/{batch_id}/sheet").text
    assert sheet.count('<article class="slip') == 12 and sheet.count("<svg") == 12
    code = db.exec(select(Invitation.code)).first()
    assert invitations.display(code) in sheet and "http://testserver/s" in sheet
    client.post(f"{base}/sites", data={"name": "幸福社区服务站", "device_limit": "1",
                                       "csrf_token": token})
    home = client.get(base).text
    site_id = re.search(r"/sites/(\d+)/poster", home).group(1)
    assert re.search(r"<code[^>]*>http://testserver/o/[\w-]+</code>", home)  # whole, to send
    poster = client.get(f"{base}/sites/{site_id}/poster").text
    assert "幸福社区服务站" in poster and "<svg" in poster and "/o/" in poster
    results = client.get(f"{base}/results")
    assert results.status_code == 200 and "满意率" in results.text


def test_a_large_batch_of_slips_prints_in_parts_each_with_its_own_codes(
        client, db, world, monkeypatch):
    """Thousands of slips are not one page of thousands of QR codes: the sheet prints in
    parts, says which slips each holds, and every code is on exactly one part."""
    monkeypatch.setattr(app_service, "SLIPS_PER_PART", 5)
    evaluation = evaluation_with_survey(db, world)
    batch = app_service.issue_invitations(db, world.purchaser_principal, evaluation.id, "12", "")
    codes = [invitations.display(i.code) for i in invitations.codes_of(db, batch.id)]
    sign_in(client, world.purchaser)
    sheet = f"/evaluations/{evaluation.id}/survey/invitations/{batch.id}/sheet"
    printed = []
    for part, count in ((1, 5), (2, 5), (3, 2)):
        page = client.get(f"{sheet}?part={part}").text
        assert page.count('<article class="slip') == count and page.count("<svg") == count
        assert "共 3 部分" in page or "3 parts" in page
        printed += re.findall(r'data-code="([^"]+)"', page)
    assert printed == codes
    last = client.get(f"{sheet}?part=99").text  # past the end: the last part
    assert re.findall(r'data-code="([^"]+)"', last) == codes[10:]
    assert 'href="?part=1"' in last and "第 11–12 张" in last


def test_a_refused_number_of_codes_or_site_comes_back_named_with_what_was_typed(
        client, db, world):
    evaluation = evaluation_with_survey(db, world)
    sign_in(client, world.purchaser)
    base = f"/evaluations/{evaluation.id}/survey"
    token = csrf_from(client, base)
    refused = client.post(f"{base}/invitations",
                          data={"size": "3000", "label": "二号楼", "csrf_token": token})
    assert refused.status_code == 422
    assert 'id="e-size"' in refused.text and "2000" in refused.text
    assert 'value="3000"' in refused.text and 'value="二号楼"' in refused.text
    refused = client.post(f"{base}/sites", data={"name": "幸福社区服务站", "device_limit": "0",
                                                 "csrf_token": token})
    assert refused.status_code == 422 and 'id="e-device_limit"' in refused.text
    assert 'value="幸福社区服务站"' in refused.text and 'aria-invalid="true"' in refused.text
    assert app_service.batches(db, app_service.survey_of(db, evaluation)) == []
    assert app_service.sites(db, app_service.survey_of(db, evaluation)) == []


def test_a_respondent_answers_with_a_code_once_and_is_thanked(client, db, world):
    evaluation = evaluation_with_survey(db, world)
    code = issue(db, world, evaluation, 1)[0]
    page = client.get(f"/s/{code}")  # opening the link uses nothing up
    assert page.status_code == 200 and not db.exec(select(Invitation)).one().used
    assert "隐私" in page.text and "匿名" in page.text
    assert 'lang="zh-CN"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    shown = app_service.current(db, app_service.survey_of(db, evaluation)).id
    assert f'name="version_id" value="{shown}"' in page.text  # the version the page shows
    partial = {k: v for k, v in STREET_ANSWERS.items() if k != "Q2"}
    refused = client.post(f"/s/{code}", data={**partial, "csrf_token": token,
                                              "version_id": str(shown)})
    assert refused.status_code == 422
    assert "请回答此题" in refused.text and 'id="e-Q2"' in refused.text
    assert f'name="version_id" value="{shown}"' in refused.text
    assert re.search(r'name="Q1" value="satisfied"\s+checked', refused.text)  # what was given is kept
    assert stored(db) == 0
    done = client.post(f"/s/{code}", data={**STREET_ANSWERS, "csrf_token": token,
                                           "version_id": str(shown)})
    assert done.status_code == 303 and done.headers["location"] == f"/s/{code}/done"
    thanks = client.get(done.headers["location"]).text
    assert "感谢" in thanks and f'data-clear-store="code:{code}"' in thanks
    again = client.post(f"/s/{code}", data={**STREET_ANSWERS, "csrf_token": token})
    assert again.status_code == 409 and "已经使用" in again.text
    assert stored(db) == 1
    assert "已经使用" in client.get(f"/s/{code}").text


def test_the_code_entry_page_reads_a_typed_code(client, db, world):
    evaluation = evaluation_with_survey(db, world)
    code = issue(db, world, evaluation, 1)[0]
    typed = f"{code[:4].lower()} {code[4:]}"
    response = client.get("/s", params={"code": typed})
    assert response.headers["location"] == f"/s/{code}"
    bad = client.get("/s", params={"code": "12"})
    assert bad.status_code == 422 and "8 位" in bad.text
    empty = client.get("/s", params={"code": "  "})  # 继续 tapped with the box empty
    assert empty.status_code == 422 and 'id="e-code"' in empty.text and "请输入" in empty.text
    assert 'id="e-code"' not in client.get("/s").text  # the first visit shows no error
    unknown = client.get("/s/ABCDEFGH")
    assert unknown.status_code == 404 and "找不到" in unknown.text


def test_a_survey_that_is_not_open_says_so_politely(client, db, world):
    evaluation = evaluation_with_survey(db, world, when=window(-3, 30))
    code = issue(db, world, evaluation, 1)[0]
    page = client.get(f"/s/{code}").text
    assert "尚未开始" in page and "谢谢" in page
    assert 'id="survey-form"' not in page


def test_an_open_link_sets_a_device_cookie_and_a_double_submit_stores_once(client, db, world):
    evaluation = evaluation_with_survey(db, world)
    site = app_service.add_site(db, world.purchaser_principal, evaluation.id, "服务站", "2")
    page = client.get(f"/o/{site.token}")
    assert "sv_device" in page.headers.get("set-cookie", "")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    key = re.search(r'name="submission_key" value="([0-9a-f]{32})"', page.text).group(1)
    data = {**STREET_ANSWERS, "csrf_token": token, "submission_key": key, "website": ""}
    first = client.post(f"/o/{site.token}", data=data)
    second = client.post(f"/o/{site.token}", data=data)  # a double tap
    assert first.status_code == second.status_code == 303
    assert stored(db) == 1
    bot = client.post(f"/o/{site.token}", data={**data, "submission_key": "0" * 32,
                                                "website": "http://spam.example"})
    assert bot.status_code == 303 and stored(db) == 1


def test_a_phone_that_used_up_its_answers_at_a_site_is_told_before_filling_the_form(
        client, db, world):
    evaluation = evaluation_with_survey(db, world)
    site = app_service.add_site(db, world.purchaser_principal, evaluation.id, "服务站", "1")
    page = client.get(f"/o/{site.token}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    key = re.search(r'name="submission_key" value="([0-9a-f]{32})"', page).group(1)
    done = client.post(f"/o/{site.token}", data={**STREET_ANSWERS, "csrf_token": token,
                                                 "submission_key": key, "website": ""})
    assert done.status_code == 303 and stored(db) == 1
    again = client.get(f"/o/{site.token}").text  # the same phone (its cookie) opens it again
    assert "这部手机已在本服务点填写过问卷" in again and 'id="survey-form"' not in again
    switched = client.post(f"/o/{site.token}/language", data={"language": "en",
                                                              "csrf_token": token},
                           follow_redirects=True)
    assert "This phone has already answered" in switched.text
    assert 'id="survey-form"' not in switched.text
    client.cookies.delete("sv_device")  # another phone still gets the form
    assert 'id="survey-form"' in client.get(f"/o/{site.token}").text


def test_english_on_request_for_the_respondent(client, db, world):
    evaluation = evaluation_with_survey(db, world)
    code = issue(db, world, evaluation, 1)[0]
    token = csrf_from(client, f"/s/{code}")
    client.post("/language", data={"language": "en", "next": f"/s/{code}", "csrf_token": token})
    page = client.get(f"/s/{code}").text
    assert '<html lang="en"' in page
    assert "How satisfied are you with how clean the road surfaces are?" in page
    assert "Send my answers" in page


def test_the_language_buttons_send_the_questionnaire_back_with_its_answers(client, db, world):
    """Without JavaScript the language buttons belong to the questionnaire's form: the page
    comes back in the other language with the answers kept; nothing stored, nothing used."""
    evaluation = evaluation_with_survey(db, world)
    code = issue(db, world, evaluation, 1)[0]
    page = client.get(f"/s/{code}").text
    assert re.search(rf'form="survey-form" formaction="/s/{code}/language"[^>]*value="en"', page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    half = {"Q1": "satisfied", "Q3": "neutral", "Q7": "清扫车太早"}
    switched = client.post(f"/s/{code}/language", data={**half, "language": "en",
                                                         "csrf_token": token})
    # redirected to the questionnaire's address: a reload does not offer to resend the form
    assert switched.status_code == 303 and switched.headers["location"] == f"/s/{code}"
    switched = client.get(f"/s/{code}")
    assert switched.status_code == 200 and '<html lang="en"' in switched.text
    assert "How satisfied are you with how clean the road surfaces are?" in switched.text
    assert re.search(r'name="Q1" value="satisfied"\s+checked', switched.text)
    assert re.search(r'name="Q3" value="neutral"\s+checked', switched.text)
    assert "清扫车太早" in switched.text
    assert 'id="form-errors"' not in switched.text  # not checked as a submission
    assert f'action="/s/{code}"' in switched.text  # sending still goes to the code
    assert stored(db) == 0 and not db.exec(select(Invitation)).one().used
    # the choice holds for the next pages; a used code is not shown the form again
    assert '<html lang="en"' in client.get(f"/s/{code}").text
    assert client.post(f"/s/{code}", data={**STREET_ANSWERS, "csrf_token": token}).status_code == 303
    again = client.post(f"/s/{code}/language", data={"language": "zh_CN", "csrf_token": token},
                        follow_redirects=True)
    assert "已经使用过" in again.text and 'id="survey-form"' not in again.text
    # an open link keeps its form's submission key, so a double tap still stores once
    site = app_service.add_site(db, world.purchaser_principal, evaluation.id, "服务站", "2")
    page = client.get(f"/o/{site.token}").text
    key = re.search(r'name="submission_key" value="([0-9a-f]{32})"', page).group(1)
    switched = client.post(f"/o/{site.token}/language",
                           data={**half, "language": "zh_CN", "submission_key": key,
                                 "csrf_token": token})
    assert switched.status_code == 303 and switched.headers["location"] == f"/o/{site.token}"
    switched = client.get(f"/o/{site.token}")
    assert '<html lang="zh-CN"' in switched.text and f'value="{key}"' in switched.text
    assert re.search(r'name="Q1" value="satisfied"\s+checked', switched.text)
    assert stored(db) == 1
    # the answers are kept for that one page: opened again later, it starts blank
    assert not re.search(r'name="Q1" value="satisfied"\s+checked', client.get(f"/o/{site.token}").text)
    # answers too long for the session cookie come back at once rather than being lost
    long = {**half, "Q7": "清扫车太早，" * 150}
    switched = client.post(f"/o/{site.token}/language",
                           data={**long, "language": "en", "submission_key": key,
                                 "csrf_token": token})
    assert switched.status_code == 200 and "清扫车太早，" * 150 in switched.text
    assert '<html lang="en"' in switched.text and f'value="{key}"' in switched.text


def test_paper_entry_through_the_page(client, db, world):
    evaluation = evaluation_with_survey(db, world)
    code = issue(db, world, evaluation, 1)[0]
    sign_in(client, world.purchaser)
    base = f"/evaluations/{evaluation.id}/survey"
    token = csrf_from(client, f"{base}/paper")
    response = client.post(f"{base}/paper", data={**STREET_ANSWERS, "code": code,
                                                  "csrf_token": token})
    assert response.status_code == 303
    assert db.exec(select(SurveyResponse.channel)).one() == "paper"
    again = client.post(f"{base}/paper", data={**STREET_ANSWERS, "code": code, "csrf_token": token})
    assert again.status_code == 422 and 'id="e-code"' in again.text


def test_exports_and_the_questionnaire_workbook(client, db, world):
    evaluation = evaluation_with_survey(db, world)
    for code in issue(db, world, evaluation, 2):
        app_service.submit_with_code(db, code, lambda name: [STREET_ANSWERS[name]]
                                     if name in STREET_ANSWERS else [], "10.0.0.1")
    sign_in(client, world.purchaser)
    base = f"/evaluations/{evaluation.id}/survey"
    labels = client.get(f"{base}/responses.csv")
    assert labels.headers["content-type"].startswith("text/csv")
    assert "满意" in labels.content.decode("utf-8-sig")
    codes_csv = client.get(f"{base}/responses.csv?codes=1").content.decode("utf-8-sig")
    assert "fairly_satisfied" in codes_csv
    book = load_workbook(io.BytesIO(client.get(f"{base}/responses.xlsx").content))
    assert book.active.max_row == 3
    form = load_workbook(io.BytesIO(client.get(f"{base}/questionnaire.xlsx").content))
    assert form.sheetnames == ["survey", "choices", "settings"]


def test_each_questions_facts_use_one_languages_separators(client, db, world):
    # the line under each question's table: Chinese "；" and "。" in Chinese, "; " and "."
    # in English, never both in one line
    evaluation = evaluation_with_survey(db, world)
    for code in issue(db, world, evaluation, 2):
        app_service.submit_with_code(db, code, lambda name: [STREET_ANSWERS[name]]
                                     if name in STREET_ANSWERS else [], "10.0.0.1")
    sign_in(client, world.purchaser)
    results = f"/evaluations/{evaluation.id}/survey/results"

    def facts() -> list[str]:
        page = client.get(results).text
        return [" ".join(line.split()) for line in
                re.findall(r'<p class="facts-line">(.*?)</p>', page, re.S)]

    zh = facts()
    assert zh and all("；" in line and "; " not in line and ". " not in line for line in zh)
    assert zh[0].startswith("有效回答 2 个；未作答 0 个；不了解/不适用 0 个。")
    assert "满意率 100.0%（95% 置信区间 34.2% – 100.0%）；误差范围 ±" in zh[0]
    token = csrf_from(client, results)
    client.post("/language", data={"language": "en", "next": results, "csrf_token": token})
    en = facts()
    assert en and all("；" not in line and "。" not in line and "; " in line for line in en)
    assert en[0].startswith("Counted answers: 2; left blank: 0; don't know / not applicable: 0.")



def test_the_summarys_parentheses_are_the_readers_languages(client, db, world):
    """Full-width （） around a figure's interval in Chinese, ASCII ( ) in English."""
    evaluation = evaluation_with_survey(db, world)
    for code in issue(db, world, evaluation, 2):
        app_service.submit_with_code(db, code, lambda name: [STREET_ANSWERS[name]]
                                     if name in STREET_ANSWERS else [], "10.0.0.1")
    sign_in(client, world.purchaser)
    results = f"/evaluations/{evaluation.id}/survey/results"

    def summary(testid: str) -> str:
        page = client.get(results).text
        return re.search(rf'data-testid="{testid}">(.*?)</dd>', page, re.S).group(1)

    assert summary("rate") == "66.7%（95% 置信区间 30.0% – 90.3%）"
    assert "（95% 置信区间 " in summary("mean") and summary("mean").endswith("）")
    token = csrf_from(client, results)
    client.post("/language", data={"language": "en", "next": results, "csrf_token": token})
    assert summary("rate") == "66.7 % (95 % interval 30.0 % – 90.3 %)"  # as percent_text writes it


def test_importing_a_bad_workbook_shows_where_and_changes_nothing(client, db, world):
    evaluation = evaluation_with_survey(db, world, opened=False)
    sign_in(client, world.purchaser)
    base = f"/evaluations/{evaluation.id}/survey"
    before = app_service.working(db, app_service.survey_of(db, evaluation)).document
    token = csrf_from(client, f"{base}/questionnaire")
    response = client.post(f"{base}/questionnaire/import", data={"csrf_token": token},
                           files={"file": ("q.xlsx", b"not excel", "application/octet-stream")})
    assert response.status_code == 422 and 'id="import-errors"' in response.text
    db.expire_all()
    assert app_service.working(db, app_service.survey_of(db, evaluation)).document == before


@pytest.mark.parametrize("role, status", [("supplier", 403), ("admin", 403)])
def test_roles_without_the_survey_are_refused(client, db, world, signed_in, role, status):
    evaluation = evaluation_with_survey(db, world)
    signed_in(role)
    for path in ("", "/results", "/questionnaire", "/paper"):
        assert client.get(f"/evaluations/{evaluation.id}/survey{path}").status_code == status


def test_another_departments_purchaser_sees_nothing(client, db, world, signed_in):
    evaluation = evaluation_with_survey(db, world)
    signed_in("purchaser")
    assert client.get(f"/evaluations/{evaluation.id}/survey/results").status_code == 404


def test_an_auditor_reads_but_cannot_run_the_survey(client, db, world, signed_in):
    evaluation = evaluation_with_survey(db, world)
    signed_in("auditor")
    base = f"/evaluations/{evaluation.id}/survey"
    assert client.get(f"{base}/results").status_code == 200
    page = client.get(base).text
    assert "close-survey" not in page and "issue-codes" not in page
    token = csrf_from(client, base)
    assert client.post(f"{base}/close", data={"csrf_token": token}).status_code == 403
    assert client.get(f"{base}/paper").status_code == 403
    assert app_service.survey_of(db, evaluation).closed_at is None


def test_the_supplier_sees_only_aggregate_figures_once_the_survey_closed(client, db, world):
    evaluation = evaluation_with_survey(db, world)
    code = issue(db, world, evaluation, 1)[0]
    app_service.submit_with_code(db, code, lambda name: [STREET_ANSWERS[name]]
                                 if name in STREET_ANSWERS else [], "10.0.0.1")
    sign_in(client, world.supplier_user)
    page = client.get(f"/evaluations/{evaluation.id}").text
    assert "survey-panel" not in page
    app_service.close_survey(db, world.purchaser_principal, evaluation.id)
    page = client.get(f"/evaluations/{evaluation.id}").text
    panel = page[page.index('id="survey-panel"'):]
    assert "66.7%" in panel  # Q1 满意, Q2 较满意, Q3 一般: 2 of 3 answers satisfied
    assert "/survey/results" not in panel


def test_the_survey_pages_parentheses_are_the_readers_languages(client, db, world):
    """The survey home's response count and its sources: （） in Chinese, ( ) in English."""
    evaluation = evaluation_with_survey(db, world)
    for code in issue(db, world, evaluation, 2):
        app_service.submit_with_code(db, code, lambda name: [STREET_ANSWERS[name]]
                                     if name in STREET_ANSWERS else [], "10.0.0.1")
    sign_in(client, world.purchaser)
    home = f"/evaluations/{evaluation.id}/survey"

    def total() -> str:
        page = client.get(home).text
        return re.search(r'data-testid="survey-total">(.*?)</dd>', page, re.S).group(1)

    assert re.fullmatch(r"2（[^()（）]+）", total()), total()
    token = csrf_from(client, home)
    client.post("/language", data={"language": "en", "next": home, "csrf_token": token})
    assert re.fullmatch(r"2 \(codes 2 · open links 0 · paper 0\)", total()), total()


def test_control_characters_in_an_answer_are_dropped_and_the_answer_kept(client, db, world):
    """A NUL or another control character in a free-text answer (pasted, or sent by a script)
    was stored as sent, where PostgreSQL's text and an Excel export refuse it; it is dropped,
    the rest of the answer kept."""
    evaluation = evaluation_with_survey(db, world)
    code = issue(db, world, evaluation, 1)[0]
    page = client.get(f"/s/{code}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    text_question = next(q["id"] for q in qn.questions(
        app_service.current(db, app_service.survey_of(db, evaluation)).document)
        if q["type"] == "text")
    done = client.post(f"/s/{code}", data={**STREET_ANSWERS, text_question: "路面\x00很\x07干净",
                                           "csrf_token": token})
    assert done.status_code == 303, done.text
    assert stored(db) == 1
    answer = db.exec(select(SurveyResponse)).one().answers
    assert answer[text_question] == "路面很干净"


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def test_a_code_typed_with_a_chinese_input_method_or_any_dash_is_read(client, db, world):
    evaluation = evaluation_with_survey(db, world)
    code = issue(db, world, evaluation, 1)[0]
    for typed in (_full_width(f"{code[:4]}-{code[4:]}"), f"{code[:4].lower()}—{code[4:]}",
                  f"{code[:4]}\u3000{code[4:]}"):
        response = client.get("/s", params={"code": typed})
        assert response.status_code == 303, typed
        assert response.headers["location"] == f"/s/{code}"


def test_a_refused_code_names_the_characters_no_code_contains():
    from evalplatform.i18n import language

    with language("en"):
        for typed in ("24BG-ZYJ0", "abcd-1234", "ABCD-OIL2"):
            message = invitations.problem(typed)
            assert message and "never contains 0, 1, O, I or L" in message, typed
        assert "has 0" in invitations.problem("24BG-ZYJ0")
        assert "has 1" in invitations.problem("ABCD-1234")
        assert "too short" in invitations.problem("ABCD-234")
        assert "too long" in invitations.problem("ABCD-23456")
        assert "never 0, 1, O, I or L" in invitations.problem("ABCD#234")
        assert "Type the code" in invitations.problem(" - ")
    # what can be a code is no problem, whatever the case, the spaces or the dashes
    assert invitations.problem("abcd 2345") is None and invitations.normalise("ab-cd-23-45")


def test_the_code_page_says_which_characters_a_code_never_has(client):
    hint = re.search(r'<p class="r-hint" id="h-code">([^<]*)</p>', client.get("/s").text)
    assert hint and any(rule in hint.group(1) for rule in ("never 0, 1, O, I or L",
                                                           "不含 0、1、O、I、L"))


def test_the_organisers_pages_speak_chinese_between_their_figures(client, db, world):
    """Found by a purchaser reading the pages: the scheme's indicators read "（60 分, 服务对象
    评价）" (an English comma), the versions "1（当前）, 2（draft）" (an English status), and
    each satisfied option of the results "满意 满意" (its badge said "satisfied" again)."""
    evaluation = schedule(db, world, **window())
    sign_in(client, world.purchaser)
    base = f"/evaluations/{evaluation.id}/survey"
    start = client.get(base).text
    indicators = re.findall(r"<li>([^<]*分[^<]*)</li>", start)
    assert indicators and all("分；" in line and "," not in line for line in indicators)
    token = csrf_from(client, base)
    client.post(base, data={"template": "street_cleaning", "csrf_token": token})
    client.post(f"{base}/open", data={"csrf_token": token})
    client.post(f"{base}/questionnaire/version", data={"csrf_token": token})
    editor = client.get(f"{base}/questionnaire").text
    versions = " ".join(re.search(r"版本：(.*?)</p>", editor, re.S).group(1).split())
    assert versions == "1（当前）、2（草稿）"
    for code in issue(db, world, evaluation, 1):
        app_service.submit_with_code(db, code, lambda name: [STREET_ANSWERS[name]]
                                     if name in STREET_ANSWERS else [], "10.0.0.1")
    results = client.get(f"{base}/results").text
    badges = re.findall(r'<span class="badge ok">([^<]*)</span>', results)
    assert badges and set(badges) == {"计为满意"}


def test_the_exported_workbooks_sheet_is_named_in_the_readers_language(client, db, world):
    """Its one sheet was named "responses" whatever the language."""
    from evalplatform.i18n import gettext, language

    evaluation = evaluation_with_survey(db, world)
    sign_in(client, world.purchaser)
    book = load_workbook(io.BytesIO(client.get(
        f"/evaluations/{evaluation.id}/survey/responses.xlsx").content))
    with language("zh_CN"):
        expected = gettext("Survey answers")
    assert book.sheetnames == [expected] and expected != "responses"


def test_a_ratings_ends_describe_its_options_to_a_screen_reader(client, db, world):
    """The 0–10 options are read as bare numbers; the words at the ends ("0 完全不会", "10
    一定会") were hidden from screen readers, so nothing said what 0 and 10 mean."""
    evaluation = evaluation_with_survey(db, world, template="elderly_care")
    code = issue(db, world, evaluation, 1)[0]
    page = client.get(f"/s/{code}").text
    rating = re.search(r'<fieldset[^>]*id="q-Q7"[^>]*>', page).group(0)
    assert 'aria-describedby="s-Q7"' in rating
    ends = re.search(r'<p class="r-hint r-scale-ends"[^>]*>', page).group(0)
    assert 'id="s-Q7"' in ends and "aria-hidden" not in ends
    assert re.search(r'id="s-Q7"><span>0 完全不会</span><span>10 一定会</span>', page)


def test_a_refused_question_form_comes_back_with_what_was_typed_and_names_the_field(
        client, db, world):
    """One wrong box (no Chinese text, a score of 150) is refused with nothing saved; the form
    comes back as typed — the new English text, the 150 the message points at — not as
    stored, so only the wrong boxes need fixing."""
    evaluation = schedule(db, world, **window())
    sign_in(client, world.purchaser)
    base = f"/evaluations/{evaluation.id}/survey"
    token = csrf_from(client, base)
    client.post(base, data={"template": "street_cleaning", "csrf_token": token})
    stored_doc = app_service.working(db, app_service.survey_of(db, evaluation)).document
    q1 = qn.question(stored_doc, "Q1")
    form = {"label_zh": "", "label_en": "Overall, how satisfied are you?",
            "hint_zh": "请按实际感受作答", "required": "1", "leaf": q1.get("leaf") or "",
            "option_rows": str(len(q1["options"]))}
    for i, option in enumerate(q1["options"]):
        form |= {f"opt-{i}-name": option["name"], f"opt-{i}-zh": option["label"]["zh-CN"],
                 f"opt-{i}-en": option["label"].get("en", ""),
                 f"opt-{i}-score": "150" if i == 0 else str(option["score"] or "")}
    refused = client.post(f"{base}/questionnaire/questions/Q1", data=form,
                          headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert refused.status_code == 422
    assert "题目文字：须填写中文文字。" in refused.text
    assert 'value="Overall, how satisfied are you?"' in refused.text
    assert 'value="请按实际感受作答"' in refused.text
    assert 'name="opt-0-score" value="150"' in refused.text
    db.expire_all()
    assert app_service.working(db, app_service.survey_of(db, evaluation)).document == stored_doc
    # the title form too
    refused = client.post(f"{base}/questionnaire/settings",
                          data={"title_zh": "", "title_en": "Street cleaning survey",
                                "intro_zh": "城管局委托开展", "intro_en": ""},
                          headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert refused.status_code == 422 and "标题：须填写中文文字。" in refused.text
    assert 'value="Street cleaning survey"' in refused.text and "城管局委托开展" in refused.text


def test_a_closed_survey_offers_no_paper_form_to_type_a_whole_sheet_into(client, db, world):
    evaluation = evaluation_with_survey(db, world)
    sign_in(client, world.purchaser)
    base = f"/evaluations/{evaluation.id}/survey"
    assert 'id="paper-form"' in client.get(f"{base}/paper").text
    home = client.get(base).text
    assert "请先录入纸质问卷" in home  # the close button's question says so
    app_service.close_survey(db, world.purchaser_principal, evaluation.id)
    page = client.get(f"{base}/paper").text
    assert 'id="paper-form"' not in page
    assert "纸质问卷须在调查开放期间录入" in page


def test_paper_entry_tells_a_code_out_of_shape_what_a_code_is_made_of(client, db, world):
    evaluation = evaluation_with_survey(db, world)
    sign_in(client, world.purchaser)
    base = f"/evaluations/{evaluation.id}/survey"
    token = csrf_from(client, f"{base}/paper")
    for typed, words in (("", "8 位字母和数字"), ("ABCD-EF0", "不含 0")):
        refused = client.post(f"{base}/paper", data={**STREET_ANSWERS, "code": typed,
                                                     "csrf_token": token})
        assert refused.status_code == 422 and 'id="e-code"' in refused.text
        assert "本调查没有这个邀请码" not in refused.text and words in refused.text, typed
    assert stored(db) == 0
