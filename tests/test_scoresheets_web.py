"""The pages of the expert pool, the panel and the scoresheets, through the web layer."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from evalplatform.models import Expert, PanelDraw, Scoresheet, SheetStatus
from evalplatform.services import scoresheets
from evalplatform.web.templating import local_time
from tests.conftest import csrf_from, login
from tests.test_scoresheets_world import panel_world, principal

PDF = b"%PDF-1.7\n% evidence\n"


@pytest.fixture
def pw(db, make_user, make_org):
    return panel_world(db, make_user, make_org, pool_size=6, seats=3, alternates=1)


def sign_in(client, user):
    client.cookies.clear()
    response = login(client, user.username)
    assert response.status_code == 303, response.text
    return csrf_from(client, "/")


# ---------------------------------------------------------------- the pool


def test_finance_keeps_the_pool_and_others_cannot(client, db, signed_in, make_user):
    from evalplatform.services import catalogue

    catalogue.seed(db)
    signed_in("finance")
    token = csrf_from(client, "/experts/new")
    response = client.post("/experts", data={"name": "", "phone": "13800001111", "specialities": ["D02"],
                                             "csrf_token": token})
    assert response.status_code == 422 and "专家姓名" in response.text
    response = client.post("/experts", data={"name": "林国华", "phone": "13800000000",
                                             "specialities": ["D02", "E02"], "csrf_token": token})
    assert response.status_code == 303
    expert = db.exec(select(Expert)).one()
    assert expert.specialities == ["D02", "E02"]
    page = client.get("/experts").text
    assert "林国华" in page and "市容环卫" in page
    client.cookies.clear()
    signed_in("purchaser")
    assert client.get("/experts").status_code == 403
    client.cookies.clear()
    signed_in("auditor")
    assert "林国华" in client.get(f"/experts/{expert.id}").text


# ---------------------------------------------------------------- the panel page


def test_the_panel_page_shows_names_to_the_organiser_and_not_to_the_supplier(client, db, pw):
    sign_in(client, pw.purchaser)
    page = client.get(f"/evaluations/{pw.evaluation.id}/panel").text
    names = [db.get(Expert, m.expert_id).name for m in pw.seated(db)]
    assert all(name in page for name in names)
    sign_in(client, pw.world.supplier_user)
    assert client.get(f"/evaluations/{pw.evaluation.id}/panel").status_code == 403
    evaluation_page = client.get(f"/evaluations/{pw.evaluation.id}").text
    assert not any(name in evaluation_page for name in names)


def test_an_auditor_replays_a_draw_from_its_page(client, db, pw, make_user):
    draw = db.exec(select(PanelDraw)).one()
    sign_in(client, make_user("auditor"))
    page = client.get(f"/evaluations/{pw.evaluation.id}/panel").text
    assert f"/panel/draws/{draw.id}/replay" in page and draw.seed in page
    replay = client.get(f"/evaluations/{pw.evaluation.id}/panel/draws/{draw.id}/replay").text
    assert 'data-testid="replay-verdict">已核验' in replay


def test_a_bad_draw_on_the_page_names_the_field(client, db, make_user, make_org):
    pw = panel_world(db, make_user, make_org, draw=False)
    token = sign_in(client, pw.purchaser)
    response = client.post(f"/evaluations/{pw.evaluation.id}/panel/draw",
                           data={"size": "4", "alternates": "1", "specialities": ["D02"],
                                 "csrf_token": token})
    assert response.status_code == 422 and "奇数" in response.text
    assert db.exec(select(PanelDraw)).first() is None
    response = client.post(f"/evaluations/{pw.evaluation.id}/panel/draw",
                           data={"size": "3", "alternates": "1", "specialities": ["D02"],
                                 "csrf_token": token})
    assert response.status_code == 303
    assert db.exec(select(PanelDraw)).one().size == 3


# ---------------------------------------------------------------- scoring through the pages


def test_an_expert_sees_only_its_assignment_and_scores_through_the_pages(client, db, pw,
                                                                          make_user):
    member = pw.seated(db)[0]
    token = sign_in(client, pw.user_of(db, member))
    listing = client.get("/evaluations").text
    assert pw.evaluation.title in listing
    page = client.get(f"/evaluations/{pw.evaluation.id}").text
    assert "我的评分表" in page and "评审专家" in page
    response = client.post(f"/evaluations/{pw.evaluation.id}/sheets",
                           data={"part": "C", "kind": "expert", "csrf_token": token})
    assert response.status_code == 303
    sheet_url = response.headers["location"]
    form = client.get(sheet_url).text
    assert "扣 1 分" in form and 'hx-trigger="change delay:500ms' in form
    sheet_id = int(sheet_url.rsplit("/", 1)[1])
    version = re.search(r'id="sheet-version" value="(\d+)"', form).group(1)
    htmx = {"HX-Request": "true", "X-CSRF-Token": token}
    saved = client.post(f"{sheet_url}/draft", headers=htmx,
                        data={"version": version, "value-C1.3": "12", "value-C1.2": "达成"})
    assert saved.status_code == 200 and "草稿已于" in saved.text
    assert 'id="todo-2" hx-swap-oob="true">' in saved.text  # C1.3 still needs its reason
    # a value out of range is refused and marked; the rest of the draft is saved
    partly = client.post(f"{sheet_url}/draft", headers=htmx,
                         data={"version": str(int(version) + 1), "value-C1.3": "16",
                               "value-C1.2": "达成", "value-C2.2": "20"})
    assert partly.status_code == 200 and "0 到满分 15" in partly.text
    assert "标出的指标除外" in partly.text and "仍保留上次保存的内容" in partly.text
    assert f'id="sheet-version" value="{int(version) + 2}"' in partly.text
    db.expire_all()
    assert db.get(Scoresheet, sheet_id).scores["C1.3"] == {"points": "12"}
    assert db.get(Scoresheet, sheet_id).scores["C2.2"] == {"points": "20"}
    # a field of an indicator not on this sheet saves nothing at all
    refused = client.post(f"{sheet_url}/draft", headers=htmx,
                          data={"version": str(int(version) + 2), "value-A2.2": "8",
                                "value-C2.2": "19"})
    assert refused.status_code == 422 and "未保存" in refused.text
    db.expire_all()
    assert db.get(Scoresheet, sheet_id).scores["C2.2"] == {"points": "20"}
    # the same without JavaScript: the page comes back with the typed values, the refused one
    # marked, and says the rest was saved
    plain = client.post(f"{sheet_url}/draft", data={
        "csrf_token": token, "version": str(int(version) + 2), "value-C1.3": "16",
        "value-C1.2": "达成", "value-C2.1": "达成", "value-C2.2": "20"})
    assert plain.status_code == 200 and "草稿已保存，标出的指标除外" in plain.text
    assert 'value="16"' in plain.text and "0 到满分 15" in plain.text
    db.expire_all()
    assert db.get(Scoresheet, sheet_id).scores["C2.1"] == {"tier": "达成"}
    assert db.get(Scoresheet, sheet_id).scores["C1.3"] == {"points": "12"}
    db.expire_all()
    current = db.get(Scoresheet, sheet_id).version
    response = client.post(f"{sheet_url}/submit", data={
        "csrf_token": token, "version": str(current), "value-C1.2": "达成", "value-C1.3": "12",
        "value-C2.1": "达成", "value-C2.2": "20"})
    assert response.status_code == 422 and "扣分理由" in response.text
    db.expire_all()
    refused = db.get(Scoresheet, sheet_id)
    assert refused.status == SheetStatus.draft
    # what was typed is kept as the draft (a reload reads it), and the page carries its version
    assert refused.version == current + 1 and refused.scores["C1.2"] == {"tier": "达成"}
    assert f'id="sheet-version" value="{current + 1}"' in response.text
    assert f'data-page-url="{sheet_url}"' in response.text
    response = client.post(f"{sheet_url}/submit", data={
        "csrf_token": token, "version": str(current + 1), "value-C1.2": "达成", "value-C1.3": "12",
        "reason-C1.3": "三处满溢", "value-C2.1": "达成", "value-C2.2": "20"})
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Scoresheet, sheet_id).status == SheetStatus.submitted
    assert "已提交" in client.get(sheet_url).text
    # another evaluator reaches neither the evaluation nor the sheet
    sign_in(client, make_user("evaluator"))
    assert client.get(f"/evaluations/{pw.evaluation.id}").status_code == 404
    assert client.get(sheet_url).status_code == 404
    assert pw.evaluation.title not in client.get("/evaluations").text


def test_the_sheet_adds_up_as_the_expert_types_and_after_submission(client, db, pw):
    """本表小计: the points of what is entered (a tier as max × its coefficient) against the
    maxima of those indicators, updated with each saved draft; a not-applicable indicator is
    counted apart; a refused entry keeps its last saved points in the subtotal."""
    member = pw.seated(db)[0]
    token = sign_in(client, pw.user_of(db, member))
    response = client.post(f"/evaluations/{pw.evaluation.id}/sheets",
                           data={"part": "C", "kind": "expert", "csrf_token": token})
    sheet_url = response.headers["location"]
    form = client.get(sheet_url).text
    assert "<strong>本表小计</strong>：已评 0 / 4 项，得分 0.00（已评指标满分 0.00）" in form
    version = int(re.search(r'id="sheet-version" value="(\d+)"', form).group(1))
    htmx = {"HX-Request": "true", "X-CSRF-Token": token}
    saved = client.post(f"{sheet_url}/draft", headers=htmx, data={
        "version": str(version), "value-C1.3": "12", "reason-C1.3": "一处满溢",
        "value-C1.2": "部分达成", "reason-C1.2": "两座公厕有异味"})
    subtotal = re.search(r'<p id="sheet-subtotal"[^>]*hx-swap-oob="true">(.*?)</p>', saved.text,
                         re.S).group(1)
    assert "已评 2 / 4 项，得分 22.50（已评指标满分 30.00）" in subtotal  # 12 + 15 × 0.7
    refused = client.post(f"{sheet_url}/draft", headers=htmx, data={
        "version": str(version + 1), "value-C1.3": "16", "value-C1.2": "部分达成",
        "reason-C1.2": "两座公厕有异味", "na-C2.1": "1", "na_reason-C2.1": "本期无作业计划"})
    assert "0 到满分 15" in refused.text
    assert "已评 2 / 4 项，得分 22.50（已评指标满分 30.00）；1 项不适用，不计入" in refused.text
    submitted = client.post(f"{sheet_url}/submit", data={
        "csrf_token": token, "version": str(version + 2), "value-C1.3": "12",
        "reason-C1.3": "一处满溢", "value-C1.2": "部分达成", "reason-C1.2": "两座公厕有异味",
        "na-C2.1": "1", "na_reason-C2.1": "本期无作业计划", "value-C2.2": "20"})
    assert submitted.status_code == 303
    page = client.get(sheet_url).text
    assert "已提交" in page
    assert "已评 3 / 4 项，得分 42.50（已评指标满分 50.00）；1 项不适用，不计入" in page


def test_the_organiser_sees_progress_and_consolidation(client, db, pw):
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    sheet = scoresheets.start(db, who, pw.evaluation.id, "C", "expert")
    form = {"value-C1.2": "达成", "value-C1.3": "15", "value-C2.1": "达成", "value-C2.2": "20"}
    scoresheets.submit(db, who, pw.evaluation.id, sheet.id, form)
    sign_in(client, pw.purchaser)
    page = client.get(f"/evaluations/{pw.evaluation.id}").text
    assert 'data-testid="submitted-count">1 / ' in page
    assert db.get(Expert, member.expert_id).name in page
    consolidation = client.get(f"/evaluations/{pw.evaluation.id}/scoring").text
    assert 'data-testid="part-score-C"' in consolidation


def test_the_supplier_hands_in_its_self_evaluation(client, db, pw):
    token = sign_in(client, pw.world.supplier_user)
    page = client.get(f"/evaluations/{pw.evaluation.id}").text
    assert "自评" in page
    response = client.post(f"/evaluations/{pw.evaluation.id}/self-evaluation",
                           data={"summary": "全年完成保洁任务", "claimed_total": "96",
                                 "csrf_token": token},
                           files={"file": ("自评报告.pdf", PDF, "application/pdf")})
    assert response.status_code == 303
    record = scoresheets.self_evaluation_of(db, pw.evaluation.id)
    assert record.claimed_total == "96"
    [upload] = scoresheets.files_of(db, pw.evaluation.id)
    assert client.get(f"/evaluations/{pw.evaluation.id}/files/{upload.id}").content == PDF
    # the scorers see it beside their sheet
    member = pw.seated(db)[0]
    sheet = scoresheets.start(db, pw.expert_principal(db, member), pw.evaluation.id, "C", "expert")
    sign_in(client, pw.user_of(db, member))
    assert "全年完成保洁任务" in client.get(
        f"/evaluations/{pw.evaluation.id}/sheets/{sheet.id}").text


def test_the_self_evaluation_asks_how_the_service_went_not_for_a_total(client, db, pw):
    """The summary field was labelled 汇总 (a total, as on the half-year report)."""
    token = sign_in(client, pw.world.supplier_user)
    page = client.get(f"/evaluations/{pw.evaluation.id}").text
    label = re.search(r'<label for="f-summary">([^<]*)<', page).group(1).strip()
    assert label == "绩效目标完成情况"
    client.post(f"/evaluations/{pw.evaluation.id}/self-evaluation",
                data={"summary": "按合同完成清扫保洁", "csrf_token": token})
    panel_text = client.get(f"/evaluations/{pw.evaluation.id}").text.split(
        'id="self-evaluation"')[1].split("</section>")[0]
    assert "<dt>绩效目标完成情况</dt><dd>按合同完成清扫保洁</dd>" in panel_text
    assert "汇总" not in panel_text


def test_a_refused_self_evaluation_keeps_what_the_supplier_typed(client, db, pw):
    token = sign_in(client, pw.world.supplier_user)
    summary = "上半年完成 126 条道路日常清扫保洁，机械化作业率 83%。"
    refused = client.post(f"/evaluations/{pw.evaluation.id}/self-evaluation",
                          data={"summary": summary, "claimed_total": "120", "csrf_token": token},
                          files={"file": ("说明.txt", b"plain text", "text/plain")})
    assert refused.status_code == 422
    page = refused.text
    assert summary in page  # the typed summary is not lost
    assert 'id="f-claimed_total"' in page and 'value="120"' in page
    assert re.search(r'id="e-claimed_total"[^>]*>自评得分须为 0 到 100 之间', page)
    assert re.search(r'id="e-file"[^>]*>[^<]*(PDF|Word)', page)  # the file's rule at the file
    assert scoresheets.self_evaluation_of(db, pw.evaluation.id) is None  # nothing stored


def test_an_expert_declines_on_the_page_and_the_alternate_is_seated(client, db, pw):
    member = pw.seated(db)[0]
    alternate = pw.alternates(db)[0]
    token = sign_in(client, pw.user_of(db, member))
    response = client.post(f"/evaluations/{pw.evaluation.id}/panel/members/{member.id}/step-down",
                           data={"reason": "", "csrf_token": token})
    assert response.status_code == 303
    db.expire_all()
    assert db.get(type(member), member.id).status.value == "seated"  # no reason, nothing changed
    response = client.post(f"/evaluations/{pw.evaluation.id}/panel/members/{member.id}/step-down",
                           data={"reason": "外出学习", "csrf_token": token})
    assert response.headers["location"] == "/evaluations"
    db.expire_all()
    assert db.get(type(member), member.id).status.value == "declined"
    assert db.get(type(alternate), alternate.id).status.value == "seated"
    assert client.get(f"/evaluations/{pw.evaluation.id}").status_code == 404


def test_an_expert_who_submitted_is_not_offered_a_decline_that_would_be_refused(client, db, pw):
    from tests.test_scoresheets import FULL_MARKS, fill

    member, other = pw.seated(db)[:2]
    fill(db, pw, member, FULL_MARKS)
    sign_in(client, pw.user_of(db, member))
    page = client.get(f"/evaluations/{pw.evaluation.id}").text
    assert f"/panel/members/{member.id}/step-down" not in page  # no form that only refuses
    assert 'id="no-decline"' in page and "不能再拒绝参加" in page and "回避" in page
    sign_in(client, pw.user_of(db, other))  # not submitted yet: may still decline
    page = client.get(f"/evaluations/{pw.evaluation.id}").text
    assert f"/panel/members/{other.id}/step-down" in page and 'id="no-decline"' not in page


def test_labels_on_the_scorers_pages_take_the_languages_colon(client, db, pw):
    """截止日期: 2026-12-31 and 评分标准: … carried an ASCII colon on the Chinese pages."""
    member = pw.seated(db)[0]
    token = sign_in(client, pw.user_of(db, member))
    page = client.get(f"/evaluations/{pw.evaluation.id}").text
    assert "<p>截止日期：2026-12-31 23:59</p>" in page and "截止日期: " not in page
    sheet = scoresheets.start(db, pw.expert_principal(db, member), pw.evaluation.id, "C",
                              "expert")
    sheet_page = client.get(f"/evaluations/{pw.evaluation.id}/sheets/{sheet.id}").text
    assert "评分标准：</strong>" in sheet_page and "评分标准:" not in sheet_page
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": token})
    page = client.get(f"/evaluations/{pw.evaluation.id}").text
    assert "<p>Due: 2026-12-31 23:59</p>" in page


def test_evidence_reopening_and_a_second_look_through_the_pages(client, db, pw):
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    sheet = scoresheets.start(db, who, pw.evaluation.id, "C", "expert")
    url = f"/evaluations/{pw.evaluation.id}/sheets/{sheet.id}"
    token = sign_in(client, pw.user_of(db, member))
    response = client.post(f"{url}/evidence", data={"leaf_id": "C1.3", "csrf_token": token},
                           files={"file": ("满溢照片.docx", b"not a word file", "application/msword")})
    assert response.status_code == 303
    assert scoresheets.files_of(db, pw.evaluation.id) == []
    client.post(f"{url}/evidence", data={"leaf_id": "C1.3", "csrf_token": token},
                files={"file": ("满溢照片.pdf", PDF, "application/pdf")})
    assert "满溢照片.pdf" in client.get(url).text
    form = {"value-C1.2": "达成", "value-C1.3": "15", "value-C2.1": "达成", "value-C2.2": "20"}
    scoresheets.submit(db, who, pw.evaluation.id, sheet.id, form)
    token = sign_in(client, pw.purchaser)
    assert client.post(f"{url}/reopen", data={"reason": "x", "csrf_token": token}
                       ).status_code == 403
    client.post(f"{url}/reopen-request", data={"reason": "C1.3 请核对照片", "csrf_token": token})
    token = sign_in(client, pw.world.finance)
    page = client.get(url).text
    assert "C1.3 请核对照片" in page
    response = client.post(f"{url}/reopen", data={"reason": "组织方申请复核", "csrf_token": token})
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Scoresheet, sheet.id).status == SheetStatus.draft


def test_an_expert_who_found_a_mistake_asks_for_the_sheet_back(client, db, pw):
    """A submitted sheet is locked; its own scorer asks finance for it back with a reason, as
    the organiser asks for a second look; finance sees it on its home page and decides."""
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    sheet = scoresheets.start(db, who, pw.evaluation.id, "C", "expert")
    url = f"/evaluations/{pw.evaluation.id}/sheets/{sheet.id}"
    form = {"value-C1.2": "达成", "value-C1.3": "15", "value-C2.1": "达成", "value-C2.2": "20"}
    scoresheets.submit(db, who, pw.evaluation.id, sheet.id, form)
    expert = pw.user_of(db, member)
    token = sign_in(client, expert)
    page = client.get(url).text
    assert 'id="ask-back"' in page
    asked = client.post(f"{url}/reopen-request", data={
        "reason": "C2.2 误填为 20 分，应为 12 分", "from": "sheet", "csrf_token": token})
    assert asked.status_code == 303 and asked.headers["location"] == url
    page = client.get(url).text
    assert 'id="ask-back"' not in page  # asked once; finance decides
    assert f"{expert.display_name} 申请复核：C2.2 误填为 20 分，应为 12 分" in page
    other = pw.user_of(db, pw.seated(db)[1])  # another expert cannot ask for this sheet
    token = sign_in(client, other)
    assert client.post(f"{url}/reopen-request", data={"reason": "x", "csrf_token": token}
                       ).status_code in (403, 404)
    sign_in(client, pw.world.finance)
    home = client.get("/").text
    assert "申请退回的评分表" in home and f'href="{url}"' in home


def test_a_data_sheet_states_each_target_with_its_unit(client, db, pw):
    """A ratio's target reads as a percentage and other units follow the number, as the
    trace writes them (道路保洁达标率 0.95 比例 → 目标 95%), in Chinese and in English."""
    token = sign_in(client, pw.purchaser)
    response = client.post(f"/evaluations/{pw.evaluation.id}/sheets",
                           data={"part": "A", "kind": "data", "csrf_token": token})
    assert response.status_code == 303
    sheet_url = response.headers["location"]
    page = client.get(sheet_url).text
    assert "目标 95%；得分 = 满分 × min(实测 ÷ 目标, 1)。" in page
    assert "目标不超过 24 小时；" in page
    assert "比例；" not in page and "0.95 比例" not in page
    # a rate is typed in percent, and its field says so with a % after it
    assert "实测值（百分比，0–1000）" in page and "实测值（小时）" in page
    assert "按比例填写" not in page
    assert _suffix(page, "A1.1") == "%" and _suffix(page, "A3.2") is None
    client.post("/language", data={"language": "en", "csrf_token": token})
    page = client.get(sheet_url).text
    # a percentage as English writes it (95 %), as the rest of the pages do
    assert "Target 95 %; points = max × min(measured ÷ target, 1)." in page
    assert "Target 24 小时 at most;" in page
    assert "Measured value in percent (0–1000)" in page
    member = pw.seated(db)[0]
    token = sign_in(client, pw.user_of(db, member))
    response = client.post(f"/evaluations/{pw.evaluation.id}/sheets",
                           data={"part": "C", "kind": "data", "csrf_token": token})
    data_url = response.headers["location"]
    # the bands are listed as the reader's language lists things
    assert "分档：≥ 95 分 → 30；≥ 90 分 → 25；≥ 80 分 → 18；≥ 0 分 → 0" in client.get(data_url).text
    client.post("/language", data={"language": "en", "csrf_token": token})
    assert "Bands: ≥ 95 分 → 30; ≥ 90 分 → 25; ≥ 80 分 → 18; ≥ 0 分 → 0" in client.get(data_url).text


def _suffix(page: str, leaf_id: str) -> str | None:
    """The unit written after a leaf's value field (the ``%`` of a rate), if any."""
    found = re.search(r'name="value-' + re.escape(leaf_id) + r'"[^>]*>\s*<span class="suffix"[^>]*>'
                      r"([^<]*)</span>", page)
    return found.group(1) if found else None


