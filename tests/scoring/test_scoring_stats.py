"""Weights and statistics against published worked examples and reference libraries."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

import scoring

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges.
SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9],
                          [6, 2, 4, 7]], dtype=float)
SF_PUBLISHED = {"ICC1": 0.17, "ICC2": 0.29, "ICC3": 0.71, "ICC1k": 0.44, "ICC2k": 0.62,
                "ICC3k": 0.91}


# ----------------------------------------------------------------------------- AHP


def test_ahp_saaty_consistent_matrix_recovers_the_ratios():
    w = np.array([0.5, 0.3, 0.2])
    m = w[:, None] / w[None, :]
    for method in ("eigen", "geometric"):
        res = scoring.ahp(m, method=method)
        np.testing.assert_allclose(res.weights, w, atol=1e-12)
        assert res.lambda_max == pytest.approx(3.0, abs=1e-12)
        assert res.ci == pytest.approx(0.0, abs=1e-12)
        assert res.consistent


def test_ahp_textbook_three_criteria():
    # A classic 3×3 example: weights 0.637, 0.258, 0.105; λmax 3.039; CR 0.033 (RI 0.58)
    res = scoring.ahp([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]])
    np.testing.assert_allclose(res.weights, [0.6370, 0.2583, 0.1047], atol=5e-4)
    assert res.lambda_max == pytest.approx(3.0385, abs=1e-4)
    assert res.ri == 0.58
    assert res.cr == pytest.approx(0.0332, abs=1e-4)
    assert res.consistent


def test_ahp_saaty_inconsistent_matrix_is_flagged():
    # Intransitive judgements: A > B > C > A, strongly.
    res = scoring.ahp([[1, 5, 1 / 5], [1 / 5, 1, 5], [5, 1 / 5, 1]])
    assert res.cr > 0.10
    assert not res.consistent


def test_ahp_small_matrices_have_cr_zero():
    assert scoring.ahp([[1]]).weights.tolist() == [1.0]
    res = scoring.ahp([[1, 4], [0.25, 1]])
    np.testing.assert_allclose(res.weights, [0.8, 0.2])
    assert res.cr == 0.0 and res.consistent


def test_ahp_random_index_table_is_saatys():
    assert scoring.RANDOM_INDEX == (0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51,
                                    1.48, 1.56, 1.57, 1.59)


@pytest.mark.parametrize("matrix, fragment", [
    ([[1, 2, 3], [0.5, 1, 2]], "square"),
    ([[1, -2], [-0.5, 1]], "positive"),
    ([[1, 2], [0.4, 1]], "(a[0][1] = 2.0, a[1][0] = 0.4)"),  # plain numbers, no np.float64
    ([[2, 2], [0.5, 1]], "the diagonal must be 1"),
    (np.ones((16, 16)), "at most 15"),
])
def test_ahp_refuses_bad_matrices_naming_the_argument(matrix, fragment):
    with pytest.raises(ValueError, match="matrix") as exc:
        scoring.ahp(matrix)
    assert fragment in str(exc.value)


def test_ahp_refuses_unknown_method():
    with pytest.raises(ValueError, match="method"):
        scoring.ahp([[1]], method="power")


def test_ahp_matches_pymcdm():
    subj = pytest.importorskip("pymcdm.weights.subjective")
    m = np.array([[1, 3, 5, 7], [1 / 3, 1, 3, 5], [1 / 5, 1 / 3, 1, 3], [1 / 7, 1 / 5, 1 / 3, 1]])
    ref = subj.AHP(matrix=m)()
    np.testing.assert_allclose(scoring.ahp(m).weights, ref, atol=1e-9)


# ----------------------------------------------------------------------------- entropy


def test_entropy_weights_hand_example():
    x = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])
    res = scoring.entropy_weights(x)
    # column 2 is constant → weight 0, so all weight goes to column 1
    np.testing.assert_allclose(res.weights, [1.0, 0.0])
    p = np.array([1, 2, 3]) / 6
    e = -(p * np.log(p)).sum() / math.log(3)
    assert res.entropy[0] == pytest.approx(e)


def test_entropy_weights_zero_entries_count_as_zero_information():
    res = scoring.entropy_weights([[0.0, 1.0], [4.0, 2.0], [0.0, 3.0]])
    assert res.weights.sum() == pytest.approx(1.0)
    assert np.isfinite(res.weights).all()
    # a column concentrated on one alternative carries the most information
    assert res.weights[0] > res.weights[1]


def test_entropy_weights_standardise_each_criterion_by_its_range_and_direction():
    """熵权法 as taught for criteria in different units: x′ = (x − min)/(max − min) for a
    benefit, (max − x)/(max − min) for a cost, then the entropy of each column."""
    x = [[80.0, 0.0, 104.0], [90.0, 0.0, 96.0], [85.0, 1.0, 100.0]]
    res = scoring.entropy_weights(x, benefit=[True, False, True])
    ln3 = math.log(3)
    e_score = -(1 / 1.5 * math.log(1 / 1.5) + 0.5 / 1.5 * math.log(0.5 / 1.5)) / ln3
    e_complaints = math.log(2) / ln3  # standardised 1, 1, 0: two alike, one apart
    e_index = -(1 / 1.5 * math.log(1 / 1.5) + 0.5 / 1.5 * math.log(0.5 / 1.5)) / ln3
    np.testing.assert_allclose(res.entropy, [e_score, e_complaints, e_index], atol=1e-15)
    d = 1 - np.array([e_score, e_complaints, e_index])
    np.testing.assert_allclose(res.weights, d / d.sum(), atol=1e-15)
    # on the raw figures one complaint would have told everything and taken most weight
    raw = scoring.entropy_weights(x)
    assert raw.entropy[1] == 0 and raw.weights[1] > 0.9 > res.weights[1]


def test_entropy_weights_with_directions_accept_any_finite_figure_and_check_them():
    res = scoring.entropy_weights([[-3.0, 1.0], [2.0, 1.0], [0.5, 1.0]], benefit=[True, False])
    np.testing.assert_allclose(res.weights, [1.0, 0.0])  # the constant column tells nothing
    with pytest.raises(ValueError, match="benefit: one boolean per criterion, expected 2"):
        scoring.entropy_weights([[1, 2], [2, 3]], benefit=[True])
    with pytest.raises(ValueError, match="benefit: each value must be a boolean"):
        scoring.entropy_weights([[1, 2], [2, 3]], benefit=[True, 2])
    with pytest.raises(ValueError, match="every column is constant"):
        scoring.entropy_weights([[1, -2], [1, -2]], benefit=[True, False])


def test_entropy_weights_refuses_negative_values_and_constant_matrix():
    with pytest.raises(ValueError, match="matrix: values must be ≥ 0"):
        scoring.entropy_weights([[1, -1], [2, 3]])
    with pytest.raises(ValueError, match="every column is constant"):
        scoring.entropy_weights([[1, 2], [1, 2]])


def test_combined_weights_by_hand():
    """0.6 of AHP's weights and 0.4 of the entropy method's, criterion by criterion."""
    res = scoring.combined_weights([0.5, 0.3, 0.2], [0.2, 0.2, 0.6], share=0.6)
    assert res.weights.tolist() == pytest.approx([0.38, 0.26, 0.36], abs=1e-15)
    assert res.share == 0.6 and res.subjective.tolist() == [0.5, 0.3, 0.2]
    assert scoring.combined_weights([0.5, 0.5], [1, 0], 1).weights.tolist() == [0.5, 0.5]
    assert scoring.combined_weights([0.5, 0.5], [1, 0], 0).weights.tolist() == [1, 0]
    assert scoring.combined_weights([0.5, 0.5], [1, 0]).weights.tolist() == [0.75, 0.25]


@pytest.mark.parametrize("subjective, objective, share, message", [
    ([0.5, 0.5], [0.2, 0.2, 0.6], 0.5, "objective: 3 weights for 2 criteria"),
    ([0.6, 0.6], [0.5, 0.5], 0.5, "subjective: weights must add up to 1"),
    ([1.2, -0.2], [0.5, 0.5], 0.5, "subjective: weights must be ≥ 0"),
    ([0.5, 0.5], [0.5, 0.5], 1.5, "share: must lie between 0 and 1"),
    ([0.5, 0.5], [0.5, 0.5], float("nan"), "share: must lie between 0 and 1"),
])
def test_combined_weights_refuse_what_are_not_weights(subjective, objective, share, message):
    with pytest.raises(ValueError, match=message):
        scoring.combined_weights(subjective, objective, share)


def test_entropy_weights_match_pymcdm():
    pw = pytest.importorskip("pymcdm.weights")
    x = np.random.default_rng(3).uniform(1, 50, (12, 4))
    np.testing.assert_allclose(scoring.entropy_weights(x).weights, pw.entropy_weights(x),
                               atol=1e-9)


# ----------------------------------------------------------------------------- TOPSIS


def test_topsis_hand_example_and_ranks():
    x = np.array([[250, 16, 12, 5], [200, 16, 8, 3], [300, 32, 16, 4], [275, 32, 8, 4],
                  [225, 16, 16, 2]], dtype=float)
    w = [0.25, 0.25, 0.25, 0.25]
    benefit = [False, True, True, True]  # price is a cost
    res = scoring.topsis(x, w, benefit)
    r = x / np.sqrt((x ** 2).sum(axis=0))
    v = r * 0.25
    best = np.array([v[:, 0].min(), v[:, 1].max(), v[:, 2].max(), v[:, 3].max()])
    worst = np.array([v[:, 0].max(), v[:, 1].min(), v[:, 2].min(), v[:, 3].min()])
    dp = np.sqrt(((v - best) ** 2).sum(axis=1))
    dm = np.sqrt(((v - worst) ** 2).sum(axis=1))
    np.testing.assert_allclose(res.closeness, dm / (dp + dm), atol=1e-12)
    assert sorted(res.rank.tolist()) == [1, 2, 3, 4, 5]
    assert res.rank[int(np.argmax(res.closeness))] == 1


def test_topsis_ties_share_the_better_rank():
    res = scoring.topsis([[1, 2], [1, 2], [3, 1], [3, 1], [2, 2]], [0.5, 0.5], [True, True])
    c = res.closeness
    assert c[0] == c[1] and c[2] == c[3]
    # "min" ranking: 1 + the number of strictly better alternatives
    expected = [1 + int((c > ci + 1e-12).sum()) for ci in c]
    assert res.rank.tolist() == expected
    assert res.rank[0] == res.rank[1] and res.rank[2] == res.rank[3]
    assert len(set(res.rank.tolist())) == 3


def test_topsis_checks_arguments():
    with pytest.raises(ValueError, match="weights: one per criterion"):
        scoring.topsis([[1, 2]], [1.0], [True, True])
    with pytest.raises(ValueError, match="benefit"):
        scoring.topsis([[1, 2]], [0.5, 0.5], [True])
    with pytest.raises(ValueError, match="weights: must be ≥ 0"):
        scoring.topsis([[1, 2]], [-0.5, 1.5], [True, True])


def test_topsis_matches_pymcdm_vector_normalisation():
    pm = pytest.importorskip("pymcdm")
    from pymcdm import methods, normalizations

    x = np.random.default_rng(5).uniform(1, 100, (15, 5))
    w = np.array([0.3, 0.2, 0.2, 0.15, 0.15])
    types = np.array([1, 1, -1, 1, -1])
    ref = methods.TOPSIS(normalization_function=normalizations.vector_normalization)(x, w, types)
    np.testing.assert_allclose(scoring.topsis(x, w, types > 0).closeness, ref, atol=1e-9)
    assert pm is not None


# ----------------------------------------------------------------------------- panels


def test_trimmed_mean_drops_highest_and_lowest():
    assert scoring.trimmed_mean([70, 80, 85, 90, 99]) == pytest.approx(85)
    assert scoring.trimmed_mean([1, 2, 3, 4, 5, 6, 100], drop=2) == pytest.approx(4)
    assert scoring.trimmed_mean([5], drop=0) == 5


def test_trimmed_mean_refuses_too_few_values():
    with pytest.raises(ValueError, match="at least 3 values"):
        scoring.trimmed_mean([1, 2])
    with pytest.raises(ValueError, match="drop"):
        scoring.trimmed_mean([1, 2, 3], drop=-1)


def test_kendall_w_perfect_and_no_agreement():
    perfect = np.array([[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]], dtype=float)
    assert scoring.kendall_w(perfect).statistic == pytest.approx(1.0)
    # two raters in exactly opposite order: W = 0
    opposite = np.array([[1, 4], [2, 3], [3, 2], [4, 1]], dtype=float)
    assert scoring.kendall_w(opposite).statistic == pytest.approx(0.0)


def test_kendall_w_hand_example_with_ties():
    # 3 raters, 4 objects; rater 2 ties objects 1 and 2.
    x = np.array([[1, 1, 2], [2, 1, 1], [3, 3, 3], [4, 4, 4]], dtype=float)
    # ranks: r1 = 1,2,3,4; r2 = 1.5,1.5,3,4; r3 = 2,1,3,4 → R = 4.5, 4.5, 9, 12
    r = np.array([4.5, 4.5, 9, 12])
    s = ((r - r.mean()) ** 2).sum()
    t = 2 ** 3 - 2
    w = 12 * s / (9 * (64 - 4) - 3 * t)
    res = scoring.kendall_w(x)
    assert res.statistic == pytest.approx(w, abs=1e-15)
    assert res.df == 3
    assert res.chi2 == pytest.approx(3 * 3 * w)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kendall_w_matches_scipy_friedman(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, (12, 5)).astype(float)  # many ties
    n, m = x.shape
    fr = stats.friedmanchisquare(*x)
    res = scoring.kendall_w(x)
    assert res.statistic == pytest.approx(fr.statistic / (m * (n - 1)), abs=1e-12)
    assert res.pvalue == pytest.approx(fr.pvalue, abs=1e-12)


def test_kendall_w_large_matrix_uses_the_same_formula():
    rng = np.random.default_rng(9)
    x = rng.integers(1, 30, (300, 4)).astype(float)
    fr = stats.friedmanchisquare(*x)
    assert scoring.kendall_w(x).statistic == pytest.approx(fr.statistic / (4 * 299), abs=1e-12)


def test_kendall_w_ranks_by_sorting_equal_the_pairwise_definition():
    # rank = objects below + (objects tied, itself included, + 1) / 2, over the included
    # objects only; the sums are of halves, so the two give the same W to the last bit
    from scoring.stats import _kendall_w_batch

    rng = np.random.default_rng(5)
    for _ in range(300):
        b, m, n = (int(v) for v in rng.integers(1, 9, 3))
        x = rng.integers(0, 4, (b, m, n)) / rng.integers(1, 4)
        x[rng.random(x.shape) < 0.1] = -0.0
        mask = rng.random((b, n)) < 0.8
        mk = mask[:, None, None, :]
        below = ((x[..., None, :] < x[..., :, None]) & mk).sum(axis=-1)
        tied = ((x[..., None, :] == x[..., :, None]) & mk).sum(axis=-1)
        ranks = below + 0.5 * (tied + 1)
        ties = np.where(mask[:, None, :], tied ** 2 - 1.0, 0.0).sum(axis=(1, 2))
        nn = mask.sum(axis=-1).astype(float)
        s = np.where(mask, (np.where(mask, ranks.sum(axis=1), 0.0)
                            - (m * (nn + 1) / 2)[:, None]) ** 2, 0.0).sum(axis=-1)
        denom = m * m * (nn ** 3 - nn) - m * ties
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(denom > 0, 12.0 * s / np.where(denom > 0, denom, 1.0), np.nan)
        assert np.array_equal(_kendall_w_batch(x, mask)[0], w, equal_nan=True)


def test_alpha_interval_of_many_equals_one_by_one():
    from scoring.stats import _alpha_ci

    rng = np.random.default_rng(6)
    alpha = rng.uniform(-0.5, 0.99, 200)
    n = rng.integers(3, 40, 200)
    lo, hi = _alpha_ci(alpha, n, 6, 0.95)  # the F quantiles once per distinct n
    for i in range(200):
        one = _alpha_ci(alpha[i:i + 1], n[i:i + 1], 6, 0.95)
        assert (lo[i], hi[i]) == (one[0][0], one[1][0])


def test_kendall_w_all_tied_is_nan():
    assert math.isnan(scoring.kendall_w(np.ones((4, 3))).statistic)


@pytest.mark.parametrize("kind", sorted(SF_PUBLISHED))
def test_icc_shrout_fleiss_table_2(kind):
    res = scoring.icc(SHROUT_FLEISS, kind)
    assert round(res.statistic, 2) == SF_PUBLISHED[kind]
    assert res.kind == kind
    assert res.ci_low < res.statistic < res.ci_high


def test_icc_matches_pingouin():
    pd = pytest.importorskip("pandas")
    pg = pytest.importorskip("pingouin")
    rng = np.random.default_rng(4)
    x = np.round(rng.normal(7, 1.5, (15, 5)) + rng.normal(0, 1, (15, 1)), 1)
    long = pd.DataFrame([(i, j, x[i, j]) for i in range(15) for j in range(5)],
                        columns=["t", "r", "s"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecations inside pingouin
        ref = pg.intraclass_corr(long, targets="t", raters="r", ratings="s")
    ref = ref.reset_index(drop=True)
    for i, kind in enumerate(("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")):
        ours = scoring.icc(x, kind)
        assert ours.statistic == pytest.approx(ref.loc[i, "ICC"], abs=1e-9)
        assert ours.pvalue == pytest.approx(ref.loc[i, "pval"], abs=1e-9)
        assert ours.f == pytest.approx(ref.loc[i, "F"], abs=1e-9)
        lo, hi = ref.loc[i, "CI95"]  # pingouin rounds its interval to 2 decimals
        assert round(ours.ci_low, 2) == pytest.approx(lo, abs=1e-9)
        assert round(ours.ci_high, 2) == pytest.approx(hi, abs=1e-9)


def test_icc_refuses_unknown_kind_and_bad_shape():
    with pytest.raises(ValueError, match="kind: must be one of"):
        scoring.icc(SHROUT_FLEISS, "ICC4")
    with pytest.raises(ValueError, match="ratings: needs at least 2 columns"):
        scoring.icc([[1], [2]])
    with pytest.raises(ValueError, match="ratings: values must be finite"):
        scoring.icc([[1, np.nan], [2, 3]])


# ----------------------------------------------------------------------------- surveys


def test_cronbach_alpha_hand_example_and_missing_rows():
    items = np.array([[3, 4, 3], [5, 5, 4], [2, 3, 2], [4, 4, 5], [1, 2, 1]], dtype=float)
    k = 3
    alpha = k / (k - 1) * (1 - items.var(axis=0, ddof=1).sum() / items.sum(axis=1).var(ddof=1))
    res = scoring.cronbach_alpha(items)
    assert res.statistic == pytest.approx(alpha, abs=1e-15)
    assert (res.n, res.n_dropped, res.k) == (5, 0, 3)
    with_gap = np.vstack([items, [[np.nan, 1, 1]]])
    res2 = scoring.cronbach_alpha(with_gap)
    assert res2.statistic == res.statistic
    assert (res2.n, res2.n_dropped) == (5, 1)


def test_cronbach_alpha_matches_pingouin():
    pd = pytest.importorskip("pandas")
    pg = pytest.importorskip("pingouin")
    rng = np.random.default_rng(8)
    base = rng.integers(1, 6, (120, 1))
    items = np.clip(base + rng.integers(-1, 2, (120, 5)), 1, 5).astype(float)
    a, ci = pg.cronbach_alpha(pd.DataFrame(items))
    res = scoring.cronbach_alpha(items)
    assert res.statistic == pytest.approx(a, abs=1e-9)
    assert round(res.ci_low, 3) == pytest.approx(ci[0]) and round(res.ci_high, 3) == ci[1]


def test_cronbach_alpha_checks_arguments():
    with pytest.raises(ValueError, match="items: needs at least 2 columns"):
        scoring.cronbach_alpha([[1], [2]])
    with pytest.raises(ValueError, match="items: needs at least 2 complete rows"):
        scoring.cronbach_alpha([[1, 2], [np.nan, 1]])


def test_mean_ci_matches_scipy_t_interval():
    v = [78, 85, 90, 66, 88, 92, 71]
    res = scoring.mean_ci(v, 0.95)
    lo, hi = stats.t.interval(0.95, len(v) - 1, loc=np.mean(v), scale=stats.sem(v))
    assert res.estimate == pytest.approx(np.mean(v))
    assert (res.low, res.high) == (pytest.approx(lo, abs=1e-12), pytest.approx(hi, abs=1e-12))


def test_mean_ci_with_bounds_stays_on_the_scale():
    # three answers on a 0–100 scale: the t interval runs past 100 (about 29.3 – 144.0)
    plain = scoring.mean_ci([100, 100, 60])
    assert plain.high > 100
    res = scoring.mean_ci([100, 100, 60], bounds=(0, 100))
    assert res.estimate == pytest.approx(260 / 3)
    assert res.low == pytest.approx(plain.low) and res.high == 100
    # both ends: two answers far apart
    res = scoring.mean_ci([0, 100], bounds=(0, 100))
    assert (res.low, res.high) == (0, 100)
    # an interval inside the scale is left as it is
    v = [78, 85, 90, 66, 88, 92, 71]
    assert scoring.mean_ci(v, bounds=(0, 100)) == scoring.mean_ci(v)


def test_mean_ci_checks_its_bounds():
    with pytest.raises(ValueError, match="values: must lie within bounds 0..10"):
        scoring.mean_ci([3, 11], bounds=(0, 10))
    with pytest.raises(ValueError, match="bounds: low must be less than high"):
        scoring.mean_ci([3, 4], bounds=(10, 0))
    with pytest.raises(ValueError, match="bounds: must be a pair"):
        scoring.mean_ci([3, 4], bounds=(0,))


def test_proportion_ci_wilson_worked_example():
    # 168 of 200 satisfied: Wilson 95 % interval 0.7829 .. 0.8843
    res = scoring.proportion_ci(168, 200)
    assert res.estimate == 0.84
    assert res.low == pytest.approx(0.78286, abs=1e-5)
    assert res.high == pytest.approx(0.88433, abs=1e-5)
    edge = scoring.proportion_ci(0, 10)
    assert edge.low == 0.0 and 0 < edge.high < 0.35


def test_proportion_ci_checks_arguments():
    with pytest.raises(ValueError, match="successes: must lie in 0..n"):
        scoring.proportion_ci(11, 10)
    with pytest.raises(ValueError, match="n: must be a positive integer"):
        scoring.proportion_ci(0, 0)
    with pytest.raises(ValueError, match="confidence"):
        scoring.proportion_ci(1, 2, confidence=1.5)


# six people, two questions (the last answered one): satisfied answers and answers each
PEOPLE_HITS = [2, 0, 0, 0, 1, 1]
PEOPLE_ANSWERS = [2, 2, 2, 2, 2, 1]


def wilson(p, n, z=1.959963984540054):
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_pooled_rate_ci_counts_people_not_answers_by_hand():
    # p = 4/11; Σ (hᵢ − p·aᵢ)² = (196 + 3·64 + 9 + 49) / 121 = 446/121, over (Σ a)² = 121:
    # var = 446/14641; effective answers p(1 − p)/var = (28/121)/(446/14641) = 3388/446 ≈ 7.6
    res = scoring.pooled_rate_ci(PEOPLE_HITS, PEOPLE_ANSWERS)
    assert res.estimate == pytest.approx(4 / 11)
    assert (res.low, res.high) == pytest.approx(wilson(4 / 11, 3388 / 446), abs=1e-12)
    as_if_independent = scoring.proportion_ci(4, 11)
    assert res.high - res.low > as_if_independent.high - as_if_independent.low


def test_pooled_rate_ci_edges():
    # one answer a person: exactly proportion_ci; people without an answer left out
    assert scoring.pooled_rate_ci([1, 0, 1, 0], [1, 1, 1, 0]) == scoring.proportion_ci(2, 3)
    # all satisfied: no variance to measure, the people are the sample (3, not 6 answers)
    assert scoring.pooled_rate_ci([2, 2, 2], [2, 2, 2]) == pytest.approx(
        scoring.proportion_ci(3, 3))
    # answers that disagree within each person are worth no more than independent ones
    alike = scoring.pooled_rate_ci([1, 1, 1, 1], [2, 2, 2, 2])
    assert alike == pytest.approx(scoring.proportion_ci(4, 8))


def test_pooled_mean_ci_over_people_by_hand():
    totals = [200, 160, 140, 60, 180, 100]  # e.g. 100 + 100, 80 + 80, …, 100 (one answer)
    r = 840 / 11
    dev = sum((t - r * a) ** 2 for t, a in zip(totals, PEOPLE_ANSWERS, strict=True))
    se = math.sqrt(6 / 5 * dev) / 11
    t = stats.t.ppf(0.975, 5)  # 6 people: 5 degrees of freedom, not 10
    res = scoring.pooled_mean_ci(totals, PEOPLE_ANSWERS)
    assert res.estimate == pytest.approx(r)
    assert (res.low, res.high) == pytest.approx((r - t * se, r + t * se), abs=1e-9)
    clipped = scoring.pooled_mean_ci(totals, PEOPLE_ANSWERS, bounds=(0, 100))
    assert clipped.low == pytest.approx(res.low) and clipped.high <= 100
    one_each = [80, 60, 100, 100]
    assert scoring.pooled_mean_ci(one_each, [1, 1, 1, 1], bounds=(0, 100)) == \
        scoring.mean_ci(one_each, bounds=(0, 100))


def test_pooled_intervals_check_their_arguments():
    with pytest.raises(ValueError, match="answers: must have one value per person"):
        scoring.pooled_rate_ci([1, 2], [2])
    with pytest.raises(ValueError, match="hits: must be whole numbers from 0"):
        scoring.pooled_rate_ci([3], [2])
    with pytest.raises(ValueError, match="answers: nobody gave an answer"):
        scoring.pooled_rate_ci([0, 0], [0, 0])
    with pytest.raises(ValueError, match="answers: must be whole numbers"):
        scoring.pooled_mean_ci([100, 50], [1.5, 1])
    with pytest.raises(ValueError, match="at least 2 people"):
        scoring.pooled_mean_ci([100, 0], [1, 0])
    with pytest.raises(ValueError, match="totals: each person's values must lie within bounds"):
        scoring.pooled_mean_ci([300, 50], [2, 1], bounds=(0, 100))


@pytest.mark.parametrize("population, expected", [(None, 385), (1000, 278), (300, 169),
                                                  (100, 80), (10_000, 370), (1, 1)])
def test_sample_size_published_values(population, expected):
    # n0 = 1.96² · 0.25 / 0.05² = 384.15; with the finite population correction
    assert scoring.sample_size(population) == expected


def test_sample_size_other_margins():
    assert scoring.sample_size(None, margin=0.03) == 1068
    assert scoring.sample_size(None, margin=0.05, confidence=0.99) == 664
    with pytest.raises(ValueError, match="margin"):
        scoring.sample_size(100, margin=0)
    with pytest.raises(ValueError, match="population: must be a positive integer"):
        scoring.sample_size(0)
