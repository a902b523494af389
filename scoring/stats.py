"""Weights and statistics of the scoring model (权重与统计).

Arrays in, small named results out, in the manner of ``scipy.stats``. Every input check
raises ``ValueError`` naming the argument and the rule. The batched kernels used by the
evaluation engine (``_kendall_w_batch``, ``_icc_batch``) are the same code the public
functions call, so a statistic in a result equals the public function's to the last bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = [
    "AHPResult",
    "EntropyResult",
    "TopsisResult",
    "KendallWResult",
    "ICCResult",
    "AlphaResult",
    "IntervalResult",
    "RANDOM_INDEX",
    "ahp",
    "entropy_weights",
    "topsis",
    "trimmed_mean",
    "kendall_w",
    "icc",
    "cronbach_alpha",
    "mean_ci",
    "proportion_ci",
    "sample_size",
]

#: Saaty's random consistency index, n = 1..15.
RANDOM_INDEX = (0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56,
                1.57, 1.59)

ICC_KINDS = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class AHPResult:
    """AHP weights (层次分析法权重) and consistency figures."""

    weights: np.ndarray
    lambda_max: float
    ci: float
    ri: float
    cr: float
    consistent: bool


@dataclass(frozen=True, slots=True)
class EntropyResult:
    """Entropy-method weights (熵权法)."""

    weights: np.ndarray
    entropy: np.ndarray
    divergence: np.ndarray


@dataclass(frozen=True, slots=True)
class CombinedWeightsResult:
    """Combined weights (组合赋权): a share of subjective weights (e.g. AHP) and the rest of
    objective ones (e.g. entropy)."""

    weights: np.ndarray
    subjective: np.ndarray
    objective: np.ndarray
    share: float


@dataclass(frozen=True, slots=True)
class TopsisResult:
    """TOPSIS closeness (贴近度) and rank (1 = best)."""

    closeness: np.ndarray
    rank: np.ndarray


@dataclass(frozen=True, slots=True)
class KendallWResult:
    """Kendall's coefficient of concordance (肯德尔和谐系数)."""

    statistic: float
    chi2: float
    df: int
    pvalue: float


@dataclass(frozen=True, slots=True)
class ICCResult:
    """Intraclass correlation (组内相关系数) with its 95 % confidence interval."""

    kind: str
    statistic: float
    ci_low: float
    ci_high: float
    pvalue: float
    f: float
    df1: float
    df2: float


@dataclass(frozen=True, slots=True)
class AlphaResult:
    """Cronbach's alpha (克隆巴赫系数) with Feldt's confidence interval."""

    statistic: float
    ci_low: float
    ci_high: float
    n: int
    n_dropped: int
    k: int


@dataclass(frozen=True, slots=True)
class IntervalResult:
    """A point estimate with its confidence interval."""

    estimate: float
    low: float
    high: float


# ----------------------------------------------------------------------------- helpers


def _as_matrix(name: str, value, *, min_rows: int = 1, min_cols: int = 1,
               allow_nan: bool = False) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: must be a 2-D array of numbers ({exc})") from None
    if a.ndim != 2:
        raise ValueError(f"{name}: must be a 2-D array, got {a.ndim} dimension(s)")
    if a.shape[0] < min_rows:
        raise ValueError(f"{name}: needs at least {min_rows} rows, got {a.shape[0]}")
    if a.shape[1] < min_cols:
        raise ValueError(f"{name}: needs at least {min_cols} columns, got {a.shape[1]}")
    if allow_nan:
        if np.isinf(a).any():
            raise ValueError(f"{name}: values must be finite or NaN (missing)")
    elif not np.isfinite(a).all():
        raise ValueError(f"{name}: values must be finite numbers (no NaN or infinity)")
    return a


def _as_vector(name: str, value, *, min_len: int = 1) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: must be a 1-D array of numbers ({exc})") from None
    if a.ndim != 1:
        raise ValueError(f"{name}: must be a 1-D array, got {a.ndim} dimension(s)")
    if a.shape[0] < min_len:
        raise ValueError(f"{name}: needs at least {min_len} values, got {a.shape[0]}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name}: values must be finite numbers (no NaN or infinity)")
    return a


