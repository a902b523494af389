"""The scoring model of DESIGN.md, rule by rule, on small packages."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from scoring_builders import SAT, abc_scheme, group, leaf, package, part, scheme, sheet

import scoring


def one(sch, *sheets, **kw):
    """Evaluate through both paths and check they agree."""
    pkg = package(sch, sheets, **kw)
    res = scoring.evaluate(pkg)
    assert scoring.evaluate_many([pkg, pkg]) == [res, res]
    return res


def two_parts(score_a: float, score_b: float, wa="0.5", wb="0.5"):
    sch = scheme(part("A", wa, leaf("a", 100)), part("B", wb, leaf("b", 100)))
    return one(sch, sheet("A", "E1", a=score_a), sheet("B", "E1", b=score_b))


# ----------------------------------------------------------------------------- the example


def test_example_package_result(example):
    res = scoring.evaluate(example)
    assert res.total == Decimal("88.99")
    assert res.grade == "良"
    assert res.final_ready and not res.missing
    parts = {p.id: p for p in res.parts}
    assert parts["P"].score == pytest.approx(94.6666666667)
    assert parts["T"].score == pytest.approx(85.275)
    # leaves add up to their parents, parents to the part
    assert res.nodes["A1"].score == pytest.approx(res.nodes["A11"].score + res.nodes["A12"].score)
    assert res.nodes["A11"].score == pytest.approx(20 * 1150 / 1200)
    assert res.payment.payable == Decimal("285000.00")
    assert res.payment.payable + res.payment.deduction == Decimal("300000.00")
    d = res.as_dict()
    json.dumps(d)  # plain JSON
    assert d["total"] == "88.99" and d["payment"]["ratio"] == "0.95"
    refs = {t["ref"] for t in d["trace"]}
    assert {"A11", "B1", "C41", "P", "R", "T", "total", "grade", "payment"} <= refs


# ----------------------------------------------------------------------------- rounding


def test_half_up_on_the_decimal_value_89_995_is_90_and_excellent():
    res = two_parts(89.99, 90.0)
    assert res.total == Decimal("90.00")
    assert res.grade == "优"


def test_89_994_rounds_down_to_good():
    res = two_parts(89.988, 90.0)
    assert res.total == Decimal("89.99")
    assert res.grade == "良"


def test_float_noise_below_a_boundary_is_not_a_lower_grade():
    # 0.3 × 82.3 + 0.7 × 93.3 is exactly 90 but 89.99999999999999 in binary floating point
    assert 0.3 * 82.3 + 0.7 * 93.3 < 90
    res = two_parts(82.3, 93.3, "0.3", "0.7")
    assert res.exact_total < 90
    assert res.total == Decimal("90.00") and res.grade == "优"


def test_round_score_is_the_one_rounding_function():
    assert scoring.round_score(89.995) == Decimal("90.00")
    assert scoring.round_score(89.9949) == Decimal("89.99")
    assert scoring.round_score(89.994999999) == Decimal("89.99")
    assert scoring.round_score(89.99499999999) == Decimal("90.00")  # float noise of 89.995
    assert scoring.round_score(89.99999999999) == Decimal("90.00")
    assert scoring.round_score("80.125") == Decimal("80.13")
    assert scoring.round_score(Decimal("80.135")) == Decimal("80.14")


@pytest.mark.parametrize("total, grade", [(90, "优"), (89.99, "良"), (80, "良"), (79.99, "中"),
                                          (60, "中"), (59.99, "差"), (0, "差")])
def test_grade_lower_bounds_are_inclusive(total, grade):
    res = two_parts(total, total)
    assert res.grade == grade


def test_grades_are_per_scheme():
    sch = scheme(part("A", "1", leaf("a", 100)),
                 grades=[{"name": "合格", "min": "70"}, {"name": "不合格", "min": "0"}])
    assert one(sch, sheet("A", "E", a=70)).grade == "合格"
    assert one(sch, sheet("A", "E", a=69.99)).grade == "不合格"


# ----------------------------------------------------------------------------- n/a, missing


def test_not_applicable_rescales_the_part():
    res = one(abc_scheme(), sheet("P", "E1", A=30, B={"na": "本年度未发生"}, C=20))
    assert res.parts[0].score == pytest.approx(50 / 70 * 100)
    assert res.nodes["B"].status == "na" and res.nodes["B"].score is None
    assert res.parts[0].applicable == 70
    assert res.final_ready
    text = " ".join(t.text for t in res.trace)
    assert "本年度未发生" in text and "50.00 / 70 × 100" in text


def test_majority_of_chosen_sheets_decides_applicability():
    # two of three say B is not applicable → B is dropped, the one score is ignored
    res = one(abc_scheme(), sheet("P", "E1", A=40, B={"na": "无"}, C=30),
              sheet("P", "E2", A=40, B={"na": "无"}, C=30), sheet("P", "E3", A=40, B=10, C=30))
    assert res.nodes["B"].status == "na"
    assert res.parts[0].score == pytest.approx(100.0)
    # one of three says so → B is averaged over the two sheets that scored it
    res = one(abc_scheme(), sheet("P", "E1", A=40, B={"na": "无"}, C=30),
              sheet("P", "E2", A=40, B=20, C=30), sheet("P", "E3", A=40, B=10, C=30))
    assert res.nodes["B"].score == pytest.approx(15.0)
    assert res.parts[0].score == pytest.approx(85.0)


def test_missing_leaf_blocks_the_result_and_is_listed():
    res = one(abc_scheme(), sheet("P", "E1", A=40, B=30), sheet("P", "E2", A=20, B=30, C=30))
    assert not res.final_ready
    assert res.missing == (scoring.Missing("P", "C", "sheet", "E1"),)
    # displayed on what is present: C from E2 only
    assert res.nodes["C"].score == pytest.approx(30.0)
    assert res.parts[0].score == pytest.approx(30 + 30 + 30)
    assert any("不能定稿" in w for w in res.warnings)
    # the trace gives the band the provisional total falls in, not a grade the page withholds
    grade = {t.ref: t.text for t in res.trace}["grade"]
    assert grade == "评分未齐全：按现有评分的总分 90.00 暂落在“优”档，等级待评分齐全后评定"


def test_missing_warning_names_what_is_missing_in_words():
    # a blocked result says which indicators wait for what, not "see the missing key"
    sch = scheme(part("P", "1", leaf("A", 40), leaf("B", 30), leaf("D", 10, "ratio_ge", target="1"),
                      leaf("S", 20, "survey_mean", questions=["Q1"], scale=SAT)))
    res = one(sch, sheet("P", "E1", A=40, B=30), sheet("P", "E2", A=40))
    text = next(w for w in res.warnings if "缺失" in w)
    assert "missing" not in text
    assert text.startswith("有 3 项缺失：")
    assert "B 指标B（评分表 E2 没有评分）" in text
    assert "D 指标D（没有测量数据）" in text and "S 指标S（没有有效问卷回答）" in text
    assert text.endswith("；结果不能定稿，显示的分数只按已有数据计算")
    # the same in words under the other policies
    res = one(abc_scheme(missing="zero"), sheet("P", "E1", A=40, B=30))
    assert "有 1 项缺失：C 指标C（评分表 E1 没有评分）；按指标体系的规定，缺失项按 0 分计" \
        in res.warnings
    # no sheet at all for a part
    res = one(scheme(part("P", "0.5", leaf("A", 100)), part("Q", "0.5", leaf("B", 100))),
              sheet("Q", "E1", B=90))
    assert any("A 指标A（没有评分表）" in w for w in res.warnings)


def test_missing_warning_names_the_first_items_and_says_there_are_more():
    leaves = [leaf(f"L{i:02d}", 5) for i in range(20)]
    res = one(scheme(part("P", "1", *leaves)), sheet("P", "E1", L00=5))
    text = next(w for w in res.warnings if "缺失" in w)
    assert text.startswith("有 19 项缺失：L01 指标L01（评分表 E1 没有评分）、")
    assert "L10 指标L10" in text and "L11" not in text
    assert "L10 指标L10（评分表 E1 没有评分）等；结果不能定稿" in text


def test_missing_on_every_sheet_is_shown_on_what_is_present():
    res = one(abc_scheme(), sheet("P", "E1", A=40, B=15))
    assert not res.final_ready
    assert res.nodes["C"].status == "missing" and res.nodes["C"].score is None
    assert res.parts[0].score == pytest.approx(55 / 70 * 100)


def test_missing_policy_zero_counts_zero_and_says_so():
    res = one(abc_scheme(missing="zero"), sheet("P", "E1", A=40, B=30))
    assert res.final_ready
    assert res.nodes["C"].score == 0.0
    assert res.parts[0].score == pytest.approx(70.0)
    assert res.missing and any("0 分" in w for w in res.warnings)


def test_missing_policy_redistribute_treats_missing_as_not_applicable():
    res = one(abc_scheme(missing="redistribute"), sheet("P", "E1", A=40, B=15))
    assert res.final_ready
    assert res.parts[0].score == pytest.approx(55 / 70 * 100)
    assert any("不适用处理" in w for w in res.warnings)


def test_part_without_any_sheet_blocks_and_total_uses_the_other_parts():
    sch = scheme(part("A", "0.4", leaf("a", 100)), part("B", "0.6", leaf("b", 100)))
    res = one(sch, sheet("A", "E1", a=80))
    assert not res.final_ready
    assert scoring.Missing("B", "b", "sheets") in res.missing
    assert scoring.Missing("B", None, "part") in res.missing
    assert res.total == Decimal("80.00")


def test_nothing_to_score_gives_no_total():
    res = one(abc_scheme())
    assert res.total is None and res.grade is None and not res.final_ready


# ----------------------------------------------------------------------------- combination


def test_median_chooses_the_middle_sheet_by_total():
    res = one(abc_scheme("median"), sheet("P", "E1", A=20, B=20, C=20),
              sheet("P", "E2", A=40, B=10, C=30), sheet("P", "E3", A=40, B=30, C=30))
    chosen = [s.scorer for s in res.parts[0].sheets if s.chosen]
    assert chosen == ["E2"]  # totals 60, 80, 100
    assert res.nodes["B"].score == 10.0 and res.parts[0].score == 80.0


def test_median_of_an_even_panel_averages_the_middle_two_leaf_by_leaf():
    res = one(abc_scheme("median"), sheet("P", "E1", A=10, B=10, C=10),
              sheet("P", "E2", A=40, B=10, C=20), sheet("P", "E3", A=20, B=30, C=30),
              sheet("P", "E4", A=40, B=30, C=30))
    assert [s.chosen for s in res.parts[0].sheets] == [False, True, True, False]
    assert res.nodes["A"].score == 30.0 and res.nodes["B"].score == 20.0
    assert res.parts[0].score == pytest.approx(75.0)


def test_trimmed_mean_drops_highest_and_lowest_sheet_totals_from_five():
    sheets = [sheet("P", f"E{i}", A=a, B=b, C=c) for i, (a, b, c) in
              enumerate([(40, 30, 30), (10, 10, 10), (30, 20, 20), (35, 25, 20), (30, 30, 20)])]
    res = one(abc_scheme("trimmed_mean"), *sheets)
    chosen = {s.scorer for s in res.parts[0].sheets if s.chosen}
    assert chosen == {"E2", "E3", "E4"}
    assert res.nodes["A"].score == pytest.approx((30 + 35 + 30) / 3)
    total = sum(res.nodes[k].score for k in "ABC")
    assert res.parts[0].score == pytest.approx(total)


def test_trimmed_mean_with_fewer_than_five_sheets_is_a_plain_mean_and_says_so():
    res = one(abc_scheme("trimmed_mean"), sheet("P", "E1", A=40, B=30, C=30),
              sheet("P", "E2", A=20, B=10, C=10))
    assert all(s.chosen for s in res.parts[0].sheets)
    assert res.parts[0].score == pytest.approx(70.0)
    assert any("少于 5 张" in w for w in res.warnings)


def test_sheet_ties_are_broken_by_scorer_not_by_order():
    s1 = sheet("P", "甲", A=40, B=20, C=20)
    s2 = sheet("P", "乙", A=20, B=30, C=30)
    s3 = sheet("P", "丙", A=30, B=20, C=30)
    a = one(abc_scheme("median"), s1, s2, s3)
    b = one(abc_scheme("median"), s3, s1, s2)
    assert a == b


# ----------------------------------------------------------------------------- rules


def test_tiers_multiply_the_maximum_by_the_coefficient():
    tiers = [{"name": "达成", "coefficient": "1"}, {"name": "部分达成", "coefficient": "0.7"},
             {"name": "未达成", "coefficient": "0.3"}]
    sch = scheme(part("P", "1", leaf("T", 20, "tiers", tiers=tiers), leaf("X", 80)))
    res = one(sch, sheet("P", "E1", T="部分达成", X=80), sheet("P", "E2", T="未达成", X=80))
    assert res.nodes["T"].score == pytest.approx((14 + 6) / 2)


def test_ratio_rules_and_thresholds_read_measured_data():
    sch = scheme(part("P", "1",
                      leaf("G", 20, "ratio_ge", target="95"),
                      leaf("L", 20, "ratio_le", target="30"),
                      leaf("H", 20, "thresholds", bands=[{"min": "3", "points": "0"},
                                                         {"min": "1", "points": "12"},
                                                         {"min": "0", "points": "20"}]),
                      leaf("Z", 20, "ratio_le", target="2"),
                      leaf("O", 20, "ratio_ge", target="10")))
    res = one(sch, data={"G": 76, "L": {"value": "40", "source": "财务报表"}, "H": 1, "Z": 0,
                         "O": 12})
    assert res.nodes["G"].score == pytest.approx(20 * 76 / 95)
    assert res.nodes["L"].score == pytest.approx(20 * 30 / 40)
    assert res.nodes["H"].score == 12.0
    assert res.nodes["Z"].score == 20.0  # zero cost is full marks
    assert res.nodes["O"].score == 20.0  # capped at the maximum
    assert res.nodes["L"].source == "财务报表"
    trace = {t.ref: t.text for t in res.trace}
    assert "20 × min(76 / 95, 1) = 16.00" in trace["G"]
    assert "落在 ≥ 1 一档" in trace["H"]


def test_measured_values_are_written_with_their_unit():
    # a ratio (unit 比例) reads as a percentage; "%" stands against its number; any other
    # unit is separated from its number by a space
    sch = scheme(part("P", "1",
                      leaf("R", 20, "ratio_ge", target="0.95", unit="比例"),
                      leaf("P1", 20, "ratio_ge", target="100", unit="%"),
                      leaf("T", 20, "ratio_le", target="24", unit="小时"),
                      leaf("N", 20, "ratio_ge", target="1200", unit="人次"),
                      leaf("H", 20, "thresholds", unit="比例",
                           bands=[{"min": "0.9", "points": "20"}, {"min": "0.8", "points": "10"}])))
    res = one(sch, data={"R": 0.9746, "P1": "97.5", "T": 30, "N": 1150, "H": "0.85"})
    trace = {t.ref: t.text for t in res.trace}
    assert "实际值 97.46%，目标 ≥ 95%，得分 = 20 × min(97.46 / 95, 1) = 20.00" in trace["R"]
    assert "比例" not in trace["R"]
    assert "实际值 97.5%，目标 ≥ 100%" in trace["P1"]
    assert "实际值 30 小时，目标 ≤ 24 小时（越低越好），得分 = 20 × min(24 / 30, 1) = 16.00" \
        in trace["T"]
    assert "实际值 1150 人次，目标 ≥ 1200 人次" in trace["N"]
    assert "实际值 85%，分档（≥ 90% 得 20；≥ 80% 得 10），落在 ≥ 80% 一档，得分 10.00" \
        in trace["H"]


def test_survey_rate_scores_the_satisfied_share_against_the_target():
    sch = scheme(part("R", "1",
                      leaf("S", 10, "survey_rate", questions=["Q1"], scale=SAT,
                           satisfied=["满意", "较满意"], target="90"),
                      leaf("X", 90, "survey_mean", questions=["Q2"], scale=SAT),
                      party="recipient"))
    responses = ([{"Q1": "满意", "Q2": "满意"}] * 100 + [{"Q1": "较满意", "Q2": "一般"}] * 68
                 + [{"Q1": "一般", "Q2": "不满意"}] * 20 + [{"Q1": "不满意", "Q2": "不了解"}] * 12
                 + [{"Q1": "不了解"}] * 5)
    res = one(sch, responses=responses)
    s = res.nodes["S"]
    assert (s.n, s.hits) == (200, 168)
    assert s.score == pytest.approx(10 * 0.84 / 0.90)
    text = {t.ref: t.text for t in res.trace}["S"]
    assert "200 个有效回答中 168 个为满意或较满意，满意率 84.00%，目标 90%" in text
    assert "= 10 × min(84.00 / 90, 1) = 9.33" in text
    x = res.nodes["X"]
    assert x.n == 188  # "不了解" and unanswered do not count
    assert x.value == pytest.approx((100 * 100 + 68 * 60 + 20 * 0) / 188)
    q = res.quality
    assert q.responses == 205 and q.answered == 200  # 5 only answered "不了解"
    assert q.rates[0].n == q.rates[0].respondents == 200  # one question: one answer each
    assert q.margin == pytest.approx(1.959964 * (0.84 * 0.16 / 200) ** 0.5, rel=1e-6)


def test_survey_quality_finite_population_alpha_and_sample_warning():
    sch = scheme(part("R", "1", leaf("S", 100, "survey_rate", questions=["Q1", "Q2"], scale=SAT,
                                     satisfied=["满意"], target="100"), party="recipient"))
    responses = [{"Q1": a, "Q2": b} for a, b in
                 [("满意", "满意"), ("较满意", "较满意"), ("一般", "较满意"), ("不满意", "一般"),
                  ("满意", "较满意"), ("满意", "不了解")]]
    res = one(sch, responses=responses, population=50)
    q = res.quality
    assert q.sample_needed == scoring.sample_size(50)
    assert any("少于所需样本量" in w for w in res.warnings)
    r = q.rates[0]
    # 11 answers from 6 people: 4 satisfied (满意), rate 4/11; 不了解 is no answer
    assert (r.n, r.respondents, r.rate) == (11, 6, pytest.approx(4 / 11))
    assert r.finite_population
    # the margin is over people, not answers: satisfied h and answers a per person are
    # (2, 2), (0, 2) three times, (1, 2), (1, 1); Σ (h − r·a)² = (196 + 3·64 + 9 + 49) / 121,
    # divided by (Σ a)² = 121, and the finite population correction for 6 of 50 people
    by_hand = 1.959964 * (446 / 121 / 121) ** 0.5 * ((50 - 6) / 49) ** 0.5
    assert r.margin == pytest.approx(by_hand, rel=1e-6)
    pooled = 1.959964 * (4 / 11 * 7 / 11 / 11) ** 0.5 * ((50 - 11) / 49) ** 0.5
    assert r.margin > pooled  # what counting the 11 answers as 11 people gave
    ref = scoring.cronbach_alpha([[100, 100], [80, 80], [60, 80], [0, 60], [100, 80]])
    assert q.alpha.statistic == pytest.approx(ref.statistic, abs=1e-12)
    assert (q.alpha.n, q.alpha.n_dropped) == (5, 1)


def test_a_rate_where_everyone_is_satisfied_still_has_a_margin_of_error():
    """30 people all satisfied do not prove a rate of exactly 100 %: z·√(p(1−p)/n) is 0 there,
    so the margin is the half-width of the Wilson interval over the people (Newcombe 1998:
    30 of 30 gives 88.6 %–100 %), with the finite population correction when N is known."""
    sch = scheme(part("R", "1", leaf("S", 100, "survey_rate", questions=["Q1", "Q2"], scale=SAT,
                                     satisfied=["满意", "较满意"], target="90"),
                      party="recipient"))
    everyone = [{"Q1": "满意", "Q2": "较满意"}] * 30
    z2 = 1.959964 ** 2
    wilson = scoring.proportion_ci(30, 30)
    r = one(sch, responses=everyone).quality.rates[0]
    assert (r.rate, r.n, r.respondents) == (1.0, 60, 30)
    assert r.margin == pytest.approx(z2 / (2 * (30 + z2)), rel=1e-6)
    assert r.margin == pytest.approx((wilson.high - wilson.low) / 2, rel=1e-6)  # ±5.68 %
    r = one(sch, responses=everyone, population=100).quality.rates[0]
    assert r.margin == pytest.approx(z2 / (2 * (30 + z2)) * (70 / 99) ** 0.5, rel=1e-6)
    nobody = [{"Q1": "不满意", "Q2": "一般"}] * 30
    assert one(sch, responses=nobody).quality.margin == pytest.approx(z2 / (2 * (30 + z2)))
    res = one(sch, responses=everyone[:29] + [{"Q1": "一般", "Q2": "满意"}])
    assert 0 < res.quality.margin  # 59 of 60: the clustered formula, not zero either
    text = {t.ref: t.text for t in one(sch, responses=everyone).trace}["quality.survey"]
    assert "±5.68%" in text and "Wilson" in text


def test_panel_agreement_for_three_or_more_sheets():
    sheets = [sheet("P", f"E{i}", A=a, B=b, C=c) for i, (a, b, c) in
              enumerate([(40, 20, 10), (36, 21, 12), (38, 24, 9)])]
    res = one(abc_scheme(), *sheets)
    (panel,) = res.quality.panels
    rates = [[40 / 40, 36 / 40, 38 / 40], [20 / 30, 21 / 30, 24 / 30], [10 / 30, 12 / 30, 9 / 30]]
    assert panel.kendall_w.statistic == pytest.approx(scoring.kendall_w(rates).statistic)
    assert panel.icc.kind == "ICC2k"
    assert panel.icc.statistic == pytest.approx(scoring.icc(rates, "ICC2k").statistic)
    assert panel.leaves == 3 and panel.sheets == 3


def test_an_icc_beyond_1_is_not_estimable_and_not_reported():
    """The leaves' score rates have the same mean (A, B, C at 0.8 each), so ICC2k's
    denominator MSR + (MSJ − MSE) / n is negative and its formula gives 4.0: not a
    reliability at all. The result reports no ICC and says why; W is still reported."""
    rates = [[1, .6, .8, .8], [.6, 1, .8, .8], [.8, .8, .6, 1]]
    assert scoring.icc(rates, "ICC2k").statistic > 1  # the bare formula, as pingouin gives it
    maxes = {"A": 40, "B": 30, "C": 30}
    sheets = [sheet("P", f"E{j}", **{leaf_id: {"points": maxes[leaf_id] * rates[i][j],
                                               "reason": "抽查"}
                                     for i, leaf_id in enumerate("ABC")}) for j in range(4)]
    res = one(abc_scheme(), *sheets)
    (panel,) = res.quality.panels
    assert panel.icc is None and "ICC 无法估计" in panel.note
    assert panel.kendall_w is not None
    assert not any("ICC2k =" in w for w in res.warnings)


def test_weak_panel_agreement_is_warned():
    sheets = [sheet("P", f"E{i}", A=a, B=b, C=c) for i, (a, b, c) in
              enumerate([(40, 10, 10), (10, 30, 10), (10, 10, 30)])]
    res = one(abc_scheme(), *sheets)
    assert any("Kendall's W" in w for w in res.warnings)


def test_deduction_without_reason_is_warned_and_reasons_reach_the_trace():
    res = one(abc_scheme(), sheet("P", "E1", A={"points": 35, "reason": "台账缺页"}, B=20, C=30))
    assert any("未写扣分理由：B" in w for w in res.warnings)
    assert "台账缺页" in {t.ref: t.text for t in res.trace}["A"]


# ----------------------------------------------------------------------------- payment


def test_payment_bands_and_linear_rule_in_a_package():
    bands = {"bands": [{"min": "90", "ratio": "1"}, {"min": "80", "ratio": "0.95"},
                       {"min": "70", "ratio": "0.9"}, {"min": "60", "ratio": "0.8"}]}
    sch = scheme(part("A", "1", leaf("a", 100)))
    res = one(sch, sheet("A", "E", a=59.99), payment={"amount": "100000.00", "rule": bands})
    assert res.payment.ratio == 0 and res.payment.deduction == Decimal("100000.00")
    res = one(sch, sheet("A", "E", a=87.345),
              payment={"amount": "12345.67", "rule": {"linear": {"floor": "60"}}})
    assert res.total == Decimal("87.35")
    assert res.payment.ratio == Decimal("0.8735")
    assert res.payment.payable == Decimal("10783.94")  # 12345.67 × 0.8735 = 10783.942...
    assert res.payment.payable + res.payment.deduction == Decimal("12345.67")


def test_payment_on_a_blocked_result_is_marked_provisional():
    res = one(abc_scheme(), sheet("P", "E1", A=40, B=30),
              payment={"amount": "1000", "rule": {"linear": {"floor": "0"}}})
    assert res.payment is not None
    assert any("仅供参考" in w for w in res.warnings)


# ----------------------------------------------------------------------------- trace


def test_trace_sentence_of_an_inner_node_and_the_total(example):
    res = scoring.evaluate(example)
    trace = {t.ref: t.text for t in res.trace}
    assert trace["C4"] == "C4 效益（满分 30） = C41 12.50 + C42 6.00 + C43 4.00 = 22.50"
    assert trace["total"].startswith("总分 = 0.30 × 94.6667 + 0.30 × 88.2512 + 0.40 × 85.2750")
    assert trace["total"].endswith("= 88.99")
    assert trace["grade"] == "总分 88.99 ≥ 80 且 < 90，等级 良"


def test_nested_groups_and_single_part():
    sch = scheme(part("P", "1", group("G1", 60, group("G11", 30, leaf("a", 10), leaf("b", 20)),
                                      leaf("c", 30)), leaf("d", 40)))
    res = one(sch, sheet("P", "E", a=5, b=20, c=30, d=40))
    assert res.nodes["G11"].score == 25 and res.nodes["G1"].score == 55
    assert res.total == Decimal("95.00")


def test_results_are_read_only_and_picklable(example):
    import pickle

    res = scoring.evaluate(example)
    with pytest.raises(TypeError):
        res.nodes["A1"] = None
    with pytest.raises(AttributeError):
        res.total = Decimal("100")
    again = pickle.loads(pickle.dumps(res))
    assert again == res and again.as_dict() == res.as_dict()