def test_a_rate_is_typed_saved_and_shown_again_in_percent(client, db, pw):
    """The purchaser types 95 and 97.46% for two rates in the data form: 0.95 and 0.9746 are
    stored; the form shows them again as 95 and 97.46 (the draft and, once submitted, the
    read-only sheet as 97.46%); 1001 is refused at its field, naming it, and keeps the last
    saved value."""
    token = sign_in(client, pw.purchaser)
    response = client.post(f"/evaluations/{pw.evaluation.id}/sheets",
                           data={"part": "A", "kind": "data", "csrf_token": token})
    url = response.headers["location"]
    sheet_id = int(url.rsplit("/", 1)[1])
    values = {"A1.1": "95", "A1.2": "97.46%", "A1.3": "98", "A2.3": "80", "A3.1": "100",
              "A3.2": "30"}
    form = {f"value-{k}": v for k, v in values.items()} | {
        f"source-{k}": "城管巡查台账" for k in values} | {"csrf_token": token}
    response = client.post(f"{url}/draft", data=form,  # the htmx partial save
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and "草稿已于" in response.text
    db.expire_all()
    scores = db.get(Scoresheet, sheet_id).scores
    assert scores["A1.1"]["value"] == "0.95" and scores["A1.2"]["value"] == "0.9746"
    assert scores["A3.2"]["value"] == "30"
    page = client.get(url).text
    assert 'name="value-A1.1" inputmode="decimal" value="95"' in page
    assert 'name="value-A1.2" inputmode="decimal" value="97.46"' in page
    assert 'name="value-A3.2" inputmode="decimal" value="30"' in page
    response = client.post(f"{url}/draft", data={**form, "value-A1.1": "1001"},
                           headers={"HX-Request": "true"})
    assert "道路保洁达标率按百分比填写：请填 0 到 1000% 之间的数" in response.text
    db.expire_all()
    assert db.get(Scoresheet, sheet_id).scores["A1.1"]["value"] == "0.95"
    version = db.get(Scoresheet, sheet_id).version
    response = client.post(f"{url}/submit", data={**form, "version": str(version)})
    assert response.status_code == 303
    page = client.get(url).text
    entered = re.search(r'data-testid="entered-A1.2">\s*<strong>([^<]*)</strong>', page)
    assert entered and entered.group(1) == "97.46%"
    # a figure of another unit is shown with it, as the targets are (30 小时, not a bare 30)
    hours = re.search(r'data-testid="entered-A3.2">\s*<strong>([^<]*)</strong>', page)
    assert hours and hours.group(1) == "30 小时"
    db.expire_all()
    assert db.get(Scoresheet, sheet_id).scores["A1.2"]["value"] == "0.9746"


def test_the_api_schema_says_which_unit_a_rate_takes(client):
    """The forms take a rate in percent; the scoring package stays in the engine's unit, a
    fraction of one. The OpenAPI document (the JSON API's, with the package download; the
    forms answer HTML and are not in it) says so."""
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/evaluations/{evaluation_id}/sheets/{sheet_id}/draft" not in paths
    package = paths["/evaluations/{evaluation_id}/result/package.json"]["get"]["description"]
    assert "fraction of one in ``inputs.data`` (0.95 for 95 %)" in package


def _card(page: str, title: str) -> tuple[str, str] | None:
    """The value and link of a home-page card, by its title."""
    found = re.search(r'<a href="([^"]*)">\s*<span class="card-title">' + re.escape(title)
                      + r'</span>\s*<span class="card-value">([^<]*)</span>', page)
    return (found.group(2), found.group(1)) if found else None


def test_a_scorers_home_page_counts_the_sheets_still_to_submit(client, db, pw, make_user):
    """An expert seated on a panel signed in to 'nothing is waiting for you' while its sheet
    waited: the home page now counts the sheets still to submit, says when the earliest is
    due and links to the evaluation; submitted sheets drop out. The purchasing department
    sees its own (the data sheet and a first occasion sheet); an evaluator on no panel none."""
    member = pw.seated(db)[0]
    sign_in(client, pw.user_of(db, member))
    page = client.get("/").text
    # its expert sheet and the panel's measured data (no firm is assigned)
    assert _card(page, "待填写的评分表") == ("2", f"/evaluations/{pw.evaluation.id}")
    assert "最早的一份截止于" in page and "目前没有待办事项" not in page
    # the due date and time stay whole on the narrow card (it broke after 2026-12-)
    assert re.search(r'最早的一份截止于 <span class="nowrap">\d{4}-\d{2}-\d{2} \d{2}:\d{2}</span>',
                     page)
    who = pw.expert_principal(db, member)
    sheet = scoresheets.start(db, who, pw.evaluation.id, "C", "expert")
    assert _card(client.get("/").text, "待填写的评分表")[0] == "2"  # a draft is still to do
    scoresheets.submit(db, who, pw.evaluation.id, sheet.id, {
        "value-C1.2": "达成", "value-C1.3": "15", "value-C2.1": "达成", "value-C2.2": "20"})
    data = scoresheets.start(db, who, pw.evaluation.id, "C", "data")
    assert _card(client.get("/").text, "待填写的评分表")[0] == "1"
    scoresheets.submit(db, who, pw.evaluation.id, data.id,
                       {"value-C1.1": "92", "source-C1.1": "路段抽查记录"})
    assert _card(client.get("/").text, "待填写的评分表") is None
    sign_in(client, pw.purchaser)
    assert _card(client.get("/").text, "待填写的评分表") == ("2", f"/evaluations/{pw.evaluation.id}")
    sign_in(client, make_user("evaluator"))
    assert _card(client.get("/").text, "待填写的评分表") is None


def test_whole_dates_escapes_the_text_and_keeps_each_date_on_one_line():
    from evalplatform.web.templating import whole_dates

    assert str(whole_dates("<b>截止于 2026-12-25 23:59，或 2027-01-04。")) == (
        '&lt;b&gt;截止于 <span class="nowrap">2026-12-25 23:59</span>，或 '
        '<span class="nowrap">2027-01-04</span>。')


def test_a_rate_typed_as_a_fraction_is_said_back_beside_its_field(client, db, pw):
    """0.95 typed in the percent field of 道路保洁达标率 is saved as 0.95 %, and the draft's
    answer says so beside the field, with what to type for 95 %; the page says it again."""
    token = sign_in(client, pw.purchaser)
    url = client.post(f"/evaluations/{pw.evaluation.id}/sheets",
                      data={"part": "A", "kind": "data", "csrf_token": token}
                      ).headers["location"]
    response = client.post(f"{url}/draft", data={"value-A1.1": "0.95", "csrf_token": token},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    note = re.search(r'<p class="caution" id="note-1"[^>]*>([^<]*)</p>', response.text)
    assert note and note.group(1) == "读作 0.95%。如果您指的是 95%，请填 95。"
    assert "读作 0.95%。如果您指的是 95%，请填 95。" in client.get(url).text


def test_a_second_look_is_not_offered_once_the_result_is_published(client, db, pw):
    """The scoring summary and the sheet offered the purchaser '申请退回' on every submitted
    sheet whatever the evaluation's state; on a published or final result the request was
    recorded though finance could not act on it (a sheet is reopened only while sheets are
    filled). It is refused there now, naming the state, and no longer offered; while the
    sheets are filled and once computed it still is."""
    from evalplatform.models import EvaluationStatus
    from evalplatform.services.errors import Conflict
    from tests.test_scoresheets_world import principal

    purchaser = principal(db, pw.purchaser)
    sheet = scoresheets.start(db, purchaser, pw.evaluation.id, "A", "occasion", "第一季度")
    scoresheets.submit(db, purchaser, pw.evaluation.id, sheet.id,
                       {"value-A2.1": "达成", "value-A2.2": "10"})
    sign_in(client, pw.purchaser)
    summary = f"/evaluations/{pw.evaluation.id}/scoring"
    sheet_url = f"/evaluations/{pw.evaluation.id}/sheets/{sheet.id}"
    assert "/reopen-request" in client.get(summary).text
    for status, offered in ((EvaluationStatus.computed, True), (EvaluationStatus.published, False),
                            (EvaluationStatus.final, False)):
        pw.evaluation.status = status
        db.add(pw.evaluation)
        db.commit()
        assert ("/reopen-request" in client.get(summary).text) == offered, status
        assert ("/reopen-request" in client.get(sheet_url).text) == offered, status
    with pytest.raises(Conflict) as caught:
        scoresheets.request_reopen(db, purchaser, pw.evaluation.id, sheet.id, "请复核")
    assert "结果已确定" in caught.value.message
    db.expire_all()
    assert db.get(Scoresheet, sheet.id).reopen_request == ""


def test_the_scoring_summary_rounds_scores_half_up_once_as_the_engine_does(client, db, pw):
    """Two quarterly sheets give 安全生产 9.01 and 10: the part is 50 + 10 + 9.505 + 10 + 20 =
    99.505, which the result rounds half-up to 99.51. The summary wrote it with a float's
    "%.2f", 99.50, a cent below the result the organiser will see."""
    from tests.test_scoresheets_world import principal

    purchaser = principal(db, pw.purchaser)
    for label, points in (("第一季度", "9.01"), ("第二季度", "10")):
        sheet = scoresheets.start(db, purchaser, pw.evaluation.id, "A", "occasion", label)
        scoresheets.submit(db, purchaser, pw.evaluation.id, sheet.id, {
            "value-A2.1": "达成", "value-A2.2": points, "reason-A2.2": "一次未配备防护"})
    data = scoresheets.start(db, purchaser, pw.evaluation.id, "A", "data")
    values = {"A1.1": "95", "A1.2": "100", "A1.3": "98", "A2.3": "80", "A3.1": "100",
              "A3.2": "24"}
    scoresheets.submit(db, purchaser, pw.evaluation.id, data.id, {
        f"value-{k}": v for k, v in values.items()} | {f"source-{k}": "台账" for k in values})
    sign_in(client, pw.purchaser)
    page = client.get(f"/evaluations/{pw.evaluation.id}/scoring").text
    part = re.search(r'data-testid="part-score-A">([^<]*)<', page)
    assert part and part.group(1) == "99.51"


def _leaf_html(page: str, leaf_id: str) -> str:
    start = page.index(f'data-testid="leaf-{leaf_id}"')
    return page[page.rindex("<fieldset", 0, start):page.index("</fieldset>", start)]


def _input(html: str, name: str) -> str:
    return re.search(r'<(?:input|select) [^>]*name="' + re.escape(name) + r'"[^>]*>', html).group(0)


def _start_expert_sheet(client, db, pw) -> tuple[str, str, int]:
    member = pw.seated(db)[0]
    token = sign_in(client, pw.user_of(db, member))
    response = client.post(f"/evaluations/{pw.evaluation.id}/sheets",
                           data={"part": "C", "kind": "expert", "csrf_token": token})
    sheet_url = response.headers["location"]
    return token, sheet_url, int(sheet_url.rsplit("/", 1)[1])


def test_a_refused_submission_marks_only_the_field_each_message_is_about(client, db, pw):
    """Points above the maximum mark the points; a deduction without its reason marks the
    reason; 不适用 without why marks why; each marked field is described by its message."""
    token, sheet_url, sheet_id = _start_expert_sheet(client, db, pw)
    version = db.get(Scoresheet, sheet_id).version
    response = client.post(f"{sheet_url}/submit", data={
        "csrf_token": token, "version": str(version),
        "value-C1.2": "部分达成",  # below the top tier, no reason
        "value-C1.3": "16", "reason-C1.3": "一处满溢",  # above the maximum 15
        "na-C2.1": "1",  # not applicable, no reason
        "value-C2.2": "20"})
    assert response.status_code == 422
    page = response.text
    expected = {"C1.2": ("reason-C1.2", 1), "C1.3": ("value-C1.3", 2),
                "C2.1": ("na_reason-C2.1", 3)}
    for leaf_id, (marked, index) in expected.items():
        html = _leaf_html(page, leaf_id)
        assert '<fieldset class="leaf refused"' in html, leaf_id
        assert html.count("has-error") == 1 and html.count('aria-invalid="true"') == 1, leaf_id
        field = _input(html, marked)
        assert 'aria-invalid="true"' in field, leaf_id
        assert f"err-{index}" in re.search(r'aria-describedby="([^"]*)"', field).group(1).split()
        for other in ("value", "reason", "na_reason"):
            if f"{other}-{leaf_id}" != marked:
                assert "aria-invalid" not in _input(html, f"{other}-{leaf_id}"), (leaf_id, other)
        assert f'id="err-{index}" role="alert">' in html
    assert "0 到满分 15" in _leaf_html(page, "C1.3")
    fine = _leaf_html(page, "C2.2")
    assert "refused" not in fine and "has-error" not in fine and "aria-invalid" not in fine
    # a message about the reason is not read out with the points
    assert "err-1" not in _input(_leaf_html(page, "C1.2"), "value-C1.2")


def test_a_not_applicable_leaf_keeps_its_entry_in_the_draft_and_scores_only_the_na(client, db,
                                                                                   pw):
    token, sheet_url, sheet_id = _start_expert_sheet(client, db, pw)
    version = db.get(Scoresheet, sheet_id).version
    htmx = {"HX-Request": "true", "X-CSRF-Token": token}
    saved = client.post(f"{sheet_url}/draft", headers=htmx, data={
        "version": str(version), "value-C1.3": "12", "reason-C1.3": "一处满溢",
        "value-C2.1": "部分达成", "reason-C2.1": "夜间频次不足",
        "na-C1.3": "1", "na_reason-C1.3": "本期未设收集点",
        "value-C2.2": "20"})
    assert saved.status_code == 200
    # the subtotal leaves the n/a indicator out, typed figures or not
    assert "已评 2 / 4 项，得分 34.00（已评指标满分 40.00）；1 项不适用，不计入" in saved.text
    db.expire_all()
    stored = db.get(Scoresheet, sheet_id).scores
    assert stored["C1.3"]["na"] == "本期未设收集点"
    assert scoresheets.package_score(stored["C1.3"]) == {"na": "本期未设收集点"}
    # back on the sheet, the box is still ticked and the entry is still there
    page = client.get(sheet_url).text
    leaf = _leaf_html(page, "C1.3")
    assert "checked" in _input(leaf, "na-C1.3")
    assert 'value="12"' in _input(leaf, "value-C1.3")
    assert 'value="一处满溢"' in _input(leaf, "reason-C1.3")
    assert 'value="本期未设收集点"' in _input(leaf, "na_reason-C1.3")
    # unticked, it scores what was kept
    again = client.post(f"{sheet_url}/draft", headers=htmx, data={
        "version": str(version + 1), "value-C1.3": "12", "reason-C1.3": "一处满溢",
        "na_reason-C1.3": "本期未设收集点", "value-C2.2": "20"})
    assert again.status_code == 200 and "已评 2 / 4 项，得分 32.00" in again.text
    db.expire_all()
    assert db.get(Scoresheet, sheet_id).scores["C1.3"] == {"points": "12", "reason": "一处满溢"}
    # submitted as not applicable: the sheet holds the n/a alone, as scored and audited
    submitted = client.post(f"{sheet_url}/submit", data={
        "csrf_token": token, "version": str(version + 2), "value-C1.2": "达成",
        "value-C1.3": "12", "reason-C1.3": "一处满溢", "na-C1.3": "1",
        "na_reason-C1.3": "本期未设收集点", "value-C2.1": "达成", "value-C2.2": "20"})
    assert submitted.status_code == 303
    db.expire_all()
    assert db.get(Scoresheet, sheet_id).scores["C1.3"] == {"na": "本期未设收集点"}
    sheets = scoresheets.contribution(db, pw.evaluation).sheets
    assert sheets[0]["scores"]["C1.3"] == {"na": "本期未设收集点"}


def test_the_subtotal_after_a_refused_submission_is_the_one_the_draft_holds(client, db, pw):
    token, sheet_url, sheet_id = _start_expert_sheet(client, db, pw)
    version = db.get(Scoresheet, sheet_id).version
    typed = {"value-C1.3": "12", "reason-C1.3": "一处满溢", "value-C1.2": "部分达成",
             "reason-C1.2": "两座公厕有异味", "value-C2.2": "10", "reason-C2.2": "缺预案演练"}
    saved = client.post(f"{sheet_url}/draft", data={**typed, "version": str(version)},
                        headers={"HX-Request": "true", "X-CSRF-Token": token})
    held = "已评 3 / 4 项，得分 32.50（已评指标满分 50.00）"  # 12 + 15 × 0.7 + 10
    assert held in saved.text
    refused = client.post(f"{sheet_url}/submit", data={
        **typed, "value-C1.3": "16", "csrf_token": token, "version": str(version + 1)})
    assert refused.status_code == 422 and "0 到满分 15" in refused.text
    subtotal = re.search(r'<p id="sheet-subtotal"[^>]*>(.*?)</p>', refused.text, re.S).group(1)
    assert held in subtotal  # the refused 16 counts with its saved 12, and the box says so
    assert any(note in subtotal for note in (
        "1 marked indicator counted with its last saved entry", "1 项标出的指标按上次保存的内容计入"))
    db.expire_all()
    assert db.get(Scoresheet, sheet_id).scores["C1.3"] == {"points": "12", "reason": "一处满溢"}
    # the same on the page as loaded again
    assert held in client.get(sheet_url).text


def test_a_data_sheet_is_called_measured_data_not_by_its_code(client, db, pw):
    member = pw.seated(db)[0]
    token = sign_in(client, pw.user_of(db, member))
    response = client.post(f"/evaluations/{pw.evaluation.id}/sheets",
                           data={"part": "C", "kind": "data", "csrf_token": token})
    page = client.get(response.headers["location"]).text
    assert "DATA" not in page
    assert "<dt>评分表</dt><dd>客观数据</dd>" in page
    # the evidence box spans the page as the sheet does
    assert '<section class="card" id="attach-evidence">' in page


# ---------------------------------------------------------------- two people on one sheet


def _shared_quarter(client, db, pw, make_user):
    """The department's 第一季度 sheet, loaded on the page by its purchaser, then saved by a
    colleague (王芳) of the same department: the page's version is stale."""
    me = principal(db, pw.purchaser)
    colleague = principal(db, make_user("purchaser", organisation=pw.world.department,
                                        display_name="王芳"))
    sheet = scoresheets.start(db, me, pw.evaluation.id, "A", "occasion", "第一季度")
    url = f"/evaluations/{pw.evaluation.id}/sheets/{sheet.id}"
    token = sign_in(client, pw.purchaser)
    loaded = re.search(r'id="sheet-version" value="(\d+)"', client.get(url).text).group(1)
    saved, _parsed = scoresheets.save_draft(
        db, colleague, pw.evaluation.id, sheet.id,
        {"value-A2.1": "达成", "value-A2.2": "8", "reason-A2.2": "一次未配备防护"})
    return token, url, sheet.id, loaded, saved


MINE = {"value-A2.1": "达成", "value-A2.2": "6", "reason-A2.2": "两次未配备防护"}


def test_autosave_on_a_sheet_a_colleague_saved_since_overwrites_nothing_and_says_who(
        client, db, pw, make_user):
    token, url, sheet_id, loaded, saved = _shared_quarter(client, db, pw, make_user)
    htmx = {"HX-Request": "true", "X-CSRF-Token": token}
    for _keystroke in range(2):
        response = client.post(f"{url}/draft", headers=htmx, data={**MINE, "version": loaded})
        assert response.status_code == 422  # swapped into the status line
        status = re.search(r'data-testid="draft-status">([^<]*)<', response.text).group(1)
        assert "王芳" in status and local_time(saved.updated_at, "%Y-%m-%d %H:%M") in status
        assert "保存草稿" in status  # where to go to see the differences and choose
        # the form keeps the version it was loaded with: the next keystroke is refused again
        assert f'id="sheet-version" value="{loaded}" hx-swap-oob="true"' in response.text
        db.expire_all()
        assert db.get(Scoresheet, sheet_id).scores["A2.2"] == {
            "points": "8", "reason": "一次未配备防护"}


def test_saving_a_draft_over_a_colleagues_newer_version_keeps_what_was_typed(
        client, db, pw, make_user):
    token, url, sheet_id, loaded, saved = _shared_quarter(client, db, pw, make_user)
    response = client.post(f"{url}/draft", data={**MINE, "version": loaded, "csrf_token": token})
    assert response.status_code == 409
    page = response.text
    banner = page.split('data-testid="sheet-conflict"')[1].split("</div>")[0]
    assert "王芳" in banner and local_time(saved.updated_at, "%Y-%m-%d %H:%M") in banner
    assert "A2.2" in banner and "A2.1" not in banner  # only the leaf that differs is listed
    assert f'href="{url}"' in banner  # or load the saved version
    # what was typed is in the form, the colleague's entry beside it
    a22 = _leaf_html(page, "A2.2")
    assert 'value="6"' in _input(a22, "value-A2.2")
    assert 'value="两次未配备防护"' in _input(a22, "reason-A2.2")
    assert re.search(r'data-testid="stored-A2.2">.*<strong>8</strong>.*一次未配备防护', a22)
    assert 'data-testid="stored-A2.1"' not in page
    # the form carries the saved version, and autosave waits for the scorer's choice
    current = saved.version
    assert f'id="sheet-version" value="{current}"' in page
    assert "hx-post" not in page.split('id="sheet-form"')[1].split(">")[0]
    db.expire_all()
    assert db.get(Scoresheet, sheet_id).scores["A2.2"]["points"] == "8"
    # saving again is the choice to keep one's own entries
    again = client.post(f"{url}/draft", data={**MINE, "version": str(current),
                                              "csrf_token": token})
    assert again.status_code == 303
    db.expire_all()
    assert db.get(Scoresheet, sheet_id).scores["A2.2"] == {"points": "6",
                                                             "reason": "两次未配备防护"}


def test_submitting_over_a_colleagues_newer_version_keeps_what_was_typed(client, db, pw,
                                                                           make_user):
    token, url, sheet_id, loaded, saved = _shared_quarter(client, db, pw, make_user)
    response = client.post(f"{url}/submit", data={**MINE, "version": loaded,
                                                  "csrf_token": token})
    assert response.status_code == 409
    assert "王芳" in response.text.split('data-testid="sheet-conflict"')[1].split("</div>")[0]
    assert 'value="两次未配备防护"' in _input(_leaf_html(response.text, "A2.2"), "reason-A2.2")
    db.expire_all()
    sheet = db.get(Scoresheet, sheet_id)
    assert sheet.status == SheetStatus.draft and sheet.scores["A2.2"]["points"] == "8"
    # a refused submission (a deduction without its reason) does not keep the typed entries
    # as the draft over the colleague's either: the same page, with both messages
    refused = client.post(f"{url}/submit", data={"value-A2.1": "达成", "value-A2.2": "6",
                                                 "version": loaded, "csrf_token": token})
    assert refused.status_code == 409 and 'data-testid="sheet-conflict"' in refused.text
    assert 'id="sheet-errors"' in refused.text and "扣分理由" in refused.text
    db.expire_all()
    assert db.get(Scoresheet, sheet_id).scores["A2.2"] == {"points": "8",
                                                             "reason": "一次未配备防护"}


# ---------------------------------------------------------------- the length of a text


def test_a_reason_over_the_limit_is_marked_at_its_field_and_kept_as_typed(client, db, pw):
    token, sheet_url, sheet_id = _start_expert_sheet(client, db, pw)
    form = client.get(sheet_url).text
    for name in ("reason-C1.3", "na_reason-C1.3"):
        assert f'maxlength="{scoresheets.MAX_REASON}"' in _input(_leaf_html(form, "C1.3"), name)
    too_long = "一处满溢未清理" * 300  # 2,100 characters
    version = db.get(Scoresheet, sheet_id).version
    response = client.post(f"{sheet_url}/draft", data={
        "csrf_token": token, "version": str(version), "value-C1.3": "12",
        "reason-C1.3": too_long, "value-C2.2": "20"})
    assert response.status_code == 200  # the rest is saved
    html = _leaf_html(response.text, "C1.3")
    reason = _input(html, "reason-C1.3")
    assert f'value="{too_long}"' in reason and 'aria-invalid="true"' in reason
    assert 'aria-invalid' not in _input(html, "value-C1.3")
    assert "扣分理由" in html and "2000" in html
    db.expire_all()
    assert db.get(Scoresheet, sheet_id).scores == {"C2.2": {"points": "20"}}


def test_a_self_evaluation_over_the_limit_is_refused_and_kept_as_typed(client, db, pw):
    token = sign_in(client, pw.world.supplier_user)
    page = client.get(f"/evaluations/{pw.evaluation.id}").text
    assert f'maxlength="{scoresheets.MAX_SELF_SUMMARY}"' in re.search(
        r"<textarea [^>]*>", page).group(0)
    summary = "全年完成保洁任务。" * 1200  # 10,800 characters
    refused = client.post(f"/evaluations/{pw.evaluation.id}/self-evaluation",
                          data={"summary": summary, "csrf_token": token})
    assert refused.status_code == 422 and summary in refused.text
    assert re.search(r'id="e-summary"[^>]*>绩效目标完成情况：[^<]*10000', refused.text)
    assert scoresheets.self_evaluation_of(db, pw.evaluation.id) is None


# ---------------------------------------------------------------- downloads


def test_an_evaluations_files_download_under_their_own_names(client, db, pw):
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    sheet = scoresheets.start(db, who, pw.evaluation.id, "C", "expert")
    evidence = scoresheets.add_evidence(db, who, pw.evaluation.id, sheet.id, "C1.3", PDF,
                                        "满溢照片 3月.pdf")
    report = scoresheets.upload_report(db, who, pw.evaluation.id, PDF, "第三方评价报告.pdf")
    sign_in(client, pw.purchaser)
    for record, quoted in ((evidence, "%E6%BB%A1%E6%BA%A2%E7%85%A7%E7%89%87%203%E6%9C%88.pdf"),
                           (report, "%E7%AC%AC%E4%B8%89%E6%96%B9%E8%AF%84%E4%BB%B7%E6%8A%A5%E5%91%8A"
                                    ".pdf")):
        response = client.get(f"/evaluations/{pw.evaluation.id}/files/{record.id}")
        assert response.status_code == 200 and response.content == PDF
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment; filename=")
        assert f"filename*=UTF-8''{quoted}" in disposition
        ascii_name = re.search(r'filename="([^"]*)"', disposition).group(1)
        assert ascii_name.isascii() and ascii_name.endswith(".pdf")