def _confidence(confidence) -> float:
    c = float(confidence)
    if not 0.0 < c < 1.0:
        raise ValueError(f"confidence: must lie strictly between 0 and 1, got {confidence!r}")
    return c


def _z(confidence: float) -> float:
    return float(special.ndtri(0.5 + confidence / 2.0))


def _f_ppf(q, d1, d2):
    """Quantile of the F distribution (vectorised, like ``scipy.stats.f.ppf``)."""
    x = special.betaincinv(np.asarray(d1, float) / 2.0, np.asarray(d2, float) / 2.0, q)
    return np.asarray(d2, float) * x / (np.asarray(d1, float) * (1.0 - x))


def _f_sf(x, d1, d2):
    """Survival function of the F distribution (like ``scipy.stats.f.sf``)."""
    x = np.asarray(x, float)
    d1 = np.asarray(d1, float)
    d2 = np.asarray(d2, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = d2 / (d2 + d1 * x)
        out = special.betainc(d2 / 2.0, d1 / 2.0, z)
    return np.where(x <= 0, 1.0, np.where(np.isinf(x), 0.0, out))


# ----------------------------------------------------------------------------- weights


def ahp(matrix, method: str = "eigen") -> AHPResult:
    """Weights from a pairwise comparison matrix (层次分析法).

    ``method="eigen"`` takes the principal eigenvector and its eigenvalue; ``"geometric"``
    the normalised row geometric means, with λmax = mean((A·w)ᵢ / wᵢ). CI = (λmax − n)/(n − 1),
    CR = CI / RI (Saaty's random index); a matrix of n ≤ 2 has CR 0. ``consistent`` is
    CR < 0.10.
    """
    if method not in ("eigen", "geometric"):
        raise ValueError(f"method: must be 'eigen' or 'geometric', got {method!r}")
    a = _as_matrix("matrix", matrix)
    n = a.shape[0]
    if a.shape[1] != n:
        raise ValueError(f"matrix: must be square, got shape {a.shape[0]}×{a.shape[1]}")
    if n > len(RANDOM_INDEX):
        raise ValueError(f"matrix: at most {len(RANDOM_INDEX)} criteria (Saaty's random index "
                         f"table), got {n}")
    if (a <= 0).any():
        raise ValueError("matrix: every entry must be positive")
    bad = np.abs(a * a.T - 1.0) > 1e-9
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        if i == j:
            raise ValueError(f"matrix: the diagonal must be 1 (a criterion against itself), "
                             f"got a[{i}][{i}] = {float(a[i, i])!r}")
        raise ValueError(f"matrix: must be reciprocal, a[{j}][{i}] = 1/a[{i}][{j}] within 1e-9 "
                         f"(a[{i}][{j}] = {float(a[i, j])!r}, a[{j}][{i}] = {float(a[j, i])!r})")
    if n <= 2:
        if n == 1:
            w = np.ones(1)
        else:
            w = np.array([a[0, 1], 1.0]) / (a[0, 1] + 1.0)
        return AHPResult(w, float(n), 0.0, RANDOM_INDEX[n - 1], 0.0, True)
    if method == "eigen":
        values, vectors = np.linalg.eig(a)
        k = int(np.argmax(values.real))
        lam = float(values[k].real)
        v = np.abs(vectors[:, k].real)
        w = v / v.sum()
    else:
        g = np.exp(np.log(a).mean(axis=1))
        w = g / g.sum()
        lam = float(np.mean((a @ w) / w))
    ci = max((lam - n) / (n - 1), 0.0)  # λmax ≥ n in theory; clamp rounding noise
    ri = RANDOM_INDEX[n - 1]
    cr = ci / ri
    return AHPResult(w, lam, ci, ri, cr, bool(cr < 0.10))


def entropy_weights(matrix, benefit=None) -> EntropyResult:
    """Entropy-method weights (熵权法): rows are alternatives, columns criteria.

    pᵢⱼ = xᵢⱼ / Σᵢ xᵢⱼ, eⱼ = −Σᵢ pᵢⱼ ln pᵢⱼ / ln m (p ln p = 0 at p = 0), dⱼ = 1 − eⱼ,
    wⱼ = dⱼ / Σ d. A constant (or all-zero) column carries no information and gets weight 0.

    Without ``benefit`` the values are used as they are (they must be ≥ 0): right for
    figures on one ratio scale, such as the shares of their points that indicators scored.
    With ``benefit`` (one boolean per criterion, False = cost) each column is first
    standardised by its range, as the method is taught for criteria in different units
    (极差标准化): x′ = (x − min) / (max − min) where more is better, (max − x) / (max − min)
    for a cost, so that neither a column's unit nor its origin (a count of complaints
    against a score out of 100, an index around 100) decides its weight; any finite values
    are then accepted.
    """
    x = _as_matrix("matrix", matrix, min_rows=2)
    m, k = x.shape
    if benefit is None:
        if (x < 0).any():
            raise ValueError("matrix: values must be ≥ 0")
    else:
        b = _benefit_vector(benefit, k)
        lo, hi = x.min(axis=0), x.max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        x = np.where(b, x - lo, hi - x) / span
    col = x.sum(axis=0)
    const = (x == x[0]).all(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(col > 0, x / np.where(col > 0, col, 1.0), 1.0 / m)
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    e = -plogp.sum(axis=0) / math.log(m)
    e = np.where(const, 1.0, np.minimum(e, 1.0))
    d = 1.0 - e
    total = d.sum()
    if total <= 0:
        raise ValueError("matrix: every column is constant; entropy gives no weight")
    return EntropyResult(d / total, e, d)


def _benefit_vector(benefit, k: int) -> np.ndarray:
    """``benefit`` as one boolean per criterion (True = benefit, False = cost)."""
    b = np.asarray(benefit)
    if b.ndim != 1 or b.shape[0] != k:
        raise ValueError(f"benefit: one boolean per criterion, expected {k}")
    if b.dtype != bool:
        if not all(v in (0, 1) for v in b.tolist()):
            raise ValueError("benefit: each value must be a boolean (True = benefit, "
                             "False = cost)")
        b = b.astype(bool)
    return b


def _weight_vector(name: str, value) -> np.ndarray:
    w = _as_vector(name, value)
    if (w < 0).any():
        raise ValueError(f"{name}: weights must be ≥ 0")
    if abs(w.sum() - 1.0) > 1e-9:
        raise ValueError(f"{name}: weights must add up to 1 (they add up to {w.sum():.12g})")
    return w


def combined_weights(subjective, objective, share=0.5) -> CombinedWeightsResult:
    """Linear combination of subjective and objective weights (线性组合赋权):
    wⱼ = α·sⱼ + (1 − α)·oⱼ, where α (``share``, 0 to 1) is the share given to the subjective
    weights — the experts' judgement, e.g. AHP — and 1 − α to the objective ones read off
    the data, e.g. the entropy method. Both must be weights over the same criteria (≥ 0,
    adding up to 1); so do the combined ones. α = 1 keeps the judgement alone, α = 0 the
    data alone."""
    s = _weight_vector("subjective", subjective)
    o = _weight_vector("objective", objective)
    if s.shape != o.shape:
        raise ValueError(f"objective: {o.size} weights for {s.size} criteria")
    alpha = float(share)
    if not 0.0 <= alpha <= 1.0:  # also refuses NaN
        raise ValueError("share: must lie between 0 and 1")
    return CombinedWeightsResult(alpha * s + (1.0 - alpha) * o, s, o, alpha)


def topsis(matrix, weights, benefit) -> TopsisResult:
    """Rank alternatives by TOPSIS with vector (Euclidean) normalisation.

    ``benefit[j]`` is True where more is better, False for a cost. Closeness is
    D⁻ / (D⁺ + D⁻); rank 1 is the best and ties share the better rank. Weights are
    non-negative (they are normalised; scaling them changes nothing). A column of zeros
    normalises to zeros; alternatives identical on every weighted criterion get 0.5.
    """
    x = _as_matrix("matrix", matrix)
    m, k = x.shape
    w = _as_vector("weights", weights)
    if w.shape[0] != k:
        raise ValueError(f"weights: one per criterion (column) of matrix, expected {k}, "
                         f"got {w.shape[0]}")
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights: must be ≥ 0 and not all zero")
    b = _benefit_vector(benefit, k)
    w = w / w.sum()
    norm = np.sqrt((x * x).sum(axis=0))
    r = x / np.where(norm > 0, norm, 1.0)
    v = r * w
    vmax = v.max(axis=0)
    vmin = v.min(axis=0)
    best = np.where(b, vmax, vmin)
    worst = np.where(b, vmin, vmax)
    dp = np.sqrt(((v - best) ** 2).sum(axis=1))
    dm = np.sqrt(((v - worst) ** 2).sum(axis=1))
    s = dp + dm
    c = np.where(s > 0, dm / np.where(s > 0, s, 1.0), 0.5)
    key = np.round(c, 12)
    rank = 1 + (key[None, :] > key[:, None]).sum(axis=1)
    return TopsisResult(c, rank.astype(np.int64))


# ----------------------------------------------------------------------------- panels


def trimmed_mean(values, drop: int = 1) -> float:
    """Mean after dropping the ``drop`` highest and ``drop`` lowest values (去掉最高最低分)."""
    if isinstance(drop, bool) or not isinstance(drop, int | np.integer) or drop < 0:
        raise ValueError(f"drop: must be a non-negative integer, got {drop!r}")
    v = _as_vector("values", values)
    if v.shape[0] < 2 * drop + 1:
        raise ValueError(f"values: dropping {drop} highest and {drop} lowest needs at least "
                         f"{2 * drop + 1} values, got {v.shape[0]}")
    v = np.sort(v)
    if drop:
        v = v[drop:-drop]
    return float(v.mean())


def _kendall_w_batch(x: np.ndarray, mask: np.ndarray | None = None):
    """Kendall's W for a batch: ``x`` is (B, raters, objects); ``mask`` (B, objects) marks
    the objects included. Average ranks with the tie correction (ranks are halves, so
    every sum is exact).

    Returns (w, chi2, df, pvalue, n) arrays of length B; W is NaN where undefined.
    """
    b, m, n_all = x.shape
    if mask is None:
        mask = np.ones((b, n_all), dtype=bool)
    fm = mask[:, None, :]
    # an object's rank is 1 + the number of objects below it + (the size of its tie group
    # − 1) / 2, among the objects included: from pairwise comparisons for a small batch,
    # by sorting for a large one (the same integers and halves, so the same W)
    if b * m * n_all * n_all <= 1 << 15:
        mk = mask[:, None, None, :]
        below = ((x[..., None, :] < x[..., :, None]) & mk).sum(axis=-1)
        tied = ((x[..., None, :] == x[..., :, None]) & mk).sum(axis=-1)
        return _kendall_w_ranked(below, tied, mask, m)
    xm = np.where(fm, x, np.inf)  # objects left out sort last
    order = np.argsort(xm, axis=-1, kind="stable")
    xs = np.take_along_axis(xm, order, axis=-1)
    pos = np.arange(n_all)
    new = np.ones(xs.shape, dtype=bool)
    np.not_equal(xs[..., 1:], xs[..., :-1], out=new[..., 1:])
    start = np.maximum.accumulate(np.where(new, pos, 0), axis=-1)  # first of its tie group
    last = np.ones(xs.shape, dtype=bool)
    last[..., :-1] = new[..., 1:]
    end = np.minimum.accumulate(np.where(last, pos + 1, n_all)[..., ::-1], axis=-1)[..., ::-1]
    tied = np.empty(xs.shape, dtype=np.int64)  # the size of each object's tie group
    np.put_along_axis(tied, order, end - start, axis=-1)
    below = np.empty(xs.shape, dtype=np.int64)
    np.put_along_axis(below, order, start, axis=-1)
    return _kendall_w_ranked(below, tied, mask, m)


def _kendall_w_ranked(below, tied, mask, m):
    fm = mask[:, None, :]
    ranks = below + 0.5 * (tied + 1)  # (B, m, n)
    ties = np.where(fm, tied.astype(np.float64) ** 2 - 1.0, 0.0).sum(axis=-1).sum(axis=-1)
    n = mask.sum(axis=-1).astype(np.float64)
    rsum = np.where(mask, ranks.sum(axis=1), 0.0)
    mean_r = m * (n + 1) / 2.0
    s = np.where(mask, (rsum - mean_r[:, None]) ** 2, 0.0).sum(axis=-1)
    denom = m * m * (n ** 3 - n) - m * ties
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(denom > 0, 12.0 * s / np.where(denom > 0, denom, 1.0), np.nan)
    df = n - 1
    chi2 = m * df * w
    with np.errstate(invalid="ignore"):
        p = np.where(np.isnan(w), np.nan, special.chdtrc(np.maximum(df, 1), chi2))
    return w, chi2, df, p, n


def kendall_w(ratings) -> KendallWResult:
    """Kendall's W (肯德尔和谐系数): rows are the objects rated, columns the raters.

    Each rater's ratings are ranked (average ranks for ties) and W uses the tie
    correction: W = 12 S / (m²(n³ − n) − m Σ T), T = Σ (t³ − t) over tie groups.
    χ² = m (n − 1) W with n − 1 degrees of freedom (Friedman's statistic). W is NaN when
    every rater ties every object.
    """
    x = _as_matrix("ratings", ratings, min_rows=2, min_cols=2)
    n, m = x.shape
    if n <= 200:
        w, chi2, df, p, _ = _kendall_w_batch(x.T[None, :, :])
        return KendallWResult(float(w[0]), float(chi2[0]), int(df[0]), float(p[0]))
    # Large n: ranks by sorting (same values, O(n log n)).
    order = np.argsort(x, axis=0, kind="stable")
    xs = np.take_along_axis(x, order, axis=0)
    ranks = np.empty_like(x)
    ties = 0.0
    for j in range(m):
        col = xs[:, j]
        starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
        counts = np.diff(np.r_[starts, n])
        avg = starts + (counts + 1) / 2.0
        ranks[order[:, j], j] = np.repeat(avg, counts)
        ties += float((counts.astype(float) ** 3 - counts).sum())
    r = ranks.sum(axis=1)
    s = float(((r - m * (n + 1) / 2.0) ** 2).sum())
    denom = m * m * (n ** 3 - n) - m * ties
    w = 12.0 * s / denom if denom > 0 else math.nan
    chi2 = m * (n - 1) * w
    p = float(special.chdtrc(n - 1, chi2)) if not math.isnan(w) else math.nan
    return KendallWResult(w, chi2, n - 1, p)


def _icc_batch(x: np.ndarray, mask: np.ndarray | None = None, alpha: float = 0.05,
               kinds=ICC_KINDS):
    """The ICCs ``kinds`` for a batch: ``x`` is (B, targets, raters), ``mask`` (B, targets).

    Returns a dict kind → (statistic, ci_low, ci_high, pvalue, f, df1, df2), each an array
    of length B. Formulas of Shrout & Fleiss (1979) with pingouin's F-based intervals. Only
    the families asked for (1: one-way, 2: two-way random, 3: two-way mixed) are computed;
    a kind's figures do not depend on which others are asked for.
    """
    b, n_all, k = x.shape
    if mask is None:
        mask = np.ones((b, n_all), dtype=bool)
    families = {kind[3] for kind in kinds}
    n = mask.sum(axis=1).astype(np.float64)
    fm = mask[:, :, None]
    xm = np.where(fm, x, 0.0)
    out = {}
    q = 1 - alpha / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        grand = xm.sum(axis=-1).sum(axis=-1) / (n * k)
        row_mean = xm.sum(axis=-1) / k  # (B, n)
        col_mean = xm.sum(axis=1) / n[:, None]  # (B, k)
        ss_total = np.where(fm, (x - grand[:, None, None]) ** 2, 0.0).sum(axis=-1).sum(axis=-1)
        ss_r = k * np.where(mask, (row_mean - grand[:, None]) ** 2, 0.0).sum(axis=-1)
        ss_c = n * ((col_mean - grand[:, None]) ** 2).sum(axis=-1)
        ss_e = ss_total - ss_r - ss_c
        ss_w = ss_total - ss_r
        df1 = n - 1
        df1kd = n * (k - 1)
        df2kd = (n - 1) * (k - 1)
        msb = ss_r / df1
        msw = ss_w / df1kd
        msj = ss_c / (k - 1)
        mse = ss_e / df2kd
        if "1" in families:
            icc1 = (msb - msw) / (msb + (k - 1) * msw)
            icc1k = (msb - msw) / msb
            f1k = msb / msw
            p1 = _f_sf(f1k, df1, df1kd)
            f1l = f1k / _f_ppf(q, df1, df1kd)
            f1u = f1k * _f_ppf(q, df1kd, df1)
            l1 = (f1l - 1) / (f1l + (k - 1))
            u1 = (f1u - 1) / (f1u + (k - 1))
            l1k = 1 - 1 / f1l
            u1k = 1 - 1 / f1u
            out["ICC1"] = (icc1, l1, u1, p1, f1k, df1, df1kd)
            out["ICC1k"] = (icc1k, l1k, u1k, p1, f1k, df1, df1kd)
        if families & {"2", "3"}:
            f2k = msb / mse
            p2 = _f_sf(f2k, df1, df2kd)
        if "2" in families:
            icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
            icc2k = (msb - mse) / (msb + (msj - mse) / n)
            fj = msj / mse
            vn = df2kd * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
            vd = df1 * k ** 2 * icc2 ** 2 * fj ** 2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
            v = vn / vd
            f2u = _f_ppf(q, n - 1, v)
            f2l = _f_ppf(q, v, n - 1)
            l2 = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
            u2 = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)
            l2k = (l2 * k) / (1 + l2 * (k - 1))
            u2k = (u2 * k) / (1 + u2 * (k - 1))
            out["ICC2"] = (icc2, l2, u2, p2, f2k, df1, df2kd)
            out["ICC2k"] = (icc2k, l2k, u2k, p2, f2k, df1, df2kd)
        if "3" in families:
            icc3 = (msb - mse) / (msb + (k - 1) * mse)
            icc3k = (msb - mse) / msb
            f3l = f2k / _f_ppf(q, df1, df2kd)
            f3u = f2k * _f_ppf(q, df2kd, df1)
            l3 = (f3l - 1) / (f3l + (k - 1))
            u3 = (f3u - 1) / (f3u + (k - 1))
            l3k = 1 - 1 / f3l
            u3k = 1 - 1 / f3u
            out["ICC3"] = (icc3, l3, u3, p2, f2k, df1, df2kd)
            out["ICC3k"] = (icc3k, l3k, u3k, p2, f2k, df1, df2kd)
    return out


def icc(ratings, kind: str = "ICC2") -> ICCResult:
    """Intraclass correlation (组内相关系数): rows targets, columns raters.

    ``kind`` is one of ICC1, ICC2, ICC3 (single rater) or ICC1k, ICC2k, ICC3k (mean of k
    raters), as Shrout & Fleiss (1979) / McGraw & Wong (1996) and pingouin name them. The
    95 % interval and the p-value follow pingouin (F tests). NaN where the ratings have no
    variance.
    """
    if kind not in ICC_KINDS:
        raise ValueError(f"kind: must be one of {', '.join(ICC_KINDS)}, got {kind!r}")
    x = _as_matrix("ratings", ratings, min_rows=2, min_cols=2)
    out = _icc_batch(x[None, :, :], kinds=(kind,))[kind]
    s, lo, hi, p, f, d1, d2 = (float(np.asarray(a).reshape(-1)[0]) for a in out)
    return ICCResult(kind, s, lo, hi, p, f, d1, d2)


def _alpha_ci(alpha_value, n, k, confidence: float):
    n = np.asarray(n, float)
    inverse = None
    if n.ndim == 1 and n.shape[0] > 16:  # the F quantiles once per distinct n (elementwise,
        n, inverse = np.unique(n, return_inverse=True)  # so the same values)
    df1 = n - 1
    df2 = df1 * (k - 1)
    a = 1 - confidence
    with np.errstate(invalid="ignore", divide="ignore"):
        f_hi = _f_ppf(1 - a / 2, df1, df2)
        f_lo = _f_ppf(a / 2, df1, df2)
        if inverse is not None:
            f_hi, f_lo = f_hi[inverse], f_lo[inverse]
        lower = 1 - (1 - alpha_value) * f_hi
        upper = 1 - (1 - alpha_value) * f_lo
    return lower, upper


def cronbach_alpha(items, confidence: float = 0.95) -> AlphaResult:
    """Cronbach's alpha (克隆巴赫系数): rows respondents, columns items.

    Rows with a missing value (NaN) are left out and counted in ``n_dropped``.
    α = k/(k − 1) · (1 − Σ var(item) / var(total)); the interval is Feldt's (as pingouin).
    NaN where the totals have no variance.
    """
    c = _confidence(confidence)
    x = _as_matrix("items", items, min_cols=2, allow_nan=True)
    keep = ~np.isnan(x).any(axis=1)
    xs = x[keep]
    n, k = xs.shape
    if n < 2:
        raise ValueError(f"items: needs at least 2 complete rows (respondents), got {n}")
    item_var = xs.var(axis=0, ddof=1).sum()
    total_var = xs.sum(axis=1).var(ddof=1)
    a = k / (k - 1) * (1 - item_var / total_var) if total_var > 0 else math.nan
    lo, hi = _alpha_ci(a, n, k, c)
    return AlphaResult(float(a), float(lo), float(hi), int(n), int((~keep).sum()), int(k))


# ----------------------------------------------------------------------------- surveys


def _scale_bounds(bounds) -> tuple[float, float]:
    """``bounds`` checked: a pair (low, high) of finite numbers, low < high."""
    try:
        lo_b, hi_b = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"bounds: must be a pair (low, high) of numbers, got {bounds!r}") \
            from None
    if not (math.isfinite(lo_b) and math.isfinite(hi_b) and lo_b < hi_b):
        raise ValueError(f"bounds: low must be less than high, both finite, got {bounds!r}")
    return lo_b, hi_b


