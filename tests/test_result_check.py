"""Re-scoring the stored results (结果复核): every version is scored again from its own
package, many at a time, and what differs from what was stored is named."""

from __future__ import annotations

import copy

import pytest
from sqlmodel import select

from evalplatform.models import Evaluation, EvaluationResult
from evalplatform.services import result_check, results
from tests.results_feed import (  # noqa: F401  (feed_fixture, world_fixture: fixtures)
    HAND_TOTAL,
    feed_fixture,
    hand_inputs,
    principal,
    published,
    world_fixture,
)
from tests.test_audit import cli_env  # noqa: F401


def two_versions(db, world, feed):
    """Version 1 published, then reopened and computed again on other inputs (version 2)."""
    evaluation, first = published(db, world, feed)
    results.reopen(db, principal(world.finance), evaluation.id, "申诉成立, 补录 6 月考核表")
    inputs = hand_inputs()
    inputs["sheets"][0]["scores"]["A2.2"] = 6
    feed[evaluation.id] = inputs
    second = results.compute(db, principal(world.finance), evaluation.id)
    assert second.total != first.total
    return first, second


def tamper(db, row_id: int, change) -> None:
    """Change a stored row behind the application's back (as a bad actor would)."""
    row = db.get(EvaluationResult, row_id)
    package, result = copy.deepcopy(row.package), copy.deepcopy(row.result)
    change(package, result)
    row.package, row.result = package, result
    db.add(row)
    db.commit()


def test_every_stored_version_is_reproduced_from_its_package(db, world, feed):
    first, second = two_versions(db, world, feed)
    seen = []
    report = result_check.check_all(db, progress=lambda done, total: seen.append((done, total)))
    assert report.ok and report.checked == 2 and report.reworded == 0
    assert seen == [(2, 2)]
    assert first.total == HAND_TOTAL  # what was reproduced is the hand-checked figure


def test_a_changed_figure_is_named_with_both_values(db, world, feed):
    first, second = two_versions(db, world, feed)

    def change(package, result):
        result["total"], result["grade"] = "95.00", "优"

    tamper(db, first.id, change)
    report = result_check.check_all(db)
    assert not report.ok and report.checked == 2
    assert {(d.result_id, d.version, d.figure) for d in report.differences} == {
        (first.id, 1, "total"), (first.id, 1, "grade")}
    total = next(d for d in report.differences if d.figure == "total")
    assert total.stored == "95.00" and total.recomputed == HAND_TOTAL


def test_a_changed_input_is_caught_by_the_figures_it_moves(db, world, feed):
    first, _second = two_versions(db, world, feed)

    def change(package, result):  # one more satisfied respondent than were collected
        package["inputs"]["responses"][9]["Q1"] = "满意"

    tamper(db, first.id, change)
    figures = {d.figure for d in result_check.check_all(db).differences}
    assert {"total", "exact_total", "nodes", "quality"} <= figures


def test_other_words_with_the_same_figures_are_counted_not_failed(db, world, feed):
    first, _second = two_versions(db, world, feed)

    def change(package, result):
        result["trace"][0]["text"] = "旧版引擎的说明"

    tamper(db, first.id, change)
    report = result_check.check_all(db)
    assert report.ok and report.reworded == 1


def test_a_payment_explained_in_other_words_is_reworded_but_its_amounts_are_figures(db, world,
                                                                                    feed):
    first, second = two_versions(db, world, feed)
    assert first.result["payment"]["basis"]

    def reworded(package, result):  # as engine /1 wrote it, without thousands separators
        result["payment"]["basis"] = result["payment"]["basis"].replace(",", "")

    def changed(package, result):
        result["payment"]["payable"] = "1.00"

    tamper(db, first.id, reworded)
    tamper(db, second.id, changed)
    report = result_check.check_all(db)
    assert report.reworded == 1
    assert [(d.result_id, d.figure) for d in report.differences] == [(second.id, "payment")]


def test_quality_notes_in_other_words_are_reworded_but_the_statistics_are_figures(db, world,
                                                                                 feed):
    first, second = two_versions(db, world, feed)
    panels = [p for p in first.result["quality"]["panels"]]
    assert panels

    def reworded(package, result):  # as an earlier engine punctuated its notes
        quality = result["quality"]
        quality["alpha_note"] = (quality.get("alpha_note") or "") + " (旧版)"
        for panel in quality["panels"]:
            panel["note"] = "评分没有差异 (全部相同), 一致性系数无法计算"

    def changed(package, result):
        result["quality"]["panels"][0]["sheets"] += 1

    tamper(db, first.id, reworded)
    tamper(db, second.id, changed)
    report = result_check.check_all(db)
    assert report.reworded == 1
    assert [(d.result_id, d.figure) for d in report.differences] == [(second.id, "quality")]


def test_a_figure_an_earlier_engine_computed_otherwise_is_set_apart_not_failed(db, world,
                                                                              feed):
    first, _second = two_versions(db, world, feed)

    def older(package, result):  # as evalplatform-scoring/1 stored it: no respondents
        result["engine"] = "evalplatform-scoring/1"
        for rate in result["quality"]["rates"]:
            del rate["respondents"]

    tamper(db, first.id, older)
    report = result_check.check_all(db)
    assert report.ok and not report.differences
    [upgrade] = report.upgrades
    assert (upgrade.engine, upgrade.figure) == ("evalplatform-scoring/1", "quality")
    assert [d.result_id for d in upgrade.differences] == [first.id]


