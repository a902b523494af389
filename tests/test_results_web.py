"""The result pages, the public list (公示) and the appeal pages over HTTP: what each role may
reach and do, what the public sees (no personal data), the downloads, lazy finalisation."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date

from sqlmodel import select

from evalplatform.models import Appeal, AppealStatus, EvaluationResult, EvaluationStatus
from evalplatform.services import appeals, evaluations, results
from tests.conftest import CSRF_RE, login
from tests.results_feed import (  # noqa: F401  (clock_, feed_, world_fixture: fixtures)
    HAND_TOTAL,
    PUBLISHED_AT,
    clock_fixture,
    fed,
    feed_fixture,
    hand_inputs,
    principal,
    published,
    world_fixture,
)

PDF = b"%PDF-1.4\n% evidence\n%%EOF\n"


def sign_in(client, user):
    client.cookies.clear()
    assert login(client, user.username).status_code == 303


def token(client, path="/") -> str:
    return CSRF_RE.search(client.get(path).text).group(1)


# ---------------------------------------------------------------- compute and read


def test_finance_computes_from_the_panel_and_reads_every_number(client, db, world, feed):
    evaluation = fed(db, world, feed)
    sign_in(client, world.finance)
    page = client.get(f"/evaluations/{evaluation.id}")
    assert 'id="compute-result"' in page.text
    response = client.post(f"/evaluations/{evaluation.id}/result/compute",
                           data={"csrf_token": token(client), "version": str(evaluation.version)})
    assert response.status_code == 303
    assert response.headers["location"] == f"/evaluations/{evaluation.id}/result"
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    text = page.text
    assert f'data-testid="result-total">{HAND_TOTAL}<' in text and "良" in text
    assert "作业人员未穿反光背心" in text  # why A2.2 lost points, from the trace
    assert "去掉最高和最低后平均" in text  # how the experts' sheets were combined
    assert "Kendall" in text and "data-chart=" in text and "echarts.min.js" in text
    assert "<script>" not in text  # no inline script (CSP)
    assert "¥296,400.00" in text  # the payment ratio it earns
    assert re.search(r'data-testid="ratio">95%<', text)  # a percentage, as everywhere else
    assert "版本" in text  # the Chinese page
    sheets = re.findall(r'<br><span class="hint">([^<]*)</span></td>', text)
    assert sheets and all("; " not in line and "；" in line for line in sheets)  # Chinese commas
    # the indicator table tells a leaf's points (分值) from what it scored (得分)
    assert re.search(r'>分值</th>\s*<th scope="col" class="num">得分</th>', text)
    report = client.get(f"/evaluations/{evaluation.id}/result/report").text
    assert re.search(r'>分值</th>\s*<th scope="col" class="num">得分</th>', report)
    panel = client.get(f"/evaluations/{evaluation.id}").text
    assert 'id="publish-result"' in panel and HAND_TOTAL in panel


def test_an_english_reader_reads_how_every_number_was_made_in_english(client, db, world, feed):
    """The engine writes its trace and warnings in Chinese; an English page showed them so."""
    evaluation = fed(db, world, feed)
    results.compute(db, principal(world.finance), evaluation.id)
    sign_in(client, world.finance)
    client.post("/language", data={"language": "en", "csrf_token": token(client)})
    for path in ("result", "result/report"):
        text = client.get(f"/evaluations/{evaluation.id}/{path}").text
        assert "mean without the highest and the lowest" in text  # how the sheets combined
        assert "去掉最高和最低后平均" not in text
        assert f"rounded half-up to two decimals (once) = {HAND_TOTAL}" in text
        assert "四舍五入" not in text and "评分表总分" not in text
        assert "payable = ¥" in text and "应付" not in text
        assert "作业人员未穿反光背心" in text  # what the expert wrote stays as written
    client.post("/language", data={"language": "zh_CN", "csrf_token": token(client)})
    text = client.get(f"/evaluations/{evaluation.id}/result").text
    assert "去掉最高和最低后平均" in text and "四舍五入到两位小数" in text


def test_a_trace_that_the_engine_no_longer_writes_stays_as_it_was_stored(client, db, world,
                                                                         feed):
    """A result stored by an older engine is not re-explained in other words: its own
    sentences are shown, untranslated, rather than a translation of other numbers."""
    evaluation = fed(db, world, feed)
    result = results.compute(db, principal(world.finance), evaluation.id)
    data = json.loads(json.dumps(result.result))
    total = next(line for line in data["trace"] if line["ref"] == "total")
    total["text"] = "总分 = 旧版引擎的写法"
    result.result = data
    db.add(result)
    db.commit()
    sign_in(client, world.finance)
    client.post("/language", data={"language": "en", "csrf_token": token(client)})
    text = client.get(f"/evaluations/{evaluation.id}/result").text
    assert "总分 = 旧版引擎的写法" in text
    assert "rounded half-up to two decimals" not in text
    assert "去掉最高和最低后平均" in text  # the whole stored trace, not a mixture


def test_where_the_inputs_came_from_is_named_in_the_readers_language(client, db, world, feed):
    from evalplatform.labels import INPUT_SOURCE_LABELS
    from evalplatform.services import evaluation_inputs

    real = {name for name in evaluation_inputs._COLLECTORS if not name.startswith("test-")}
    assert real and real <= set(INPUT_SOURCE_LABELS)  # every real collector has a name
    evaluation = fed(db, world, feed)
    result = results.compute(db, principal(world.finance), evaluation.id)
    package = json.loads(json.dumps(result.package))
    package["meta"]["sources"][0]["source"] = "scoresheets"  # as the real collectors say
    package["meta"]["sources"][1]["source"] = "survey"
    result.package = package
    db.add(result)
    db.commit()
    sign_in(client, world.finance)
    page = client.get(f"/evaluations/{evaluation.id}/result").text
    assert "<strong>评分表</strong>" in page and "<strong>满意度调查</strong>" in page
    assert "<strong>scoresheets</strong>" not in page and "<strong>survey</strong>" not in page


def test_the_downloaded_package_reproduces_the_result_on_the_command_line(client, db, world, feed,
                                                                          tmp_path, make_user):
    evaluation = fed(db, world, feed)
    result = results.compute(db, principal(world.finance), evaluation.id)
    sign_in(client, make_user("auditor"))
    response = client.get(f"/evaluations/{evaluation.id}/result/package.json?version=1")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    path = tmp_path / "package.json"
    path.write_bytes(response.content)
    run = subprocess.run([sys.executable, "-m", "scoring", "evaluate", str(path)],
                         capture_output=True, text=True, check=True)
    reproduced = json.loads(run.stdout)
    assert reproduced["total"] == HAND_TOTAL
    assert reproduced == result.result
    stored = client.get(f"/evaluations/{evaluation.id}/result/result.json?version=1")
    assert f"evaluation-{evaluation.id}-v1.result.json" in stored.headers["content-disposition"]
    assert f"evaluation-{evaluation.id}-v1.package.json" in response.headers["content-disposition"]
    assert stored.json() == reproduced  # the engine's answer as stored: what the package gives


def test_a_blocked_result_is_shown_with_what_is_missing_and_cannot_be_published(client, db, world,
                                                                                feed):
    inputs = hand_inputs()
    del inputs["data"]["A3.2"]
    evaluation = fed(db, world, feed, inputs)
    results.compute(db, principal(world.finance), evaluation.id)
    sign_in(client, world.purchaser)
    page = client.get(f"/evaluations/{evaluation.id}/result").text
    assert 'id="blocked"' in page and "A3.2" in page and 'id="publish-result"' not in page
    # the total on what is present is shown as provisional, and no grade is given for it
    stored = results.current(db, evaluation.id)
    assert stored.grade  # the engine grades what is present …
    assert "暂计总分（按已有评分计算）" in page
    assert re.search(r'data-testid="result-grade">—<', page)  # … the page does not show it
    panel = client.get(f"/evaluations/{evaluation.id}").text
    assert "暂计总分" in panel and f"<strong>{stored.grade}</strong>" not in panel
    db.refresh(evaluation)
    response = client.post(f"/evaluations/{evaluation.id}/result/publish",
                           data={"csrf_token": token(client), "version": str(evaluation.version)})
    assert response.status_code == 303
    assert "缺" in client.get(response.headers["location"]).text
    assert results.current(db, evaluation.id).published_at is None
    # the home page does not offer it for publication: it says what blocks it, and leads there
    home = client.get("/").text
    blocked = re.search(r'href="([^"]+)"[^>]*>(?:(?!</a>).)*因评分缺失不能公示的结果', home, re.S)
    assert blocked and blocked.group(1) == f"/evaluations/{evaluation.id}"
    assert re.search(r'待公示的结果</span>\s*<span class="card-value">0<', home)


def test_versions_stay_readable_through_the_switcher(client, db, world, feed):
    evaluation = fed(db, world, feed)
    results.compute(db, principal(world.finance), evaluation.id)
    sign_in(client, world.finance)
    db.refresh(evaluation)
    client.post(f"/evaluations/{evaluation.id}/result/reopen",
                data={"csrf_token": token(client), "version": str(evaluation.version),
                      "reason": "6 月考核表补录"})
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.scoring
    feed[evaluation.id]["sheets"][1]["scores"]["A2.2"] = 6
    results.compute(db, principal(world.finance), evaluation.id)
    latest = client.get(f"/evaluations/{evaluation.id}/result").text
    assert 'data-testid="result-total">88.20<' in latest and 'id="f-version"' in latest
    assert "6 月考核表补录" in latest
    first = client.get(f"/evaluations/{evaluation.id}/result?version=1").text
    assert f'data-testid="result-total">{HAND_TOTAL}<' in first and 'id="superseded"' in first
    assert client.get(f"/evaluations/{evaluation.id}/result?version=9").status_code == 404


# ---------------------------------------------------------------- the public list


def test_the_public_list_needs_no_sign_in_and_shows_no_personal_data(client, db, world, feed,
                                                                     clock):
    evaluation, result = published(db, world, feed)
    response = client.get("/results")
    assert response.status_code == 200
    text = response.text
    assert world.project.name in text and world.supplier.name in text
    assert world.department.name in text and HAND_TOTAL in text and "2026-10-10" in text
    detail = client.get(f"/results/{result.id}")
    assert detail.status_code == 200 and "第三方评价" in detail.text
    # the stage is a fact of its own, not a note in brackets around a bracketed label
    assert re.search(r"<dt>阶段</dt><dd>(事后（终期）|事中（监控）)</dd>", detail.text)
    assert "（事后（" not in detail.text and "（事中（" not in detail.text
    for html in (text, detail.text):
        page = html[html.index("<main"):html.index("</main>")]  # what the page shows
        for personal in (world.finance.display_name, world.finance.username,
                         world.purchaser.username, world.supplier_user.username, "E1", "E2",
                         "2026-05", "作业人员未穿反光背心", "满意度问卷"):
            assert personal not in page, personal
    api = client.get("/api/results").json()
    assert api["total"] == 1 and api["items"][0]["total"] == HAND_TOTAL
    assert set(api["items"][0]) == {"id", "evaluation", "project", "department", "supplier",
                                    "total", "grade", "published_on", "appeal_deadline", "state",
                                    "parts"}


def test_an_unpublished_result_is_not_public(client, db, world, feed):
    evaluation = fed(db, world, feed)
    result = results.compute(db, principal(world.finance), evaluation.id)
    assert client.get(f"/results/{result.id}").status_code == 404
    assert world.project.name not in client.get("/results").text


def test_loading_a_page_makes_due_results_final(client, db, world, feed, clock):
    evaluation, result = published(db, world, feed)
    assert "可申诉" in client.get("/results").text
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.published
    clock.set(date(2026, 10, 11))  # the window closed yesterday
    page = client.get("/results").text
    db.expire_all()
    assert db.get(type(evaluation), evaluation.id).status == EvaluationStatus.final
    assert db.get(EvaluationResult, result.id).final_at is not None
    assert "已确定" in page


# ---------------------------------------------------------------- appeals over HTTP


def test_the_supplier_appeals_and_finance_decides_on_the_pages(client, db, world, feed, clock):
    evaluation, result = published(db, world, feed)
    sign_in(client, world.supplier_user)
    page = client.get(f"/evaluations/{evaluation.id}/result").text
    assert 'id="file-appeal"' in page and "2026-10-10" in page
    deadline = re.search(r'data-testid="appeal-deadline">(.*?)</dd>', page).group(1)
    assert deadline.startswith("2026-10-10（公示后 ") and deadline.endswith("调休计算）")
    assert re.search(r"<dt>问卷份数</dt><dd>\d+（有效作答 \d+ 份）</dd>", page)  # full-width
    form = client.get(f"/evaluations/{evaluation.id}/appeal")
    csrf = CSRF_RE.search(form.text).group(1)
    assert "至少 10 个字" in form.text  # the rule is told before the form is sent
    bad = client.post(f"/evaluations/{evaluation.id}/appeal",
                      data={"csrf_token": csrf, "reasons": "不服"})
    assert bad.status_code == 422 and 'id="e-reasons"' in bad.text
    response = client.post(
        f"/evaluations/{evaluation.id}/appeal",
        data={"csrf_token": csrf, "reasons": "6 月 12 日暴雨停工已报备，台账缺记录不应扣分。",
              "leaves": ["A2.1"]},
        files=[("evidence", ("停工报备.pdf", PDF, "application/pdf"))])
    assert response.status_code == 303, response.text
    appeal = db.exec(select(Appeal)).one()
    assert response.headers["location"] == f"/appeals/{appeal.id}"
    evidence_url = f"/appeals/{appeal.id}/evidence/{appeal.evidence[0]['sha256']}"
    assert client.get(evidence_url).content == PDF
    assert "停工报备.pdf" in client.get(f"/appeals/{appeal.id}").text
    assert client.post(f"/appeals/{appeal.id}/decide",
                       data={"csrf_token": csrf, "outcome": "uphold",
                             "decision": "x"}).status_code == 403

    sign_in(client, world.finance)
    detail = client.get(f"/appeals/{appeal.id}").text
    assert 'id="decide-form"' in detail
    csrf = CSRF_RE.search(detail).group(1)
    missing = client.post(f"/appeals/{appeal.id}/decide",
                          data={"csrf_token": csrf, "outcome": "reopen", "decision": "复核",
                                "version": "1"})
    assert missing.status_code == 422 and 'id="e-leaves"' in missing.text
    done = client.post(f"/appeals/{appeal.id}/decide",
                       data={"csrf_token": csrf, "outcome": "reopen", "decision": "请重新评 A2.1",
                             "leaves": ["A2.1"], "version": "1"})
    assert done.status_code == 303
    db.expire_all()
    assert db.get(Appeal, appeal.id).status == AppealStatus.reopened
    assert evaluations.get(db, evaluation.id).status == EvaluationStatus.scoring
    listing = client.get("/appeals").text
    assert f"/appeals/{appeal.id}" in listing


def test_the_supplier_sees_its_results_open_to_appeal(client, db, world, feed, clock):
    evaluation, _result = published(db, world, feed)
    sign_in(client, world.supplier_user)
    page = client.get("/appeals").text
    assert f"/evaluations/{evaluation.id}/appeal" in page
    home = client.get("/").text
    assert "可申诉的结果" in home


# ---------------------------------------------------------------- role and ownership on every route


def test_every_result_route_checks_role_and_ownership(client, db, world, feed, make_user,
                                                      make_org, clock):
    evaluation, result = published(db, world, feed)
    appeal = appeals.file(db, principal(world.supplier_user), evaluation.id,
                          reasons="台账缺记录为暴雨停工，已报备。", evidence=[(PDF, "a.pdf")],
                          today=date(2026, 10, 9))
    other_dept = make_user("purchaser", organisation=make_org("purchasing_department", name="别局"))
    strangers = {"other purchaser": other_dept, "other supplier": make_user("supplier")}
    e, a, sha = evaluation.id, appeal.id, appeal.evidence[0]["sha256"]
    reads = [f"/evaluations/{e}/result", f"/evaluations/{e}/result/package.json",
             f"/evaluations/{e}/result/result.json", f"/api/evaluations/{e}/result",
             f"/evaluations/{e}/result/report", f"/evaluations/{e}/result/report.docx",
             f"/appeals/{a}", f"/appeals/{a}/evidence/{sha}"]
    users = {"finance": world.finance, "purchaser": world.purchaser,
             "supplier": world.supplier_user, "auditor": make_user("auditor"),
             "evaluator": make_user("evaluator"), "admin": make_user("admin"), **strangers}
    expected_read = {"finance": 200, "purchaser": 200, "supplier": 200, "auditor": 200,
                     "evaluator": 403, "admin": 403, "other purchaser": 404, "other supplier": 404}
    for name, user in users.items():
        sign_in(client, user)
        for url in reads:
            assert client.get(url).status_code == expected_read[name], (name, url)
        assert client.get("/appeals").status_code == (
            403 if name in ("evaluator", "admin") else 200), name
        csrf = token(client)
        # writes: compute/publish/reopen are the organisers'; decide is finance's; appeal the supplier's
        organiser = {"finance": 303, "purchaser": 303, "other purchaser": 404}.get(name, 403)
        if name == "other supplier":
            organiser = 403
        for action in ("compute", "publish"):
            status = client.post(f"/evaluations/{e}/result/{action}",
                                 data={"csrf_token": csrf}).status_code
            assert status == organiser, (name, action)
        reopen = client.post(f"/evaluations/{e}/result/reopen",
                             data={"csrf_token": csrf, "reason": "复核"}).status_code
        assert reopen == organiser, (name, "reopen")  # the service refuses: an appeal is open
        appeal_form = client.get(f"/evaluations/{e}/appeal").status_code
        assert appeal_form == {"supplier": 200, "other supplier": 404}.get(name, 403), name
        decide = client.post(f"/appeals/{a}/decide", data={"csrf_token": csrf}).status_code
        assert decide == {"finance": 422}.get(name, 403 if name in (
            "purchaser", "supplier", "auditor", "evaluator", "admin", "other purchaser",
            "other supplier") else 404), name
    client.cookies.clear()
    for url in reads + ["/appeals", f"/evaluations/{e}/appeal"]:
        response = client.get(url)
        assert response.status_code in (303, 401), url  # sign in first
    db.expire_all()
    assert db.get(Appeal, a).status == AppealStatus.open
    assert results.current(db, e).version == 1


def test_the_supplier_cannot_read_an_unpublished_result(client, db, world, feed):
    evaluation = fed(db, world, feed)
    results.compute(db, principal(world.finance), evaluation.id)
    sign_in(client, world.supplier_user)
    assert client.get(f"/evaluations/{evaluation.id}/result").status_code == 404
    assert client.get(f"/evaluations/{evaluation.id}/result/package.json").status_code == 404
    for report in ("report", "report.docx"):
        assert client.get(f"/evaluations/{evaluation.id}/result/{report}").status_code == 404
    panel = client.get(f"/evaluations/{evaluation.id}").text
    assert HAND_TOTAL not in panel


def test_an_auditor_reads_but_the_panel_offers_no_actions(client, db, world, feed, make_user):
    evaluation = fed(db, world, feed)
    sign_in(client, make_user("auditor"))
    page = client.get(f"/evaluations/{evaluation.id}").text
    assert 'id="result-panel"' in page and 'id="compute-result"' not in page
    assert PUBLISHED_AT  # (the fixed publication moment is shared with the service tests)


def test_a_download_name_cannot_break_the_header():
    from evalplatform.web.templating import attachment

    header = attachment("停工\r\nSet-Cookie: x=1.pdf")
    assert "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="')
    assert "filename*=UTF-8''%E5%81%9C%E5%B7%A5%0D%0ASet-Cookie" in header


def test_a_leafs_scoring_standard_is_written_in_words_not_the_editors_syntax(
        client, db, world, feed):
    """The result page showed the scheme editor's parameters to suppliers and finance:
    'tiers=达成:1, …', 'target=1; unit=比例', "scale={'满意': 100, …, '不了解': None}"."""
    from evalplatform.i18n import language

    evaluation = fed(db, world, feed)
    results.compute(db, principal(world.finance), evaluation.id)
    sign_in(client, world.finance)
    page = client.get(f"/evaluations/{evaluation.id}/result").text
    standards = re.findall(r'<p class="rule-words">([^<]*)</p>', page)
    assert standards  # the leaves with a rule say it
    for text in standards:
        assert not re.search(r"\b(tiers|target|unit|bands|questions|scale|satisfied)=", text), text
        assert "None" not in text and "{" not in text, text
    assert "tiers=" not in page and "target=" not in page
    tiers = {"type": "tiers", "tiers": [{"name": "达成", "coefficient": "1"},
                                        {"name": "部分达成", "coefficient": "0.7"}]}
    assert results.rule_in_words(tiers) == "档次系数：达成 × 1；部分达成 × 0.7；得分 = 满分 × 系数。"
    assert results.rule_in_words({"type": "ratio_ge", "target": "0.95", "unit": "比例"}) == \
        "目标 95%；得分 = 满分 × min(实测 ÷ 目标, 1)。"
    assert results.rule_in_words({"type": "ratio_le", "target": "24", "unit": "小时"}) == \
        "目标不超过 24 小时；得分 = 满分 × min(目标 ÷ 实测, 1)。"
    assert results.rule_in_words({"type": "thresholds", "unit": "比例", "bands": [
        {"min": "0.95", "points": "8"}, {"min": "0", "points": "0"}]}) == \
        "分档：≥ 95% → 8；≥ 0% → 0"
    survey = {"type": "survey_rate", "questions": ["Q1"], "satisfied": ["满意", "较满意"],
              "target": "90", "scale": {"满意": 100, "较满意": 80, "不了解": None}}
    assert results.rule_in_words(survey) == (
        "题目 Q1 中回答为 满意；较满意 的比例，对照目标 90%（量表：满意 100；较满意 80；不了解 不计）。")
    with language("en"):
        assert results.rule_in_words(tiers) == \
            "Tier coefficients: 达成 × 1; 部分达成 × 0.7; points = max × coefficient."


def test_the_api_refuses_a_result_version_that_is_not_a_whole_number_from_1(client, db, world,
                                                                            feed, clock):
    """?version=abc was read as no version and answered with the latest: a program asking for
    a version it mistyped must be told, naming ``version`` and the rule."""
    evaluation, result = published(db, world, feed)
    sign_in(client, world.finance)
    url = f"/api/evaluations/{evaluation.id}/result"
    assert client.get(url).json()["version"] == result.version
    assert client.get(f"{url}?version={result.version}").json()["version"] == result.version
    for bad, message in (("abc", "结果版本须为整数。"), ("1.5", "结果版本须为整数。"),
                         ("0", "结果版本不得小于 1。"), ("-1", "结果版本不得小于 1。")):
        response = client.get(f"{url}?version={bad}")
        assert response.status_code == 422, bad
        assert response.json()["errors"] == {"version": message}, bad
    assert client.get(f"{url}?version=99").status_code == 404
    version = next(p for p in client.get("/api/openapi.json").json()["paths"][url.replace(
        str(evaluation.id), "{evaluation_id}")]["get"]["parameters"] if p["name"] == "version")
    assert version["schema"]["anyOf"][0] == {"type": "integer", "minimum": 1}


def test_every_cell_of_the_printable_report_names_its_column_on_a_phone(client, db, world, feed):
    """On a 375 px phone a data table stacks each cell under its column's name (data-label);
    the report's tables had none, so a reader saw 第三方 / 1.00 / 89.6215 with nothing saying
    which was the weight and which the part score."""
    evaluation, _result = published(db, world, feed)
    sign_in(client, world.finance)
    report = client.get(f"/evaluations/{evaluation.id}/result/report").text
    tables = re.findall(r'<table class="data[^"]*">(.*?)</table>', report, re.S)
    assert len(tables) >= 2  # the parts and the indicators at least
    for table in tables:
        cells = re.findall(r"<td[^>]*>", table)
        assert cells and all('data-label="' in cell for cell in cells), cells[:3]
    assert 'data-label="权重"' in report and 'data-label="得分"' in report


def test_the_public_list_keeps_a_projects_name_and_evaluation_together_on_a_phone(client, db,
                                                                                  world, feed):
    """A stacked cell lays its children side by side: the project's link and the evaluation's
    title beside it were squeezed into two columns a few characters wide at 375 px."""
    evaluation, result = published(db, world, feed)
    page = client.get("/results").text
    assert re.search(rf'<td data-label="项目"><div><a href="/results/{result.id}">[^<]+</a><br>'
                     r'<span class="hint">[^<]+</span></div></td>', page)


def test_the_appeal_list_keeps_a_projects_name_and_evaluation_together_on_a_phone(client, db,
                                                                                  world, feed,
                                                                                  clock):
    evaluation, _result = published(db, world, feed)
    appeal = appeals.file(db, principal(world.supplier_user), evaluation.id,
                          reasons="6 月 12 日的巡查记录有误，见附件。", evidence=[(PDF, "记录.pdf")])
    sign_in(client, world.supplier_user)
    page = client.get("/appeals").text
    assert f"/appeals/{appeal.id}" in page
    assert re.search(r'<td data-label="项目"><div>[^<]+<br><span class="hint">[^<]+</span>'
                     r'</div></td>', page)