def mean_ci(values, confidence: float = 0.95, bounds=None) -> IntervalResult:
    """Mean with a t-based confidence interval (均值置信区间).

    ``bounds=(low, high)`` names the scale the values are measured on (e.g. ``(0, 100)``
    for satisfaction scores): the interval is then clipped to it, since with few values the
    t interval can reach past the ends of the scale (−4.6 – 154.6 on 0–100), where no mean
    can lie. Values outside the bounds are refused. Without ``bounds`` the interval is the
    plain t interval.
    """
    c = _confidence(confidence)
    v = _as_vector("values", values, min_len=2)
    lo_b = hi_b = None
    if bounds is not None:
        lo_b, hi_b = _scale_bounds(bounds)
        if v.min() < lo_b or v.max() > hi_b:
            raise ValueError(f"values: must lie within bounds {lo_b:g}..{hi_b:g}, got "
                             f"{float(v.min()):g}..{float(v.max()):g}")
    n = v.shape[0]
    mean = float(v.mean())
    se = float(v.std(ddof=1)) / math.sqrt(n)
    t = float(special.stdtrit(n - 1, 0.5 + c / 2))
    low, high = mean - t * se, mean + t * se
    if bounds is not None:
        low, high = max(low, lo_b), min(high, hi_b)
    return IntervalResult(mean, low, high)


