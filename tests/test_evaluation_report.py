"""The evaluation report (评价报告): what it says of a blocked result, of an earlier version,
in the reader's language, and what it never shows. The full chain is in
``tests/test_chain_end_to_end.py``; here the hand-computed street-cleaning case of
``tests/results_feed.py`` is enough."""

from __future__ import annotations

import io

from docx import Document

from evalplatform.i18n import language
from evalplatform.services import evaluation_report, evaluations, results
from tests.results_feed import (  # noqa: F401  (feed_fixture, world_fixture: fixtures)
    HAND_TOTAL,
    fed,
    feed_fixture,
    hand_inputs,
    principal,
    world_fixture,
)


def docx_text(report) -> str:
    document = Document(io.BytesIO(evaluation_report.docx(report)))
    return "\n".join([p.text for p in document.paragraphs] + [
        cell.text for table in document.tables for row in table.rows for cell in row.cells])


def report_of(db, world, evaluation, result):
    return evaluation_report.build(db, principal(world.finance), evaluation, result)


def test_a_blocked_result_reports_what_is_missing_before_anything_else(db, world, feed):
    inputs = hand_inputs()
    del inputs["data"]["A3.2"]
    evaluation = fed(db, world, feed, inputs)
    result = results.compute(db, principal(world.finance), evaluation.id)
    report = report_of(db, world, evaluation, result)
    assert not report.final_ready
    assert report.conclusion[0] == "评分有缺失，结果不能生效：可以查看，不能公示。"
    assert [m.what for m in report.missing] == ["没有测量数据"]
    text = docx_text(report)
    assert "评分有缺失" in text and "A3.2" in text


def test_each_deduction_is_listed_with_the_engines_reasons_and_nothing_else(db, world, feed):
    evaluation = fed(db, world, feed)
    result = results.compute(db, principal(world.finance), evaluation.id)
    report = report_of(db, world, evaluation, result)
    assert (report.total, report.grade) == (HAND_TOTAL, "良")
    lost = {d.id: d for d in report.deductions}
    # A2.2 (10 + 8) / 2 = 9 of 10; A1.1 and A1.3 meet their targets and are not listed
    assert lost["A2.2"].lost == "1.00" and "作业人员未穿反光背心" in lost["A2.2"].reasons[0]
    assert "A1.1" not in lost and "A1.3" not in lost
    assert all(d.lost != "0.00" for d in report.deductions)
    # the data leaf A3.2 lost 2 of 8: 8 × 24 / 32 = 6
    assert (lost["A3.2"].score, lost["A3.2"].lost) == ("6.00", "2.00")
    assert report.payment_facts[1] == ("支付比例", "95%")
    tables = Document(io.BytesIO(evaluation_report.docx(report))).tables
    header_rows = [[c.text for c in t.rows[0].cells] for t in tables]
    assert ["指标", "规则", "分值", "得分", "状态"] in header_rows  # points and score told apart


def test_an_earlier_version_is_reported_as_it_was_and_the_new_one_says_why(db, world, feed):
    evaluation = fed(db, world, feed)
    first = results.compute(db, principal(world.finance), evaluation.id)
    results.reopen(db, principal(world.purchaser), evaluation.id, "6 月考核表补录安全生产扣分")
    feed[evaluation.id]["sheets"][1]["scores"]["A2.2"] = {"points": 6, "reason": "两处未戴安全帽"}
    second = results.compute(db, principal(world.finance), evaluation.id)
    db.refresh(first)
    evaluation = evaluations.get(db, evaluation.id)
    old, new = report_of(db, world, evaluation, first), report_of(db, world, evaluation, second)
    assert old.total == HAND_TOTAL and new.total == "88.20"
    assert old.state_label != new.state_label
    assert ("重新计算的理由", "6 月考核表补录安全生产扣分") in new.facts
    assert not any(k == "重新计算的理由" for k, _v in old.facts)
    assert "两处未戴安全帽" not in docx_text(old) and "两处未戴安全帽" in docx_text(new)


def test_the_report_is_written_in_the_readers_language(db, world, feed):
    evaluation = fed(db, world, feed)
    result = results.compute(db, principal(world.finance), evaluation.id)
    with language("en"):
        report = report_of(db, world, evaluation, result)
        text = docx_text(report)
    assert report.title == "Performance evaluation report"
    assert "1. Basic information" in text and "Reasons for the deductions" in text
    assert report.filename == f"evaluation-report-{evaluation.id}-v1.docx"
    assert report.payment_facts[1] == ("Ratio", "95 %")  # English keeps its space


def test_a_rate_over_several_questions_names_the_people_its_margin_counts():
    from types import SimpleNamespace

    rates = [{"leaf": "B1", "rate": 0.8836, "n": 696, "respondents": 240, "margin": 0.0284},
             {"leaf": "B2", "rate": 0.8, "n": 310, "respondents": 310, "margin": 0.0445},
             {"leaf": "B3", "rate": 0.75, "n": 40, "margin": 0.134}]  # stored by engine /1
    view = SimpleNamespace(quality={"responses": 310, "answered": 310, "rates": rates},
                           nodes=[SimpleNamespace(id=i, name=f"满意度{i}") for i in
                                  ("B1", "B2", "B3")])
    with language("zh-CN"):
        _facts, lines = evaluation_report._survey(view)
    assert lines[0] == "B1 满意度B1：240 位受访者的 696 个回答中满意率 88.4%（±2.84%，按受访者计算）"
    assert "受访者" not in lines[1] and "310" in lines[1]
    assert "受访者" not in lines[2] and "40" in lines[2]


def test_the_subtitle_names_the_project_once(db, world, feed):
    """An evaluation titled 项目 · 第一季度监控 was subtitled 项目 · 项目 · 第一季度监控."""
    evaluation = fed(db, world, feed)
    result = results.compute(db, principal(world.finance), evaluation.id)
    project_name = report_of(db, world, evaluation, result).subtitle.split(" · ")[0]
    assert report_of(db, world, evaluation, result).subtitle \
        == f"{project_name} · {evaluation.title}"  # a title without it is prefixed
    evaluation.title = f"{project_name} · 第一季度监控"
    db.add(evaluation)
    db.commit()
    report = report_of(db, world, evaluation, result)
    assert report.subtitle == f"{project_name} · 第一季度监控"
    assert docx_text(report).count(f"{project_name} · {project_name}") == 0
