"""The statistics against worked examples printed in the literature, to the printed precision.

Each test names its source; the expected values are the published figures, not our own
output. Examples already covered in test_scoring_stats.py (Shrout & Fleiss's six ICCs, the
3×3 AHP matrix, Wilson 168/200, sample sizes 385 / 278 / 169 / 80 / 370) are not repeated.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import scoring

# ----------------------------------------------------------------------------- AHP

# Saaty (1990), "How to make a decision: the Analytic Hierarchy Process", EJOR 48, 9–26,
# Table 2: choosing a house, eight criteria (size, transportation, neighbourhood, age, yard,
# modern facilities, general condition, financing).
SAATY_HOUSE = [
    [1, 5, 3, 7, 6, 6, 1 / 3, 1 / 4],
    [1 / 5, 1, 1 / 3, 5, 3, 3, 1 / 5, 1 / 7],
    [1 / 3, 3, 1, 6, 3, 4, 6, 1 / 5],
    [1 / 7, 1 / 5, 1 / 6, 1, 1 / 3, 1 / 4, 1 / 7, 1 / 8],
    [1 / 6, 1 / 3, 1 / 3, 3, 1, 1 / 2, 1 / 5, 1 / 6],
    [1 / 6, 1 / 3, 1 / 4, 4, 2, 1, 1 / 5, 1 / 6],
    [3, 5, 1 / 6, 7, 5, 5, 1, 1 / 2],
    [4, 7, 5, 8, 6, 6, 2, 1],
]

# Saaty (2008), "Decision making with the analytic hierarchy process", Int. J. Services
# Sciences 1(1), 83–98: which drink is consumed more in the U.S. (coffee, wine, tea, beer,
# sodas, milk, water).
SAATY_DRINKS = [
    [1, 9, 5, 2, 1, 1, 1 / 2],
    [1 / 9, 1, 1 / 3, 1 / 9, 1 / 9, 1 / 9, 1 / 9],
    [1 / 5, 3, 1, 1 / 3, 1 / 4, 1 / 3, 1 / 9],
    [1 / 2, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [1, 9, 4, 2, 1, 2, 1 / 2],
    [1, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [2, 9, 9, 3, 2, 3, 1],
]


def test_ahp_saaty_1990_house_is_inconsistent():
    res = scoring.ahp(SAATY_HOUSE)
    np.testing.assert_allclose(res.weights, [.173, .054, .188, .018, .031, .036, .167, .333],
                               atol=5e-4)
    assert round(res.lambda_max, 3) == 9.669
    assert round(res.ci, 3) == 0.238
    assert res.ri == 1.41
    assert round(res.cr, 3) == 0.169
    assert not res.consistent  # CR > 0.10: Saaty asks for the judgements to be revised


def test_ahp_saaty_2008_drinks_derived_scale():
    res = scoring.ahp(SAATY_DRINKS)
    np.testing.assert_allclose(res.weights, [.177, .019, .042, .116, .190, .129, .327],
                               atol=5e-4)
    assert res.ri == 1.32 and res.consistent


def test_ahp_geometric_equals_eigen_for_three_criteria():
    """For n = 3 the normalised row geometric means are the principal eigenvector
    (Crawford & Williams 1985), so both methods give the textbook 0.637 / 0.258 / 0.105,
    λmax 3.039, CR 0.033."""
    m = [[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]]
    eig, geo = scoring.ahp(m, "eigen"), scoring.ahp(m, "geometric")
    np.testing.assert_allclose(geo.weights, eig.weights, atol=1e-12)
    assert geo.lambda_max == pytest.approx(eig.lambda_max, abs=1e-12)
    np.testing.assert_allclose(geo.weights, [0.637, 0.258, 0.105], atol=5e-4)
    assert round(geo.lambda_max, 3) == 3.039 and round(geo.cr, 3) == 0.033


# ----------------------------------------------------------------------------- ICC

SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9],
                          [6, 2, 4, 7]], dtype=float)


def test_icc_shrout_fleiss_anova_table():
    """Shrout & Fleiss (1979), Table 2: BMS 11.24, WMS 6.26, JMS 32.49, EMS 1.02; our F is
    BMS / WMS for the one-way kinds and BMS / EMS for the two-way ones."""
    one_way = scoring.icc(SHROUT_FLEISS, "ICC1")
    two_way = scoring.icc(SHROUT_FLEISS, "ICC2")
    bms = 11.24
    assert bms / one_way.f == pytest.approx(6.26, abs=0.005)
    assert bms / two_way.f == pytest.approx(1.02, abs=0.005)
    assert (one_way.df1, one_way.df2, two_way.df2) == (5, 18, 15)


def test_icc_shrout_fleiss_equals_pingouin_in_every_figure():
    pd = pytest.importorskip("pandas")
    pg = pytest.importorskip("pingouin")
    long = pd.DataFrame([(i, j, SHROUT_FLEISS[i, j]) for i in range(6) for j in range(4)],
                        columns=["t", "r", "s"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pg.intraclass_corr(long, targets="t", raters="r", ratings="s")
    ref = ref.reset_index(drop=True)
    for i, kind in enumerate(("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")):
        ours = scoring.icc(SHROUT_FLEISS, kind)
        assert ours.statistic == pytest.approx(ref.loc[i, "ICC"], abs=1e-9)
        assert ours.f == pytest.approx(ref.loc[i, "F"], abs=1e-9)
        assert ours.pvalue == pytest.approx(ref.loc[i, "pval"], abs=1e-9)
        assert (ours.df1, ours.df2) == (ref.loc[i, "df1"], ref.loc[i, "df2"])
        lo, hi = ref.loc[i, "CI95"]  # pingouin prints its interval to 2 decimals
        assert (round(ours.ci_low, 2), round(ours.ci_high, 2)) == (lo, hi)


# ----------------------------------------------------------------------------- Kendall's W


def test_kendall_w_siegel_1956_three_executives_six_applicants():
    """Siegel (1956), Nonparametric Statistics, §9: R = 8, 14, 11, 11, 11, 8; s = 25.5;
    W = .16."""
    x = np.array([[1, 6, 3, 2, 5, 4], [1, 5, 6, 4, 2, 3], [6, 3, 2, 5, 4, 1]], float).T
    res = scoring.kendall_w(x)
    assert round(res.statistic, 2) == 0.16
    assert res.statistic == pytest.approx(25.5 / 157.5, abs=1e-15)


def test_kendall_w_siegel_castellan_1988_eight_attributes():
    """Siegel & Castellan (1988), three raters ranking eight attributes, as reproduced in the
    documentation of DescTools::KendallW: W = 0.6560847, χ² = 13.778, df 7, p = 0.05528."""
    x = np.array([[5, 1, 4], [6, 7, 5], [7, 6, 1], [1, 2, 3], [2, 3, 2], [4, 5, 7], [3, 4, 6],
                  [8, 8, 8]], float)
    res = scoring.kendall_w(x)
    assert round(res.statistic, 7) == 0.6560847
    assert round(res.chi2, 3) == 13.778 and res.df == 7
    assert round(res.pvalue, 5) == 0.05528


def test_kendall_w_with_tie_correction_anxiety_ratings():
    """The ``anxiety`` ratings of R's irr package (20 subjects, 3 raters, many ties), W with
    the tie correction as printed by DescTools::KendallW(anxiety, correct = TRUE):
    W = 0.5396569, χ²(19) = 30.76, p = 0.04288."""
    x = np.array([[3, 3, 3, 4, 5, 5, 2, 3, 5, 2, 2, 6, 1, 5, 2, 2, 1, 2, 4, 3],
                  [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4],
                  [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2]], float).T
    res = scoring.kendall_w(x)
    assert round(res.statistic, 7) == 0.5396569
    assert round(res.chi2, 2) == 30.76 and res.df == 19
    assert round(res.pvalue, 5) == 0.04288


# ----------------------------------------------------------------------------- alpha


def test_cronbach_alpha_pingouin_documented_examples():
    """pingouin.cronbach_alpha's documented examples (checked by pingouin against R psych):
    Likert data, α = 0.5917188, Feldt 95 % interval [0.195, 0.84]; binary items with missing
    answers, α = 0.8016949 after listwise deletion (psych::alpha, use = "complete.obs")."""
    pd = pytest.importorskip("pandas")
    pg = pytest.importorskip("pingouin")
    long = pg.read_dataset("cronbach_alpha")
    wide = long.pivot(index="Subj", values="Scores", columns="Items").to_numpy(float)
    res = scoring.cronbach_alpha(wide)
    assert round(res.statistic, 7) == 0.5917188
    assert (round(res.ci_low, 3), round(res.ci_high, 3)) == (0.195, 0.84)

    missing = pg.read_dataset("cronbach_wide_missing").to_numpy(float)
    res = scoring.cronbach_alpha(missing)
    assert round(res.statistic, 7) == 0.8016949
    assert (res.n, res.n_dropped, res.k) == (9, 3, 11)
    # Feldt's interval on the 9 rows used. pingouin 0.7 prints [0.581, 0.933] here because it
    # takes n from the table before dropping (12 rows); on the same 9 rows it agrees with us.
    kept = missing[~np.isnan(missing).any(axis=1)]
    _, ci = pg.cronbach_alpha(pd.DataFrame(kept))
    assert (round(res.ci_low, 3), round(res.ci_high, 3)) == tuple(ci) == (0.533, 0.947)


# ----------------------------------------------------------------------------- intervals


def test_mean_ci_student_sleep_data():
    """Student (1908) / Cushny & Peebles: the ten paired differences in extra sleep; R's
    t.test prints mean 1.58, 95 % interval 0.7001142 to 2.4598858."""
    d = [1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4]
    res = scoring.mean_ci(d)
    assert res.estimate == pytest.approx(1.58, abs=1e-12)
    assert (round(res.low, 7), round(res.high, 7)) == (0.7001142, 2.4598858)


@pytest.mark.parametrize("successes, n, low, high", [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_proportion_ci_newcombe_1998_wilson(successes, n, low, high):
    """Newcombe (1998), Stat. Med. 17, 857–872, Table I, method 3 (Wilson score, no
    continuity correction)."""
    res = scoring.proportion_ci(successes, n)
    assert (round(res.low, 4), round(res.high, 4)) == (low, high)


def test_sample_size_rounds_up_where_krejcie_morgan_round_to_nearest():
    """Krejcie & Morgan (1970) tabulate 217 for N = 500 (217.47 rounded to nearest); the
    smallest sample that keeps the margin at 5 % is 218, which is what we give: with 217 the
    margin is 5.01 %."""
    assert scoring.sample_size(500) == 218
    z = 1.959963984540054

    def margin(n, big_n=500):
        return z * math.sqrt(0.25 / n * (big_n - n) / (big_n - 1))

    assert margin(217) > 0.05 > margin(218)


# ----------------------------------------------------------------------------- TOPSIS


def test_topsis_hwang_yoon_1981_fighter_aircraft():
    """Hwang & Yoon (1981), Multiple Attribute Decision Making, p. 133: four aircraft, six
    attributes (speed, range, payload, cost — a cost —, reliability, manoeuvrability),
    w = (.2, .1, .1, .1, .2, .3). Published C* = .643, .268, .613, .312, order A1 A3 A4 A2.
    (The book's normalised cost column is slightly off — .5063 for 5.5/√117.75 = .5069 — so
    A3 prints .613 where the exact value is .6135.)"""
    x = [[2.0, 1500, 20000, 5.5, 5, 9], [2.5, 2700, 18000, 6.5, 3, 5],
         [1.8, 2000, 21000, 4.5, 7, 7], [2.2, 1800, 20000, 5.0, 5, 5]]
    res = scoring.topsis(x, [0.2, 0.1, 0.1, 0.1, 0.2, 0.3],
                         [True, True, True, False, True, True])
    np.testing.assert_allclose(res.closeness, [.643, .268, .613, .312], atol=1e-3)
    assert res.rank.tolist() == [1, 4, 2, 3]