def proportion_ci(successes, n, confidence: float = 0.95) -> IntervalResult:
    """Proportion with the Wilson score interval (比例的 Wilson 置信区间)."""
    c = _confidence(confidence)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n: must be a positive integer, got {n!r}")
    if isinstance(successes, bool) or not isinstance(successes, int | np.integer):
        raise ValueError(f"successes: must be an integer, got {successes!r}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes: must lie in 0..n ({n}), got {successes}")
    return _wilson(successes / n, n, _z(c))


def _wilson(p: float, n: float, z: float) -> IntervalResult:
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return IntervalResult(p, max(0.0, centre - half), min(1.0, centre + half))


def _per_person(hits_name: str, hits, answers) -> tuple[np.ndarray, np.ndarray]:
    """Two equal vectors, people who gave no answer (answers 0) left out; at least one left."""
    h = _as_vector(hits_name, hits, min_len=1)
    a = _as_vector("answers", answers, min_len=1)
    if h.shape != a.shape:
        raise ValueError(f"answers: must have one value per person like {hits_name} "
                         f"({h.shape[0]}), got {a.shape[0]}")
    if (a < 0).any() or (a != np.floor(a)).any():
        raise ValueError("answers: must be whole numbers ≥ 0 (a person's counted answers)")
    keep = a > 0
    if not keep.any():
        raise ValueError("answers: nobody gave an answer")
    return h[keep], a[keep]