def test_an_earlier_engine_explains_only_the_figures_it_computed_otherwise(db, world, feed):
    first, _second = two_versions(db, world, feed)

    def older_and_changed(package, result):
        result["engine"] = "evalplatform-scoring/1"
        result["total"] = "99.99"

    tamper(db, first.id, older_and_changed)
    report = result_check.check_all(db)
    assert not report.ok
    assert [(d.result_id, d.figure) for d in report.differences] == [(first.id, "total")]
    assert not report.upgrades  # its quality is today's


def test_a_package_that_no_longer_scores_is_named_and_the_rest_still_checked(db, world, feed):
    first, second = two_versions(db, world, feed)

    def change(package, result):
        package["scheme"]["parts"][0]["weight"] = "0.90"

    tamper(db, second.id, change)
    report = result_check.check_all(db)
    assert report.checked == 2
    [bad] = report.differences
    assert (bad.result_id, bad.figure) == (second.id, "package")
    assert bad.recomputed.startswith("$.scheme.parts: ") and "≠ 1.00" in bad.recomputed


def test_small_chunks_give_the_same_report(db, world, feed):
    first, _second = two_versions(db, world, feed)
    tamper(db, first.id, lambda package, result: result.update(grade="差"))
    seen = []
    small = result_check.check_all(db, chunk=1, progress=lambda d, t: seen.append((d, t)))
    whole = result_check.check_all(db)
    assert small.differences == whole.differences and small.checked == whole.checked == 2
    assert seen == [(1, 2), (2, 2)]
    # nothing was written, and the session's own objects were left alone
    assert db.exec(select(EvaluationResult).where(EvaluationResult.id == first.id)
                   ).one().result["grade"] == "差"


def test_the_cli_checks_and_exits_1_on_a_difference(db, world, feed, cli_env):  # noqa: F811
    from typer.testing import CliRunner

    from evalplatform.cli import app

    first, _second = two_versions(db, world, feed)
    runner = CliRunner()
    good = runner.invoke(app, ["results", "check"])
    assert good.exit_code == 0, good.output
    assert "2 result(s) scored again: 0 difference(s)" in good.output
    tamper(db, first.id, lambda package, result: result.update(total="99.99"))
    bad = runner.invoke(app, ["results", "check", "--chunk", "1"])
    assert bad.exit_code == 1
    assert (f"result {first.id} (evaluation {first.evaluation_id}, version 1): total stored "
            f"99.99, recomputed {HAND_TOTAL}") in bad.output


# ---------------------------------------------------------------- on the audit page


def test_an_auditor_re_scores_every_result_from_the_audit_page(db, world, feed, client,
                                                                signed_in):
    first, _second = two_versions(db, world, feed)
    signed_in("auditor")
    page = client.get("/audit").text
    assert 'hx-get="/audit/results-check"' in page and "复核全部结果" in page
    good = client.get("/audit/results-check")
    assert good.status_code == 200
    assert "所有已保存的结果都能由各自的计分数据包重算得出：已重算 2 个版本" in good.text
    tamper(db, first.id, lambda package, result: result.update(total="99.99"))
    bad = client.get("/audit/results-check").text
    assert "重算 2 个结果版本，有 1 项数字与其计分数据包不再一致" in bad
    row = bad[bad.index("<tbody>"):bad.index("</tbody>")]
    assert f'href="/evaluations/{first.evaluation_id}/result?version=1"' in row
    assert "总分" in row and "<code>99.99</code>" in row and f"<code>{HAND_TOTAL}</code>" in row
    assert f">{db.get(Evaluation, first.evaluation_id).title}</a>" in row
    assert "仅列出" not in bad  # all shown


def test_a_long_list_of_differences_is_cut_and_counted(db, world, feed, client, signed_in,
                                                        monkeypatch):
    from evalplatform.web.routes import audit_log

    first, second = two_versions(db, world, feed)
    for row in (first, second):
        tamper(db, row.id, lambda package, result: result.update(total="1.00", grade="差"))
    monkeypatch.setattr(audit_log, "SHOWN_DIFFERENCES", 3)
    signed_in("finance")
    page = client.get("/audit/results-check").text
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    assert body.count("<tr>") == 3
    assert "仅列出 4 项差异中的前 3 项" in page


def test_the_page_explains_figures_of_an_earlier_engine(db, world, feed, client, signed_in):
    first, _second = two_versions(db, world, feed)

    def older(package, result):
        result["engine"] = "evalplatform-scoring/1"
        result["quality"]["margin"] = 0.015

    tamper(db, first.id, older)
    signed_in("auditor")
    page = client.get("/audit/results-check").text
    assert "flash-success" in page and "flash-error" not in page
    section = page[page.index('data-engine="evalplatform-scoring/1"'):]
    assert "1 个结果版本的质量证据由早期计分引擎 evalplatform-scoring/1 计算" in section
    assert "按作答的受访者人数计算" in section
    assert f'href="/evaluations/{first.evaluation_id}/result?version=1"' in section


@pytest.mark.parametrize("role", ["admin", "purchaser", "supplier", "evaluator"])
def test_only_those_who_read_every_result_may_re_score_them(client, signed_in, role):
    signed_in(role)
    assert client.get("/audit/results-check").status_code == 403
    if role == "admin":  # the administrator reads the audit log, not the results
        page = client.get("/audit").text
        assert "/audit/results-check" not in page and "复核全部结果" not in page


def test_with_no_result_yet_the_page_says_there_is_nothing_to_check(db, client, signed_in):
    signed_in("finance")
    assert result_check.check_all(db).checked == 0
    page = client.get("/audit/results-check").text
    assert "尚无已计算的结果，无需复核。" in page and "flash-error" not in page