def pooled_rate_ci(hits, answers, confidence: float = 0.95) -> IntervalResult:
    """A rate pooled over several questions (跨题合计满意率): person i gave ``answers[i]``
    counted answers, ``hits[i]`` of them satisfied; the rate is Σ hits / Σ answers.

    One person's answers are not independent, so the interval is Wilson's on the effective
    number of answers n / deff (Kish 1965): deff is the rate's variance over the people
    (a ratio estimator, Σ (hᵢ − p·aᵢ)² / (Σ aᵢ)², as the engine's margin of error) over
    p(1 − p)/n, never below 1; when every answer is satisfied or none is, the effective
    number is the people. With one answer a person it is ``proportion_ci(Σ hits, n)``.
    People with no answer are left out.
    """
    c = _confidence(confidence)
    h, a = _per_person("hits", hits, answers)
    if (h < 0).any() or (h > a).any() or (h != np.floor(h)).any():
        raise ValueError("hits: must be whole numbers from 0 to the person's answers")
    n = float(a.sum())
    p = float(h.sum()) / n
    if (a == 1).all():
        return _wilson(p, n, _z(c))
    if not 0 < p < 1:  # no variance that could show how alike one person's answers are
        return _wilson(p, float(a.shape[0]), _z(c))
    var = float(((h - p * a) ** 2).sum()) / (n * n)
    n_eff = min(n, p * (1 - p) / var) if var > 0 else n
    return _wilson(p, n_eff, _z(c))


def pooled_mean_ci(totals, answers, confidence: float = 0.95, bounds=None) -> IntervalResult:
    """A mean pooled over several questions (跨题合计均值): person i gave ``answers[i]``
    counted answers whose values sum to ``totals[i]``; the mean is Σ totals / Σ answers.

    The people are the sample, not the answers: the standard error is the ratio estimator's
    over the m people, √(m / (m − 1) · Σ (tᵢ − R·aᵢ)²) / Σ aᵢ (Cochran 1977, §6.9), and the
    interval uses t with m − 1 degrees of freedom; ``bounds`` clips it to the scale as in
    :func:`mean_ci`. With one answer a person it is ``mean_ci(totals)``. People with no
    answer are left out; at least 2 people are needed.
    """
    c = _confidence(confidence)
    t_, a = _per_person("totals", totals, answers)
    m = t_.shape[0]
    if m < 2:
        raise ValueError(f"answers: at least 2 people with an answer are needed, got {m}")
    if bounds is not None:
        lo_b, hi_b = _scale_bounds(bounds)
        if (t_ < lo_b * a).any() or (t_ > hi_b * a).any():
            raise ValueError(f"totals: each person's values must lie within bounds "
                             f"{lo_b:g}..{hi_b:g}")
    if (a == 1).all():
        return mean_ci(t_, confidence, bounds)
    n = float(a.sum())
    r = float(t_.sum()) / n
    se = math.sqrt(m / (m - 1) * float(((t_ - r * a) ** 2).sum())) / n
    t = float(special.stdtrit(m - 1, 0.5 + c / 2))
    low, high = r - t * se, r + t * se
    if bounds is not None:
        low, high = max(low, lo_b), min(high, hi_b)
    return IntervalResult(r, low, high)


def sample_size(population=None, margin: float = 0.05, confidence: float = 0.95,
                p: float = 0.5) -> int:
    """Smallest sample for a proportion (样本量): n₀ = z² p (1 − p) / e², with the finite
    population correction n = n₀ / (1 + (n₀ − 1) / N), rounded up. ``population=None``
    means an unlimited population.
    """
    c = _confidence(confidence)
    e = float(margin)
    if not 0.0 < e < 1.0:
        raise ValueError(f"margin: must lie strictly between 0 and 1, got {margin!r}")
    pp = float(p)
    if not 0.0 < pp < 1.0:
        raise ValueError(f"p: must lie strictly between 0 and 1, got {p!r}")
    z = _z(c)
    n0 = z * z * pp * (1 - pp) / (e * e)
    if population is None:
        return int(math.ceil(round(n0, 9)))
    if isinstance(population, bool) or not isinstance(population, int | np.integer) \
            or population < 1:
        raise ValueError(f"population: must be a positive integer, got {population!r}")
    n = n0 / (1 + (n0 - 1) / population)
    return int(min(population, math.ceil(round(n, 9))))
