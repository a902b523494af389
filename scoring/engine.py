"""The evaluation engine (评价计分引擎): one package or many, with the same results.

``evaluate(package)`` scores one evaluation; ``evaluate_many(packages)`` scores many,
grouping the packages that share a scheme (by content), reading them in chunks
(:mod:`scoring.batch`) and computing each scheme's packages as one batch with numpy arrays
(packages × sheets × leaves, questions × respondents). ``evaluate`` is the batch code run
on a batch of one, so the two agree to the last bit: every sum that reaches a score is
taken in a fixed order (leaves in scheme order, sheets sorted by scorer, survey answers as
integer counts), and the total is rounded once by :func:`scoring.money.round_score`.
"""

from __future__ import annotations

import gc
import json
import marshal
import math
import operator
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from itertools import chain, repeat
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
from scipy import special

from .batch import (
    MISSING,
    NA,
    SCORED,
    concat,
    from_parsed,
    no_reason_warning,
    read_many,
    unused_survey_warning,
)
from .money import _amount as _parse_amount
from .money import _apply as _apply_payment
from .money import _round_float, _RuleError, parse_payment_rule
from .package import _FAST as _FAST_SCHEMES
from .package import (
    DATA_RULES,
    SURVEY_RULES,
    CompiledScheme,
    PackageError,
    _dec,
    _fmt,
    compile_scheme,
)
from .stats import (
    AlphaResult,
    ICCResult,
    KendallWResult,
    _alpha_ci,
    _icc_batch,
    _kendall_w_batch,
    sample_size,
)
from .text import AND, N_, Joined, Text

__all__ = [
    "Evaluation",
    "NodeScore",
    "PartScore",
    "SheetUse",
    "Missing",
    "Quality",
    "RateQuality",
    "PanelQuality",
    "TraceLine",
    "evaluate",
    "evaluate_many",
    "ENGINE",
    "ENGINE_CHANGES",
    "THRESHOLDS",
]

#: The result format's name, stored with every result (``as_dict()["engine"]``).
ENGINE = "evalplatform-scoring/3"
#: For each earlier result format, the figures of a result (keys of ``as_dict()``) that
#: it computed otherwise: a result stored by that engine may differ from today's there,
#: and only there, when its package is scored again (README, "Result format versions").
ENGINE_CHANGES = MappingProxyType({
    # /2: the margin of error of a satisfaction rate over several questions is taken over
    # the people who answered, not the answers; each rate names its respondents
    "evalplatform-scoring/1": ("quality",),
    # /3: a satisfaction rate of 0 % or 100 % has the Wilson half-width as its margin of
    # error, not z·√(p(1−p)/n) = 0
    "evalplatform-scoring/2": ("quality",),
})
_STATE_CHARS = np.frombuffer(b"snm-", dtype=np.uint8)  # SCORED, NA, MISSING, ABSENT

#: Where a quality figure counts as weak (a warning is given below these).
THRESHOLDS = MappingProxyType({
    "alpha": 0.7,  # Cronbach's alpha, the usual floor for an acceptable scale
    "kendall_w": 0.5,  # Kendall's W: below 0.5 the panel's rankings agree only weakly
    "icc": 0.5,  # ICC2k: below 0.5 is "poor" reliability (Koo & Li 2016)
    "min_panel_leaves": 3,  # leaves scored on every sheet needed for W and ICC
    "min_alpha_rows": 3,  # complete survey rows needed for alpha
})

_ALLOWED_TOP = {"format", "id", "meta", "scheme", "inputs", "payment"}
_ALLOWED_INPUTS = {"sheets", "data", "responses", "population"}
_NO_INPUTS: dict = {}
_BIG = 1 << 1000  # integers beyond this are read (and refused) by _num
_CHUNK = 256  # packages read together by the bulk parser (their objects fit in cache)
_SCORE_BLOCK = 1024  # packages scored together (their arrays fit in cache)


# ----------------------------------------------------------------------------- results


class NodeScore(NamedTuple):
    """One indicator's score (指标得分)."""

    id: str
    name: str
    part: str
    rule: str | None  # the leaf's rule; None for an inner node
    points: Decimal  # nominal maximum
    score: float | None  # points earned; None when not applicable or nothing present
    applicable: float  # maximum of the applicable, present leaves below
    status: str  # scored | partial (some n/a) | na | missing
    value: float | None = None  # measured value, survey mean or satisfaction rate
    n: int | None = None  # survey answers counted
    hits: int | None = None  # answers counted as satisfied
    source: str | None = None  # the data's source, or the reason it is not applicable


class SheetUse(NamedTuple):
    """One scorer's sheet (评分表) and whether the combination chose it."""

    scorer: str
    total: float | None  # the sheet's own score on 100 (applicable leaves rescaled)
    chosen: bool
    values: tuple  # per sheet leaf of the part (scheme order): points, 0.0 where not scored
    states: str  # per sheet leaf: "s" scored, "n" not applicable, "m" missing
    notes: tuple  # (leaf id, kind, text): kind "tier" (tier name), "reason", "na" (reason)

    @property
    def scores(self) -> tuple:
        """Per sheet leaf: the points, or None where not applicable or missing."""
        return tuple(v if s == "s" else None for v, s in zip(self.values, self.states,
                                                                 strict=True))


class PartScore(NamedTuple):
    """A party's part (评价主体部分) of the scheme."""

    id: str
    name: str
    party: str
    weight: Decimal
    combine: str
    score: float | None  # on 100, rescaled over applicable leaves
    weighted: float | None  # weight × score
    applicable: float
    sheets: tuple


class Missing(NamedTuple):
    """Something the result waits for (缺失项)."""

    part: str
    leaf: str | None
    source: str  # "sheet" (a scorer's sheet lacks it), "sheets" (no sheet at all),
    # "data" (no measured value), "responses" (no answer), "part" (nothing to score)
    scorer: str | None = None


class RateQuality(NamedTuple):
    """A satisfaction rate with its margin of error at 95 %.

    ``n`` counts answers, ``respondents`` the people who gave them: the margin of error
    (and its finite population correction) is a matter of people, since one person's
    answers to several questions are not independent."""

    leaf: str
    rate: float
    n: int
    margin: float
    finite_population: bool
    respondents: int


class PanelQuality(NamedTuple):
    """Agreement of a part's panel (评审一致性), leaf by scorer on score rates."""

    part: str
    sheets: int
    leaves: int  # leaves scored on every sheet (the rows of the agreement matrix)
    kendall_w: KendallWResult | None
    icc: ICCResult | None  # ICC2k: two-way random, absolute agreement, mean of k sheets
    note: str | None


class Quality(NamedTuple):
    """Evidence of quality (质量证据)."""

    responses: int  # respondents (response objects)
    answered: int  # respondents with at least one counted answer
    population: int | None
    sample_needed: int | None
    margin: float | None  # the largest margin of error of the satisfaction rates
    rates: tuple
    alpha: AlphaResult | None
    alpha_note: str | None
    panels: tuple


class NodeMap(dict):
    """A read-only mapping node id → :class:`NodeScore` (picklable, unlike mappingproxy)."""

    __slots__ = ()

    def _refuse(self, *args, **kwargs):
        raise TypeError("the nodes of a result are read-only")

    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __reduce__(self):
        return (NodeMap, (dict(self),))


class TraceLine(NamedTuple):
    ref: str
    text: str


_FIELDS = ("total", "grade", "exact_total", "final_ready", "parts", "nodes", "quality",
           "warnings", "missing", "payment", "scheme_digest")


class Evaluation:
    """The result of one evaluation (评价结果).

    ``total`` is rounded once, half-up, to two decimals; ``grade`` reads it. ``trace``
    explains every number in words; ``as_dict()`` gives plain JSON data. Results are
    immutable and compare equal field by field.

    ``evaluate_many`` makes ``total``, ``grade``, ``exact_total`` and ``final_ready`` at
    once and keeps the rest of its batch in arrays: ``parts``, ``nodes``, ``quality``,
    ``warnings``, ``missing`` and ``payment`` are made from them when one of them is first
    read (for a block of the batch's results together), with the same code and the same
    values as ``evaluate`` gives.
    """

    # _v: (total, grade, exact_total, final_ready, scheme_digest, _scheme, batch, row);
    # _got: (parts, nodes, quality, warnings, missing, payment) once made
    __slots__ = ("_v", "_got")

    def __init__(self, total, grade, exact_total, final_ready, parts, nodes, quality, warnings,
                 missing, payment, scheme_digest, _scheme):
        _SET_V(self, (total, grade, exact_total, final_ready, scheme_digest, _scheme, None,
                      None))
        _SET_GOT(self, (parts, nodes, quality, warnings, missing, payment))

    def __setattr__(self, name, value):
        raise AttributeError(f"cannot assign to field {name!r}: results are read-only")

    def __delattr__(self, name):
        raise AttributeError(f"cannot delete field {name!r}: results are read-only")

    total = property(lambda self: self._v[0], doc="Decimal with 2 places, or None")
    grade = property(lambda self: self._v[1], doc="the grade's name, or None")
    exact_total = property(lambda self: self._v[2], doc="the float before rounding")
    final_ready = property(lambda self: self._v[3], doc="False when something blocks it")
    scheme_digest = property(lambda self: self._v[4], doc="SHA-256 of the canonical scheme")
    _scheme = property(lambda self: self._v[5])

    def _fields(self) -> tuple:
        try:
            return self._got
        except AttributeError:
            v = self._v
            got = v[6].row(v[7])
            _SET_GOT(self, got)
            _SET_V(self, (*v[:6], None, None))
            return got

    parts = property(lambda self: self._fields()[0], doc="tuple of PartScore")
    nodes = property(lambda self: self._fields()[1], doc="NodeMap: node id → NodeScore")
    quality = property(lambda self: self._fields()[2], doc="Quality")
    warnings = property(lambda self: self._fields()[3], doc="tuple of str")
    missing = property(lambda self: self._fields()[4], doc="tuple of Missing")
    payment = property(lambda self: self._fields()[5], doc="PaymentResult or None")

    def _values(self) -> tuple:
        v = self._v
        return (*v[:4], *self._fields(), v[4])

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "Evaluation(" + ", ".join(f"{k}={v!r}" for k, v in zip(_FIELDS, self._values(),
                                                                     strict=True)) + ")"

    def __reduce__(self):
        return (Evaluation, (*self._values(), self._scheme))

    @property
    def trace(self) -> tuple:
        from .trace import render_trace

        return render_trace(self, self._scheme)

    def as_dict(self) -> dict:
        from .trace import result_dict

        return result_dict(self, self._scheme)


_SET_V = Evaluation._v.__set__
_SET_GOT = Evaluation._got.__set__


_BLOCK = 256  # results whose fields are made together when one of them is first read


class _Lazy:
    """A scored batch's arrays; makes the fields of a block of its results on demand."""

    __slots__ = ("args", "rows")

    def __init__(self, args: tuple, b: int):
        self.args = args
        self.rows: list = [None] * b

    def row(self, i: int) -> tuple:
        rows = self.rows
        got = rows[i]
        if got is None:
            a = i - i % _BLOCK
            z = min(a + _BLOCK, len(rows))
            with _gc_paused():
                rows[a:z] = _build(self.args, a, z)
            got = rows[i]
        rows[i] = True  # handed over: the result keeps it
        return got


def _lazy_evaluations(tots, grades, exact, final, cs, lazy) -> list[Evaluation]:
    """Results whose detail fields ``lazy`` makes on demand, made in C."""
    b = len(tots)
    out = list(map(object.__new__, repeat(Evaluation, b)))
    deque(map(_SET_V, out, zip(tots, grades, exact, final, repeat(cs.digest), repeat(cs),
                               repeat(lazy), range(b))), 0)
    return out


_CENTS: dict = {}  # cents → the Decimal with two places


def _cents_decimal(c: int) -> Decimal:
    d = _CENTS.get(c)
    if d is None:
        d = _CENTS[c] = Decimal(f"{c // 100}.{c % 100:02d}")
    return d


def _round_totals(total: np.ndarray) -> tuple[list, np.ndarray]:
    """``round_score`` of every total (None where NaN), and the totals in cents.

    A total is snapped to 9 decimals and rounded half-up (money.round_score). Snapping
    moves it by at most 5e-10, i.e. its cents by 5e-8: where the cents are farther than
    1e-6 from a half, the rounding is the nearest cent of the float and numpy gives it
    exactly; the rest (89.995 and its kind, negative zero) go through ``_round_float``."""
    with np.errstate(invalid="ignore"):
        c = total * 100.0
        fl = np.floor(c)
        frac = c - fl
        fast = (np.abs(frac - 0.5) > 1e-6) & (total >= 0.0) & ~np.signbit(total)
    cents = np.where(fast, fl + (frac > 0.5), 0.0).astype(np.int64)
    tots = list(map(_cents_decimal, cents.tolist()))
    if not fast.all():
        tl = total.tolist()
        for i in np.flatnonzero(~fast).tolist():
            t = tl[i]
            if t != t:
                tots[i] = None
            else:
                tots[i] = _round_float(t)
                cents[i] = int(tots[i].scaleb(2))
    return tots, cents


def _grades_of(cs: CompiledScheme, cents: np.ndarray, tots: list) -> list:
    """The grade of each rounded total (inclusive lower bounds, highest first)."""
    names = [name for name, _ in cs.grades]
    bounds = np.array([int((lo * 100).to_integral_value(rounding=ROUND_CEILING))
                       for _, lo in cs.grades], dtype=np.int64)
    k = (cents[:, None] < bounds[None, :]).sum(axis=1)
    out = [names[v] for v in k.tolist()] if len(names) > 1 else [names[0]] * len(tots)
    if None in tots:
        out = [None if t is None else g for t, g in zip(tots, out, strict=True)]
    return out


# ----------------------------------------------------------------------------- parsing


class _Prep:
    """Engine structures derived once per compiled scheme."""

    def __init__(self, cs: CompiledScheme):
        self.part_by_id = {p.id: p for p in cs.parts}
        self.sheet_lookup = []
        for p in cs.parts:
            lk = {}
            for j, li in enumerate(p.sheet_leaves):
                lf = cs.leaves[li]
                tiers = None
                if lf.rule == "tiers":
                    tiers = {name: (float(lf.points * c), c)
                             for name, c in lf.params["tiers"].items()}
                lk[lf.id] = (j, lf, tiers, lf.max)
            self.sheet_lookup.append(lk)
        self.data_lookup = {cs.leaves[li].id: (j, cs.leaves[li])
                            for j, li in enumerate(cs.data_leaves)}
        self.questions = cs.questions
        self.cs_scales = cs.question_scale
        nopt = max([1] + [len(sc.options) for sc in cs.question_scale])
        self.n_options = nopt
        q = len(cs.questions)
        self.values = np.full((q, nopt), np.nan)
        for qi, sc in enumerate(cs.question_scale):
            for oi, v in enumerate(sc.values):
                if v is not None:
                    self.values[qi, oi] = v
        self.answered = ~np.isnan(self.values)
        # one code space for every option string, then a table per question
        self.global_codes: dict = {None: 0}
        for sc in cs.question_scale:
            for o in sc.options:
                self.global_codes.setdefault(o, len(self.global_codes))
        ng = len(self.global_codes) + 1  # the last code: not an option of any scale
        self.table = np.full((max(q, 1), ng), -2, dtype=np.int16)
        for qi, sc in enumerate(cs.question_scale):
            self.table[qi, 0] = -1
            for o, c in sc.codes.items():
                self.table[qi, self.global_codes[o]] = c
        self.qcol = np.arange(max(q, 1))[None, :]
        self.getter = operator.itemgetter(*cs.questions) if q else None
        # the column reader (scoring.batch): option code + 1 (0: no answer, 255: not an
        # option of the question's scale) by question and global code
        code1 = np.where(self.table >= -1, self.table + 1, 255).astype(np.uint8)
        self.code_offset = np.arange(q, dtype=np.int64) * ng
        self.tally_offset = np.arange(q, dtype=np.int64) * (nopt + 1)
        self.code_table = code1[:q].reshape(-1)
        self.shared_scale = code1[0] if q and (code1[:q] == code1[0]).all() else None
        # sheet columns: every sheet leaf of every part, part by part; index -1 is a
        # sentinel that matches nothing
        self.sheet_part = {p.id: p.index for p in cs.parts if p.sheet_leaves}
        cols = [li for p in cs.parts for li in p.sheet_leaves]
        self.sheet_col = {cs.leaves[li].id: c for c, li in enumerate(cols)}
        self.col_ids = [cs.leaves[li].id for li in cols] + [None]
        self.col_part = np.array([cs.leaves[li].part for li in cols] + [-2], dtype=np.int64)
        self.col_first = np.cumsum([0] + [len(p.sheet_leaves) for p in cs.parts])[:-1]
        self.col_tier = np.array([cs.leaves[li].rule == "tiers" for li in cols] + [False])
        self.col_max = np.array([cs.leaves[li].max for li in cols] + [0.0])
        self.col_tiers = [{name: float(cs.leaves[li].points * c)
                           for name, c in cs.leaves[li].params["tiers"].items()}
                          if cs.leaves[li].rule == "tiers" else _NO_INPUTS for li in cols]
        self.col_tiers.append(_NO_INPUTS)
        self.data_col = {cs.leaves[li].id: j for j, li in enumerate(cs.data_leaves)}
        self.data_thresholds = np.array([cs.leaves[li].rule == "thresholds"
                                         for li in cs.data_leaves] + [False])
        self.grade_by_cents: dict = {}
        self.status_names = np.array(_STATUS, dtype=object)
        # survey_rate leaves over several questions: their margin of error counts people,
        # not answers (one person's answers are not independent). Per leaf: its question
        # indices and, by option code + 1, whether the option is an answer / satisfied
        self.rate_clusters = []
        for li in cs.survey_leaves:
            lf = cs.leaves[li]
            if lf.rule != "survey_rate" or len(lf.params["qidx"]) < 2:
                continue
            sat = set(lf.params["satisfied"])
            qidx = lf.params["qidx"]
            ans = np.zeros((len(qidx), nopt + 1), dtype=np.int32)
            hit = np.zeros_like(ans)
            for k, qi in enumerate(qidx):
                ans[k, 1:] = self.answered[qi]
                for oi, opt in enumerate(cs.question_scale[qi].options):
                    hit[k, oi + 1] = opt in sat
            self.rate_clusters.append((li, qidx, ans, hit))
        sizes = [len(sc.options) for sc in cs.question_scale]
        self.combo_stride = np.cumprod([1, *sizes[:-1]]) if q else None
        self._combo = None if q and math.prod(sizes) <= _COMBO_LIMIT else False

    def combo_totals(self):
        """For every combination of options of all questions: (the distinct totals sorted,
        the rank of each combination's total among them); None when there are too many
        combinations. Totals are summed question by question, as for a respondent."""
        if self._combo is None:
            n = math.prod(len(sc.options) for sc in self.cs_scales)
            idx = np.arange(n)
            t = np.zeros(n)
            for qi, sc in enumerate(self.cs_scales):
                digit = (idx // self.combo_stride[qi]) % len(sc.options)
                t = t + self.values[qi][digit]
            tvals, rank = np.unique(t, return_inverse=True)
            self._combo = (tvals, rank.reshape(-1))
        return self._combo or None


def _prep(cs: CompiledScheme) -> _Prep:
    p = getattr(cs, "_prep", None)
    if p is None:
        p = _Prep(cs)
        cs._prep = p
    return p


@dataclass(eq=False)
class _Parsed:
    cs: CompiledScheme
    prep: _Prep
    sheets: list  # per part: (scorers, values list of lists, states list of lists, notes)
    data_v: list
    data_s: list
    data_note: dict
    codes: np.ndarray | None  # (Q, R) uint8: option code + 1, 0 = no answer
    n_resp: int
    population: int | None
    payment: tuple | None
    warnings: list
    signature: tuple


def _num(v, path: str, what: str) -> float:
    try:
        x = float(v) if type(v) is float or type(v) is int else float(_dec(v, path, what))
    except OverflowError:  # an integer beyond the range of a float
        x = math.inf
    if not math.isfinite(x):
        raise PackageError(f"{what} 必须是有限的数", path)
    return x


def _reason(v, path: str, what: str) -> str:
    if not isinstance(v, str) or not v.strip():
        raise PackageError(f"{what} 必须是非空字符串", path)
    return v


def _parse_sheets(raw, cs: CompiledScheme, prep: _Prep, warnings: list) -> list:
    if not isinstance(raw, list):
        raise PackageError("评分表 sheets 必须是 JSON 数组", "$.inputs.sheets")
    per_part: list[list] = [[] for _ in cs.parts]
    for si, sh in enumerate(raw):
        sp = f"$.inputs.sheets[{si}]"
        if type(sh) is not dict:
            raise PackageError("评分表必须是 JSON 对象 {part, scorer, scores}", sp)
        try:
            part = prep.part_by_id.get(sh.get("part"))
        except TypeError:  # an unhashable part id (a list, an object)
            part = None
        if part is None:
            raise PackageError(f"评分表的部分 part {json.dumps(sh.get('part'), ensure_ascii=False)}"
                               f" 不在指标体系中", f"{sp}.part")
        scorer = sh.get("scorer")
        if not isinstance(scorer, str) or not scorer.strip():
            raise PackageError("评分人 scorer 必须是非空字符串", f"{sp}.scorer")
        scores = sh.get("scores")
        if type(scores) is not dict:
            raise PackageError("评分 scores 必须是 JSON 对象 (指标编号 → 分值/档次/不适用)",
                               f"{sp}.scores")
        lookup = prep.sheet_lookup[part.index]
        n = len(part.sheet_leaves)
        if n == 0:
            raise PackageError(f"部分 \"{part.id}\" 没有由评分表打分的指标 (points/tiers)", sp)
        vals = [0.0] * n
        st = [MISSING] * n
        notes = []
        unexplained = []
        for lid, v in scores.items():
            ent = lookup.get(lid)
            if ent is None:
                li = cs.leaf_by_id.get(lid)
                if li is None:
                    msg = f"指标 \"{lid}\" 不是指标体系中的末级指标"
                elif cs.leaves[li].part != part.index:
                    msg = f"指标 \"{lid}\" 不属于部分 \"{part.id}\""
                else:
                    msg = (f"指标 \"{lid}\" 按规则 {cs.leaves[li].rule} 计分, 不由评分表打分")
                raise PackageError(msg, f"{sp}.scores.{lid}")
            j, lf, tiers, mx = ent
            tv = type(v)
            if tiers is None and (tv is float or tv is int and -_BIG < v < _BIG):
                # the common case: plain points
                x = float(v)
                if not 0.0 <= x <= mx:
                    raise PackageError(f"指标 \"{lid}\" 的得分 {v} 必须在 0 到满分 "
                                       f"{_fmt(lf.points)} 之间", f"{sp}.scores.{lid}")
                vals[j] = x
                st[j] = SCORED
                if x < mx:
                    unexplained.append(lid)
                continue
            reason = None
            if tv is dict:
                if "na" in v:
                    reason = v["na"]
                    if type(reason) is not str or not reason.strip():
                        _reason(reason, f"{sp}.scores.{lid}.na", "不适用理由 na")
                    st[j] = NA
                    notes.append((lid, "na", reason))
                    continue
                reason = v.get("reason")
                if reason is not None and (type(reason) is not str or not reason.strip()):
                    _reason(reason, f"{sp}.scores.{lid}.reason", "理由 reason")
                v = v.get("tier" if tiers is not None else "points")
                tv = type(v)
                if v is None:
                    key = "tier" if tiers is not None else "points"
                    raise PackageError(f"指标 \"{lid}\" 的评分对象须有 {key} 或 na",
                                       f"{sp}.scores.{lid}")
            if tiers is not None:
                t = tiers.get(v) if tv is str else None
                if t is None:
                    raise PackageError(f"指标 \"{lid}\" 的档次 {json.dumps(v, ensure_ascii=False)}"
                                       f" 不在 {'/'.join(tiers)} 之中", f"{sp}.scores.{lid}")
                vals[j] = t[0]
                notes.append((lid, "tier", v))
                if reason is not None:
                    notes.append((lid, "reason", reason))
            else:
                if tv is float or tv is int and -_BIG < v < _BIG:
                    x = float(v)  # NaN and infinity fail the range check below
                else:  # a decimal string, or a fault (named by _num)
                    x = _num(v, f"{sp}.scores.{lid}", f"指标 \"{lid}\" 的得分")
                if not 0.0 <= x <= mx:
                    raise PackageError(f"指标 \"{lid}\" 的得分 {v} 必须在 0 到满分 "
                                       f"{_fmt(lf.points)} 之间", f"{sp}.scores.{lid}")
                vals[j] = x
                if reason is not None:
                    notes.append((lid, "reason", reason))
                elif x < mx:
                    unexplained.append(lid)
            st[j] = SCORED
        per_part[part.index].append((scorer, vals, st, tuple(notes), si, unexplained))
    out = []
    for p, lst in zip(cs.parts, per_part, strict=True):
        lst.sort(key=lambda s: s[0])
        for a, b in zip(lst, lst[1:], strict=False):
            if a[0] == b[0]:
                raise PackageError(f"部分 \"{p.id}\" 有两张评分人为 \"{a[0]}\" 的评分表",
                                   f"$.inputs.sheets[{b[4]}].scorer")
        for s in lst:
            if s[5]:
                warnings.append(no_reason_warning(s[0], s[5]))
        out.append((tuple(s[0] for s in lst), [s[1] for s in lst], [s[2] for s in lst],
                    tuple(s[3] for s in lst)))
    return out


def _parse_data(raw, cs: CompiledScheme, prep: _Prep):
    n = len(cs.data_leaves)
    vals = [0.0] * n
    st = [MISSING] * n
    notes: dict = {}
    if type(raw) is not dict:
        raise PackageError("测量数据 data 必须是 JSON 对象 (指标编号 → 值)", "$.inputs.data")
    for lid, v in raw.items():
        p = f"$.inputs.data.{lid}"
        ent = prep.data_lookup.get(lid)
        if ent is None:
            li = cs.leaf_by_id.get(lid)
            msg = (f"指标 \"{lid}\" 不是指标体系中的末级指标" if li is None else
                   f"指标 \"{lid}\" 按规则 {cs.leaves[li].rule} 计分, 不取测量数据")
            raise PackageError(msg, p)
        j, lf = ent
        if type(v) is dict:
            if "na" in v:
                notes[j] = _reason(v["na"], f"{p}.na", "不适用理由 na")
                st[j] = NA
                continue
            src = v.get("source")
            if src is not None:
                notes[j] = _reason(src, f"{p}.source", "数据来源 source")
            if "value" not in v:
                raise PackageError(f"指标 \"{lid}\" 的测量数据须有 value 或 na", p)
            v = v["value"]
            p = f"{p}.value"
        x = _num(v, p, f"指标 \"{lid}\" 的测量值")
        if lf.rule != "thresholds" and x < 0:
            raise PackageError(f"指标 \"{lid}\" 的测量值 {v} 不能为负", p)
        vals[j] = x
        st[j] = SCORED
    return vals, st, notes


def _codes_by_question(prep: _Prep, rows: list, n: int) -> np.ndarray:
    """The global option codes of respondents (dicts) who may skip questions or answer
    null, read question by question in C: (respondents × questions), flattened. Raises
    KeyError or TypeError when an answer is not an option of any scale."""
    q = len(prep.questions)
    g = np.empty((q, n), dtype=np.int16)
    code = prep.global_codes.__getitem__
    for qi, qid in enumerate(prep.questions):
        g[qi] = np.fromiter(map(code, map(dict.get, rows, repeat(qid))), dtype=np.int16,
                            count=n)
    return g.T.reshape(-1)


def _no_survey(n: int, warnings: list) -> None:
    if n:
        warnings.append(unused_survey_warning(n))


def _parse_responses(raw, cs: CompiledScheme, prep: _Prep, warnings: list):
    """The answers as option codes + 1 (questions × respondents; None without survey
    leaves) and the number of respondents."""
    if not isinstance(raw, list):
        raise PackageError("问卷回答 responses 必须是 JSON 数组 (每位受访者一个对象)",
                           "$.inputs.responses")
    q = len(prep.questions)
    n = len(raw)
    if q == 0:
        _no_survey(n, warnings)
        return None, n
    gmap = prep.global_codes
    try:
        # fast path: every response answers every question with a known option
        rows = list(map(prep.getter, raw))
        flat = chain.from_iterable(rows) if q > 1 else rows
        g = np.fromiter(map(gmap.__getitem__, flat), dtype=np.int16, count=n * q)
    except (KeyError, TypeError):
        for i, r in enumerate(raw):
            if type(r) is not dict:
                raise PackageError("每份问卷回答必须是 JSON 对象 (题目编号 → 选项)",
                                   f"$.inputs.responses[{i}]") from None
        try:
            g = _codes_by_question(prep, raw, n)
        except (KeyError, TypeError):  # some answer is not an option: find it below
            bad = len(gmap)  # a code no question accepts
            g = np.fromiter((gmap.get(r.get(qid), bad) if type(r.get(qid)) in (str, type(None))
                             else bad for r in raw for qid in prep.questions),
                            dtype=np.int16, count=n * q)
    codes = prep.table[prep.qcol[:q], g.reshape(n, q)] if n else np.zeros((0, q), np.int16)
    if n and codes.min() < -1:
        i, qi = (int(v) for v in np.argwhere(codes < -1)[0])
        qid = prep.questions[qi]
        o = raw[i].get(qid)
        opts = "/".join(cs.question_scale[qi].options)
        raise PackageError(f"题目 \"{qid}\" 的回答 {json.dumps(o, ensure_ascii=False)}"
                           f" 不是量表选项 ({opts})", f"$.inputs.responses[{i}].{qid}")
    return np.ascontiguousarray((codes + 1).astype(np.uint8).T), n  # questions × respondents


def _parse_head(package, seen: dict | None = None):
    """The package's own keys, its compiled scheme and its ``inputs`` object."""
    if type(package) is not dict:
        raise PackageError("数据包必须是 JSON 对象 {scheme, inputs, payment}", "$")
    if not package.keys() <= _ALLOWED_TOP:
        for k in package:
            if k not in _ALLOWED_TOP:
                raise PackageError(f"数据包中有未知字段 \"{k}\"", f"$.{k}")
    if "scheme" not in package:
        raise PackageError("数据包缺少指标体系 scheme", "$.scheme")
    scheme = package["scheme"]
    cs = None if seen is None else seen.get(id(scheme))
    if cs is None:
        cs = compile_scheme(scheme)
        if seen is not None:
            seen[id(scheme)] = cs
    inputs = package.get("inputs", _NO_INPUTS)
    if type(inputs) is not dict:
        raise PackageError("输入 inputs 必须是 JSON 对象", "$.inputs")
    if not inputs.keys() <= _ALLOWED_INPUTS:
        for k in inputs:
            if k not in _ALLOWED_INPUTS:
                raise PackageError(f"inputs 中有未知字段 \"{k}\"", f"$.inputs.{k}")
    return cs, inputs


_RULE_CACHE: dict = {}  # marshal bytes of a payment rule → the parsed rule


def _payment_rule(rule) -> dict:
    """A checked payment rule; equal rules (by ``marshal`` bytes, exact) are parsed once."""
    try:
        key = marshal.dumps(rule)
    except ValueError:
        key = None
    hit = None if key is None else _RULE_CACHE.get(key)
    if hit is None:
        try:
            hit = parse_payment_rule(rule, "$.payment.rule")
        except _RuleError as exc:
            raise PackageError(exc.message, exc.path) from None
        if key is not None:
            if len(_RULE_CACHE) >= 256:
                _RULE_CACHE.pop(next(iter(_RULE_CACHE)))
            _RULE_CACHE[key] = hit
    return hit


def _parse_tail(package: dict, inputs: dict):
    """The population and the payment (amount, parsed rule) of a package."""
    pop = inputs.get("population")
    if pop is not None and (type(pop) is not int or pop < 1):
        raise PackageError("服务对象总数 population 必须是正整数", "$.inputs.population")
    payment = None
    if package.get("payment") is not None:
        pay = package["payment"]
        if type(pay) is not dict:
            raise PackageError("结算 payment 必须是 {amount, rule} 对象", "$.payment")
        for k in pay:
            if k not in ("amount", "rule"):
                raise PackageError(f"payment 中有未知字段 \"{k}\"", f"$.payment.{k}")
        try:
            amt = _parse_amount(pay.get("amount"))
        except ValueError:
            raise PackageError("结算金额 amount 必须是不为负、最多两位小数的十进制字符串 (元)",
                               "$.payment.amount") from None
        payment = (amt, _payment_rule(pay.get("rule")))
    return pop, payment


def _parse_package(package) -> _Parsed:
    """Read and check one package, value by value; raises the first fault with its path."""
    cs, inputs = _parse_head(package)
    prep = _prep(cs)
    warnings: list[str] = []
    sheets = _parse_sheets(inputs.get("sheets", []), cs, prep, warnings)
    dv, ds, dn = _parse_data(inputs.get("data", {}), cs, prep)
    codes, n_resp = _parse_responses(inputs.get("responses", []), cs, prep, warnings)
    pop, payment = _parse_tail(package, inputs)
    sig = (cs.key, tuple(len(s[0]) for s in sheets))
    return _Parsed(cs, prep, sheets, dv, ds, dn, codes, n_resp, pop, payment, warnings, sig)


# ----------------------------------------------------------------------------- scoring


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while results are built: allocating many small
    tuples would otherwise make it rescan every input package (millions of objects),
    which costs more than the scoring. Nothing here creates reference cycles."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def evaluate(package) -> Evaluation:
    """Score one evaluation package (see ``scoring/README.md`` for the format)."""
    with _gc_paused():
        ev = _score_group(from_parsed([_parse_package(package)]))[0]
        ev._fields()  # one result: made whole at once
        return ev


def evaluate_many(packages) -> list[Evaluation]:
    """Score many packages in vectorised batches; results equal ``evaluate``'s exactly.

    Packages are grouped by scheme (compiled once per distinct content), read in chunks
    column by column (:func:`scoring.batch.read_many`) and scored in one batch per scheme
    and set of parts with sheets; a package the column reader does not take as it is is
    read by the one-package parser, which raises its fault. A bad package raises
    :class:`PackageError` with ``.index`` (its position; the first bad one) and ``.path``.
    The results' parts, nodes, quality, warnings, missing items and payment are made when
    first read (see :class:`Evaluation`).
    """
    packages = list(packages)
    with _gc_paused():
        schemes, suspects = _heads(packages)
        batches: list = []
        for cs, idx, inputs, pops, pays in schemes.values():
            prep = _prep(cs)
            # read in chunks that stay in the processor's cache, score by signature
            by_sig: dict = {}
            for a in range(0, len(idx), _CHUNK):
                z = a + _CHUNK
                pos = idx[a:z]
                done, odd = read_many(cs, prep, inputs[a:z], pops[a:z], pays[a:z],
                                      _codes_by_question)
                for ks, batch in done:
                    by_sig.setdefault(batch.signature(), []).append((_pick(pos, ks), batch))
                suspects.extend(pos[k] for k in odd)
            for lst in by_sig.values():  # scored in blocks whose arrays stay in cache
                block: list = []
                for k, item in enumerate(lst):
                    block.append(item)
                    if sum(bt.b for _, bt in block) >= _SCORE_BLOCK or k == len(lst) - 1:
                        batches.append((list(chain.from_iterable(p for p, _ in block)),
                                        concat([bt for _, bt in block])))
                        block = []
        if suspects:
            one: dict = {}
            for i in sorted(suspects):
                try:
                    parsed = _parse_package(packages[i])
                except PackageError as exc:
                    raise exc.with_index(i) from None
                one.setdefault(parsed.signature, []).append((i, parsed))
            for lst in one.values():
                batches.append(([i for i, _ in lst], from_parsed([p for _, p in lst])))
        out: list = [None] * len(packages)
        for idx, batch in batches:
            for i, r in zip(idx, _score_group(batch), strict=True):
                out[i] = r
        return out


def _pick(seq: list, idx: list) -> list:
    return list(map(seq.__getitem__, idx))


_SENT = object()
_get = dict.get


def _heads(packages: list):
    """Each package's own keys, population and payment checked and its scheme compiled
    (once per distinct content). Returns ``({scheme key: (compiled, positions, inputs,
    populations, payments)}, suspects)``; a package that fails a check is a suspect.

    The common case is checked column by column in C; any doubt, and the packages are
    checked one by one with the one-package parser's own functions."""
    n = len(packages)
    rep = repeat
    fast = n > 0 and set(map(type, packages)) == {dict} and all(
        map(operator.le, map(dict.keys, packages), rep(_ALLOWED_TOP)))
    if fast:
        schemes = list(map(_get, packages, rep("scheme"), rep(_SENT)))
        inputs = list(map(_get, packages, rep("inputs"), rep(_NO_INPUTS)))
        fast = (not any(map(operator.is_, schemes, rep(_SENT)))
                and set(map(type, inputs)) == {dict}
                and all(map(operator.le, map(dict.keys, inputs), rep(_ALLOWED_INPUTS))))
    if fast:
        pops = list(map(_get, inputs, rep("population")))
        kinds = set(map(type, pops))
        fast = kinds <= {int, type(None)} and (int not in kinds or min(
            p for p in pops if p is not None) >= 1)
    if fast:
        pays = list(map(_get, packages, rep("payment")))
        if pays.count(None) == n:
            pays = [None] * n
        else:
            try:
                pays = [None if pay is None else _parse_tail(pkg, inp)[1]
                        for pkg, inp, pay in zip(packages, inputs, pays, strict=True)]
            except PackageError:
                fast = False
    compiled = None
    if fast:
        compiled = _compile_all(schemes)
    if compiled is None:  # one by one
        return _heads_one_by_one(packages)
    groups: dict = {}
    if len(set(map(id, compiled))) == 1:
        cs = compiled[0]
        groups[cs.key] = (cs, list(range(n)), inputs, pops, pays)
        return groups, []
    for i, cs in enumerate(compiled):
        grp = groups.get(cs.key)
        if grp is None:
            grp = groups[cs.key] = (cs, [], [], [], [])
        grp[1].append(i)
        grp[2].append(inputs[i])
        grp[3].append(pops[i])
        grp[4].append(pays[i])
    return groups, []


def _compile_all(schemes: list) -> list | None:
    """The compiled scheme of each package (None if any is not valid)."""
    try:
        if len(set(map(id, schemes))) * 2 <= len(schemes):  # shared objects: compile each
            seen: dict = {}
            for sch in schemes:
                if id(sch) not in seen:
                    seen[id(sch)] = compile_scheme(sch)
            return [seen[id(sch)] for sch in schemes]
        keys = list(map(marshal.dumps, schemes))  # the content key of package.compile_scheme
        got = list(map(_FAST_SCHEMES.get, keys))
        if None in got:
            for i in [k for k, cs in enumerate(got) if cs is None]:
                got[i] = compile_scheme(schemes[i])
        return got
    except (ValueError, TypeError):  # PackageError, or not marshallable
        return None


def _heads_one_by_one(packages: list):
    seen: dict = {}  # id(scheme) → compiled, valid while the packages are held here
    groups: dict = {}
    suspects: list[int] = []
    for i, pkg in enumerate(packages):
        try:
            cs, inputs = _parse_head(pkg, seen)
            pop, pay = _parse_tail(pkg, inputs)
        except PackageError:
            suspects.append(i)
            continue
        grp = groups.get(cs.key)
        if grp is None:
            grp = groups[cs.key] = (cs, [], [], [], [])
        grp[1].append(i)
        grp[2].append(inputs)
        grp[3].append(pop)
        grp[4].append(pay)
    return groups, suspects


def _ratio_points(mx: float, num, den):
    """mx × min(num / den, 1), den > 0."""
    return mx * np.minimum(num / den, 1.0)


def _score_group(batch) -> list[Evaluation]:
    cs, prep = batch.cs, batch.prep
    b = batch.b
    n_leaves = len(cs.leaves)
    policy = cs.missing
    score = np.zeros((b, n_leaves))
    state = np.full((b, n_leaves), MISSING, dtype=np.int8)
    leaf_value = np.full((b, n_leaves), np.nan)
    leaf_n = np.zeros((b, n_leaves), dtype=np.int64)
    leaf_hits = np.zeros((b, n_leaves), dtype=np.int64)

    # --- measured data
    if cs.data_leaves:
        dv, ds = batch.dv, batch.ds
        for j, li in enumerate(cs.data_leaves):
            lf = cs.leaves[li]
            v = dv[:, j]
            with np.errstate(divide="ignore", invalid="ignore"):
                if lf.rule == "ratio_ge":
                    s = _ratio_points(lf.max, v, float(lf.params["target"]))
                elif lf.rule == "ratio_le":
                    t = float(lf.params["target"])
                    s = np.where(v > 0, _ratio_points(lf.max, t, np.where(v > 0, v, 1.0)),
                                 lf.max)
                else:
                    s = np.zeros(b)
                    for lo, pts in reversed(lf.params["bands"]):
                        s = np.where(v >= float(lo), float(pts), s)
            score[:, li] = np.where(ds[:, j] == SCORED, s, 0.0)
            state[:, li] = ds[:, j]
            leaf_value[:, li] = np.where(ds[:, j] == SCORED, v, np.nan)

    # --- survey answers, as integer counts per package, question and option
    n_q = len(cs.questions)
    counts = None
    if n_q:
        complete_counts = batch.tally.counts[:, 1]  # of the respondents who answered all
        counts = batch.tally.counts[:, 0] + complete_counts
        for li in cs.survey_leaves:
            lf = cs.leaves[li]
            qidx = lf.params["qidx"]
            n_ans = np.zeros(b, dtype=np.int64)
            for qi in qidx:
                for oi in np.flatnonzero(prep.answered[qi]):
                    n_ans += counts[:, qi, oi]
            has = n_ans > 0
            safe = np.where(has, n_ans, 1)
            if lf.rule == "survey_mean":
                tot = np.zeros(b)
                for qi in qidx:
                    for oi in np.flatnonzero(prep.answered[qi]):
                        tot = tot + counts[:, qi, oi] * prep.values[qi, oi]
                mean = tot / safe
                s = lf.max * mean / 100.0
                leaf_value[:, li] = np.where(has, mean, np.nan)
            else:
                sat = set(lf.params["satisfied"])
                hits = np.zeros(b, dtype=np.int64)
                for qi in qidx:
                    sc = cs.question_scale[qi]
                    for oi, opt in enumerate(sc.options):
                        if opt in sat:
                            hits += counts[:, qi, oi]
                t = float(lf.params["target"])
                s = _ratio_points(lf.max, (hits * 100).astype(np.float64), safe * t)
                leaf_value[:, li] = np.where(has, hits / safe, np.nan)
                leaf_hits[:, li] = hits
            leaf_n[:, li] = n_ans
            score[:, li] = np.where(has, s, 0.0)
            state[:, li] = np.where(has, SCORED, MISSING)

    raw_state = state.copy()
    # --- the missing policy for data and survey leaves
    if policy != "block":
        miss = state == MISSING
        if policy == "zero":
            score[miss] = 0.0
            state[miss] = SCORED
        else:
            state[miss] = NA

    # --- sheets, part by part
    part_sheets: list = []
    part_warn: list = [[] for _ in range(b)]
    panel_out: list = []
    sheet_missing: list = []
    for p in cs.parts:
        sl = p.sheet_leaves
        if not sl:
            part_sheets.append(None)
            continue
        ps = batch.sheets[p.index]
        ns = ps.ns
        if ns == 0:
            part_sheets.append(None)
            sheet_missing.append((p, None))
            if policy == "zero":
                score[:, sl] = 0.0
                state[:, sl] = SCORED
            elif policy == "redistribute":
                state[:, sl] = NA
            continue
        maxes = np.array([cs.leaves[li].max for li in sl])
        vals = ps.vals  # (B, S, Ls)
        st = ps.st
        raw_st = st
        if policy != "block":
            miss = st == MISSING
            if miss.any():
                st = st.copy()
                vals = vals.copy()
                if policy == "zero":
                    vals[miss] = 0.0
                    st[miss] = SCORED
                else:
                    st[miss] = NA
        scored = st == SCORED
        # the sheets' own totals (applicable leaves rescaled), with the part's other leaves
        num = np.zeros((b, ns))
        den = np.zeros((b, ns))
        for j in range(len(sl)):
            num = num + np.where(scored[:, :, j], vals[:, :, j], 0.0)
            den = den + np.where(scored[:, :, j], maxes[j], 0.0)
        onum = np.zeros(b)
        oden = np.zeros(b)
        for li in p.leaves:
            if cs.leaves[li].rule in ("points", "tiers"):
                continue
            ok = state[:, li] == SCORED
            onum = onum + np.where(ok, score[:, li], 0.0)
            oden = oden + np.where(ok, cs.leaves[li].max, 0.0)
        num = num + onum[:, None]
        den = den + oden[:, None]
        n_own = ps.n  # each package's own number of sheets; the rest are ABSENT padding
        present = np.arange(ns)[None, :] < n_own[:, None]
        empty = (den <= 0) | ~present
        with np.errstate(divide="ignore", invalid="ignore"):
            totals = np.where(empty, np.nan, num / np.where(empty, 1.0, den) * 100.0)
        # sheets in order of their totals (ties by scorer); empty, then absent ones last
        key = np.where(empty, np.inf, np.round(totals, 9))
        order = np.argsort(key, axis=1, kind="stable")
        c = (~empty).sum(axis=1)
        if p.combine == "mean":
            lo = np.zeros(b, dtype=np.int64)
            hi = c - 1
        elif p.combine == "median":
            lo = (c - 1) // 2
            hi = c // 2
        else:
            big = c >= 5
            lo = np.where(big, 1, 0)
            hi = np.where(big, c - 2, c - 1)
            for i in np.flatnonzero(~big & (c > 0)).tolist():
                part_warn[i].append(Text("部分“{part}”只有 {n} 张有效评分表（少于 5 张），"
                                         "不去掉最高和最低，按全部评分表平均",
                                         part=p.id, n=int(c[i])))
        pos = np.arange(ns)
        chosen_sorted = (pos[None, :] >= lo[:, None]) & (pos[None, :] <= hi[:, None])
        chosen = np.zeros((b, ns), dtype=bool)
        np.put_along_axis(chosen, order, chosen_sorted, axis=1)
        chosen[c == 0] = present[c == 0]
        for i in np.flatnonzero((c < n_own) & (c > 0)).tolist():
            part_warn[i].append(Text("部分“{part}”有 {n} 张评分表没有任何适用的得分，不参与合并",
                                     part=p.id, n=int(n_own[i] - c[i])))
        csc = chosen[:, :, None] & scored
        n_sc = csc.sum(axis=1)
        n_na = (chosen[:, :, None] & (st == NA)).sum(axis=1)
        sumv = np.zeros((b, len(sl)))
        for s in range(ns):
            sumv = sumv + np.where(csc[:, s, :], vals[:, s, :], 0.0)
        na = n_na > n_sc
        ok = ~na & (n_sc > 0)
        score[:, sl] = np.where(ok, sumv / np.where(ok, n_sc, 1), 0.0)
        state[:, sl] = np.where(na, NA, np.where(ok, SCORED, MISSING))
        part_sheets.append((ns, totals, chosen, raw_st, np.where(raw_st == SCORED, ps.vals, 0.0)))
        sheet_missing.append((p, raw_st))
        if ns >= 3:
            panel_out.append((p, _panels(n_own, raw_st, ps.vals, maxes)))

    # --- nodes, bottom-up (children have larger indices than their parents)
    n_nodes = len(cs.nodes)
    nscore = np.zeros((b, n_nodes))
    napp = np.zeros((b, n_nodes))
    for lf in cs.leaves:
        ok = state[:, lf.index] == SCORED
        nscore[:, lf.node] = np.where(ok, score[:, lf.index], 0.0)
        napp[:, lf.node] = np.where(ok, lf.max, 0.0)
    for nd in reversed(cs.nodes):
        if nd.leaf >= 0:
            continue
        s = np.zeros(b)
        a = np.zeros(b)
        for ch in nd.children:
            s = s + nscore[:, ch]
            a = a + napp[:, ch]
        nscore[:, nd.index] = s
        napp[:, nd.index] = a
    n_scored = np.zeros((b, n_nodes), dtype=np.int64)
    n_na = np.zeros((b, n_nodes), dtype=np.int64)
    n_miss = np.zeros((b, n_nodes), dtype=np.int64)
    is_sc = state == SCORED
    is_na = state == NA
    is_miss = state == MISSING
    for nd in cs.nodes:
        n_scored[:, nd.index] = is_sc[:, nd.leaves].sum(axis=1)
        n_na[:, nd.index] = is_na[:, nd.leaves].sum(axis=1)
        n_miss[:, nd.index] = is_miss[:, nd.leaves].sum(axis=1)

    # --- parts and total
    n_parts = len(cs.parts)
    pscore = np.full((b, n_parts), np.nan)
    for p in cs.parts:
        r = p.root
        full = n_scored[:, r] == len(p.leaves)
        den = napp[:, r]
        with np.errstate(divide="ignore", invalid="ignore"):
            pscore[:, p.index] = np.where(full, nscore[:, r],
                                          np.where(den > 0, nscore[:, r] / den * 100.0, np.nan))
    pok = ~np.isnan(pscore)
    tnum = np.zeros(b)
    wsum = np.zeros(b)
    for p in cs.parts:
        ok = pok[:, p.index]
        tnum = tnum + np.where(ok, p.weight_f * np.where(ok, pscore[:, p.index], 0.0), 0.0)
        wsum = wsum + np.where(ok, p.weight_f, 0.0)
    all_ok = pok.all(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        total = np.where(all_ok, tnum, np.where(wsum > 0, tnum / wsum, np.nan))

    quality = _survey_quality(b, cs, prep, batch.tally)

    # --- the total rounded once, the grade, and whether the result can be final, now;
    # every other field of the results is made from these arrays when first read
    if b <= 8:  # a few: as round_score and the grade table read them, one by one
        tots = [None if t != t else _round_float(t) for t in total.tolist()]
        grades = [None if t is None else next(name for name, lo in cs.grades if t >= lo)
                  for t in tots]
    else:
        tots, cents = _round_totals(total)
        grades = _grades_of(cs, cents, tots)
    real = np.zeros(b, dtype=bool)  # something really missing (not just a part's score)
    ds_leaves = cs.data_leaves + cs.survey_leaves
    if ds_leaves:
        real |= (raw_state[:, ds_leaves] == MISSING).any(axis=1)
    for _p, rst in sheet_missing:
        if rst is None:
            real[:] = True
        else:
            real |= (rst == MISSING).any(axis=(1, 2))
    final = all_ok & ~real if policy == "block" else all_ok
    exact = [None if t != t else t for t in total.tolist()] if np.isnan(total).any() \
        else total.tolist()
    lazy = _Lazy((batch, score, state, raw_state, leaf_value, leaf_n, leaf_hits, nscore, napp,
                  n_scored, n_na, n_miss, pscore, part_sheets, sheet_missing, part_warn,
                  panel_out, quality, tots, final), b)
    return _lazy_evaluations(tots, grades, exact, final.tolist(), cs, lazy)


def _panel(raw_st, vals, maxes):
    """Kendall's W and ICC2k over the leaves scored on every sheet (score rates)."""
    complete = (raw_st == SCORED).all(axis=1)  # (B, Ls)
    rates = np.round(vals / maxes, 12)
    w, chi2, df, pw, n = _kendall_w_batch(rates, complete)
    x = np.ascontiguousarray(np.transpose(rates, (0, 2, 1)))
    icc = _icc_batch(x, complete, kinds=("ICC2k",))["ICC2k"]
    return (complete.sum(axis=1), w, chi2, df, pw, *icc)


def _panels(n_own, raw_st, vals, maxes):
    """The panel figures of every package with at least 3 sheets, computed together for
    the packages with the same number of sheets. Returns (has a panel, figures...)."""
    b = n_own.shape[0]
    has = n_own >= 3
    out = [np.zeros(b, dtype=np.int64)] + [np.full(b, np.nan) for _ in range(11)]
    for m in np.unique(n_own[has]).tolist():
        idx = np.flatnonzero(n_own == m)
        got = _panel(raw_st[idx, :m], vals[idx, :m], maxes)
        for a, v in zip(out, got, strict=True):
            a[idx] = v
    return (has, *out)


_COMBO_LIMIT = 1 << 16  # answer combinations tabulated at most (else totals are sorted)


def _survey_quality(b, cs, prep, counted):
    """Respondents with an answer, and Cronbach's alpha over the complete rows.

    The item variances come from the complete rows' counts per package, question and
    option. The variance of the respondents' totals is taken from counts too: the complete
    rows of a package are counted per distinct total (scoring.batch.tally), and the sums
    run over the distinct totals in increasing order, so the order of the respondents
    changes nothing.
    """
    out = {"answered": np.zeros(b, dtype=np.int64), "alpha": None, "rate_sums": None}
    n_q = len(cs.questions)
    if not n_q:
        return out
    out["answered"] = counted.answered
    if prep.rate_clusters:
        out["rate_sums"] = counted.rate_sums
    if n_q < 2:
        return out
    cnt = counted.counts[:, 1]
    nc = counted.complete
    vals = prep.values
    safe = np.where(nc > 1, nc, 2).astype(np.float64)
    item_var = np.zeros(b)
    for qi in range(n_q):
        opts = np.flatnonzero(prep.answered[qi])
        s = np.zeros(b)
        for oi in opts:
            s = s + cnt[:, qi, oi] * vals[qi, oi]
        mean = s / np.where(nc > 0, nc, 1)
        ss = np.zeros(b)
        for oi in opts:
            ss = ss + cnt[:, qi, oi] * (vals[qi, oi] - mean) ** 2
        item_var = item_var + ss / (safe - 1)
    cpk, cval = counted.cell_pkg, counted.cell_val
    cw = counted.cell_cnt.astype(np.float64)
    tsum = np.bincount(cpk, weights=cw * cval, minlength=b)
    tmean = tsum / np.where(nc > 0, nc, 1)
    tss = np.bincount(cpk, weights=cw * (cval - tmean[cpk]) ** 2, minlength=b)
    tvar = tss / (safe - 1)
    k = n_q
    ok = (nc >= THRESHOLDS["min_alpha_rows"]) & (tvar > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(ok, k / (k - 1) * (1 - item_var / np.where(ok, tvar, 1.0)), np.nan)
        lo, hi = _alpha_ci(alpha, np.where(ok, nc, 3), k, 0.95)
    out["alpha"] = (alpha, lo, hi, nc, ok)
    return out


_STATUS = ("scored", "partial", "na", "missing")
_new_tuple = tuple.__new__


def _nn(x: float) -> float | None:
    """NaN → None, so that results compare equal and serialise as JSON null."""
    return None if x != x else x


def _obj_cols(values: np.ndarray, keep: np.ndarray | None = None) -> list:
    """Columns (one list per column) of Python values, None where ``keep`` is False (or
    where the value is NaN when ``keep`` is not given)."""
    o = values.astype(object)
    o[np.isnan(values) if keep is None else ~keep] = None
    return o.T.tolist()


def _make(cls, *columns) -> list:
    """Instances of a NamedTuple from its columns, built in C (no Python call per row)."""
    return list(map(_new_tuple, repeat(cls), zip(*columns, strict=False)))  # with repeat()s


_MISSING_TEXT = {"block": Text("结果不能定稿，显示的分数只按已有数据计算"),
                 "zero": Text("按指标体系的规定，缺失项按 0 分计"),
                 "redistribute": Text("按指标体系的规定，缺失项按不适用处理，分值在适用指标中重新折算")}
_MISSING_WHY = {"sheet": N_("{item}（评分表 {scorer} 没有评分）"), "sheets": N_("{item}（没有评分表）"),
                "data": N_("{item}（没有测量数据）"), "responses": N_("{item}（没有有效问卷回答）")}
#: How many missing items a warning names before it says "等" (the rest are in ``missing``).
MISSING_LISTED = 10


def _missing_words(missing, cs) -> Text:
    """The missing items in words: "C 服务质量（评分表 E1 没有评分）、A11 服务人次（没有测量数据）"."""
    words = []
    for m_ in missing[:MISSING_LISTED]:
        li = cs.leaf_by_id.get(m_.leaf)
        name = cs.leaves[li].name if li is not None else ""
        name = f"{m_.leaf} {name}" if name else str(m_.leaf)
        words.append(Text(_MISSING_WHY[m_.source], item=name, scorer=m_.scorer))
    if len(missing) > MISSING_LISTED:
        return Text("{items}等", items=Joined(AND, words))
    return Joined(AND, words)


def _build(args, a: int, z: int) -> list[tuple]:
    """The fields made on demand (parts, nodes, quality, warnings, missing, payment) of
    the packages ``a`` to ``z`` of a scored batch, built column by column: every field
    comes from one numpy → list conversion, and the named tuples are made in C."""
    (batch, score, state, raw_state, leaf_value, leaf_n, leaf_hits, nscore, napp, n_scored,
     n_na, n_miss, pscore, part_sheets, sheet_missing, part_warn, panel_out, quality, tots,
     final) = args
    sel = slice(a, z)
    if a or z < len(tots):  # a block of the batch
        score, state, raw_state, leaf_value, leaf_n, leaf_hits, nscore, napp, n_scored, n_na, \
            n_miss, pscore = (x[sel] for x in (score, state, raw_state, leaf_value, leaf_n,
                                               leaf_hits, nscore, napp, n_scored, n_na,
                                               n_miss, pscore))
        part_sheets = [None if x is None else (x[0], *(y[sel] for y in x[1:]))
                       for x in part_sheets]
        sheet_missing = [(p, None if rst is None else rst[sel]) for p, rst in sheet_missing]
        part_warn = part_warn[sel]
        panel_out = [(p, tuple(x[sel] for x in out)) for p, out in panel_out]
        quality = {"answered": quality["answered"][sel],
                   "alpha": None if quality["alpha"] is None
                   else tuple(x[sel] for x in quality["alpha"]),
                   "rate_sums": None if quality["rate_sums"] is None
                   else quality["rate_sums"][sel]}
        tots, final = tots[sel], final[sel]
    cs, prep, b = batch.cs, batch.prep, z - a
    data_note = batch.data_note[sel]
    lens = batch.lens[sel]
    n_resp = batch.n_resp[sel]
    pops = batch.population[sel]
    table = batch.table
    policy = cs.missing
    nodes = cs.nodes
    leaves = cs.leaves
    rep = repeat

    # --- nodes: inner nodes first, then the leaves (scheme order within each)
    nl_arr = np.array([len(nd.leaves) for nd in nodes])
    status = np.where(n_miss > 0, 3, np.where(n_na == nl_arr, 2, np.where(n_na > 0, 1, 0)))
    st_cols = prep.status_names[status].T.tolist()
    sc_cols = _obj_cols(nscore, n_scored > 0)
    ap_cols = napp.T.tolist()
    lv_cols = _obj_cols(leaf_value)
    data_local = {li: j for j, li in enumerate(cs.data_leaves)}
    ids: list = []
    node_cols: list = []
    for nd in nodes:
        if nd.leaf < 0:
            k = nd.index
            ids.append(nd.id)
            node_cols.append(_make(NodeScore, rep(nd.id), rep(nd.name),
                                   rep(cs.parts[nd.part].id), rep(None), rep(nd.points),
                                   sc_cols[k], ap_cols[k], st_cols[k], rep(None), rep(None),
                                   rep(None), rep(None)))
    for nd in nodes:
        if nd.leaf >= 0:
            k = nd.index
            lf = leaves[nd.leaf]
            li = lf.index
            value = n = hits = source = rep(None)
            if lf.rule in DATA_RULES:
                value = lv_cols[li]
                source = map(dict.get, data_note, rep(data_local[li]))
            elif lf.rule in SURVEY_RULES:
                value = lv_cols[li]
                n = leaf_n[:, li].tolist()
                if lf.rule == "survey_rate":
                    hits = leaf_hits[:, li].tolist()
            ids.append(nd.id)
            node_cols.append(_make(NodeScore, rep(nd.id), rep(nd.name),
                                   rep(cs.parts[nd.part].id), rep(lf.rule), rep(nd.points),
                                   sc_cols[k], ap_cols[k], st_cols[k], value, n, hits, source))
    node_maps = list(map(NodeMap, map(zip, rep(ids), zip(*node_cols, strict=True))))

    # --- parts and their sheets
    ps_cols = _obj_cols(pscore)
    weighted = np.stack([p.weight_f * pscore[:, p.index] for p in cs.parts], axis=1)
    wt_cols = _obj_cols(weighted)
    part_cols = []
    for p in cs.parts:
        info = part_sheets[p.index]
        sheets = rep(())
        if info is not None:
            ns, totals, chosen, raw_st, vl = info
            ls = raw_st.shape[2]
            chars = np.ascontiguousarray(_STATE_CHARS[raw_st]).view(f"S{ls}")[..., 0]
            st_txt = chars.astype(f"U{ls}").T.tolist()
            tot_cols = _obj_cols(totals)
            ch_cols = chosen.T.tolist()
            ps = batch.sheets[p.index]
            own = ps.n[sel].tolist()
            padded = min(own) < ns
            sid = ps.sid[sel]
            sheet_cols = []
            for s in range(ns):
                # the packages with fewer sheets have None here (cut off below)
                ids = sid[:, s].tolist()
                scorers = [None if k < 0 else table.scorer[k] for k in ids] if padded \
                    else list(map(table.scorer.__getitem__, ids))
                notes = [None if k < 0 else table.notes(k) for k in ids]
                sheet_cols.append(_make(SheetUse, scorers, tot_cols[s], ch_cols[s],
                                        map(tuple, vl[:, s, :].tolist()), st_txt[s], notes))
            sheets = zip(*sheet_cols, strict=True)
            if padded:
                sheets = [row[:k] for row, k in zip(sheets, own, strict=True)]
        part_cols.append(_make(PartScore, rep(p.id), rep(p.name), rep(p.party), rep(p.weight),
                               rep(p.combine), ps_cols[p.index], wt_cols[p.index],
                               ap_cols[p.root], sheets))
    parts_all = list(zip(*part_cols, strict=True))

    # --- what is missing (only packages with something missing are visited)
    any_missing = np.isnan(pscore).any(axis=1)
    ds_leaves = cs.data_leaves + cs.survey_leaves
    if ds_leaves:
        any_missing |= (raw_state[:, ds_leaves] == MISSING).any(axis=1)
    for _p, rst in sheet_missing:
        if rst is None:
            any_missing[:] = True
        else:
            any_missing |= (rst == MISSING).any(axis=(1, 2))
    missing_all: list = [()] * b
    n_real = [0] * b
    for i in np.flatnonzero(any_missing).tolist():
        missing = []
        for li in cs.data_leaves:
            if raw_state[i, li] == MISSING:
                missing.append(Missing(cs.parts[leaves[li].part].id, leaves[li].id, "data"))
        for li in cs.survey_leaves:
            if raw_state[i, li] == MISSING:
                missing.append(Missing(cs.parts[leaves[li].part].id, leaves[li].id,
                                       "responses"))
        for p, rst in sheet_missing:
            if rst is None:
                for li in p.sheet_leaves:
                    missing.append(Missing(p.id, leaves[li].id, "sheets"))
                continue
            mrow = rst[i] == MISSING
            if mrow.any():
                sid = batch.sheets[p.index].sid[a + i]
                for s_, j in zip(*np.nonzero(mrow), strict=True):
                    missing.append(Missing(p.id, leaves[p.sheet_leaves[j]].id, "sheet",
                                           table.scorer[sid[s_]]))
        n_real[i] = len(missing)
        for p in cs.parts:
            if pscore[i, p.index] != pscore[i, p.index]:
                missing.append(Missing(p.id, None, "part"))
        missing_all[i] = tuple(missing)

    # --- quality: satisfaction rates, alpha, panels
    n_q = len(cs.questions)
    zq = float(special.ndtri(0.975))
    rate_leaves = [li for li in cs.survey_leaves if leaves[li].rule == "survey_rate"]
    rates_all: list = [()] * b
    margin_all: list = [None] * b
    if rate_leaves:
        rn = leaf_n[:, rate_leaves]  # answers
        rh = leaf_hits[:, rate_leaves]
        has = rn > 0
        safe = np.where(has, rn, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = rh / safe
            m = zq * np.sqrt(r * (1 - r) / safe)
        # the people who answered: one question, one answer each; over several questions
        # the rate is a ratio estimator of clustered answers, its variance taken over the
        # respondents (Kish 1965, §6.4): Σ (hᵢ − r·aᵢ)² / (Σ aᵢ)², hᵢ a person's satisfied
        # answers and aᵢ its answers; z times its root is the margin
        resp = rn.copy()
        if quality["rate_sums"] is not None:
            rs = quality["rate_sums"]
            for c, (li, *_luts) in enumerate(prep.rate_clusters):
                k = rate_leaves.index(li)
                people, shh, sha, saa = (rs[:, c, j] for j in range(4))
                resp[:, k] = people
                rk = r[:, k]
                dev = np.maximum(shh - 2 * rk * sha + rk * rk * saa, 0.0)
                with np.errstate(divide="ignore", invalid="ignore"):
                    m[:, k] = zq * np.sqrt(dev) / safe[:, k]
        # every answer satisfied, or none: z·√(p(1−p)/n) is 0 there, which would claim an
        # exact rate from a handful of answers; the margin is then the half-width of the
        # Wilson interval over the people, z² / (2(m + z²)) (Newcombe 1998; Brown, Cai &
        # DasGupta 2001), as ``pooled_rate_ci`` takes the interval
        edge = has & ((rh == 0) | (rh == rn))
        if edge.any():
            m = np.where(edge, zq * zq / (2.0 * (resp + zq * zq)), m)
        pop = np.array([0 if v is None else v for v in pops], dtype=np.int64)[:, None]
        fp = (pop > 1) & (resp <= pop)
        with np.errstate(divide="ignore", invalid="ignore"):
            m = np.where(fp, m * np.sqrt((pop - resp) / np.where(fp, pop - 1, 1)), m)
        cols = [_make(RateQuality, rep(leaves[li].id), r[:, k].tolist(), rn[:, k].tolist(),
                      m[:, k].tolist(), fp[:, k].tolist(), resp[:, k].tolist())
                for k, li in enumerate(rate_leaves)]
        if has.all():
            rates_all = list(zip(*cols, strict=True))
        else:
            rows = list(zip(*cols, strict=True))
            hl = has.tolist()
            rates_all = [tuple(x for x, h in zip(row, hrow, strict=True) if h)
                         for row, hrow in zip(rows, hl, strict=True)]
        mm = np.where(has, m, -np.inf).max(axis=1)
        margin_all = [None if v == -np.inf else v for v in mm.tolist()]
    alpha_all: list = [None] * b
    note_all: list = [None] * b
    min_rows = THRESHOLDS["min_alpha_rows"]
    alpha_low: list = [None] * b
    if quality["alpha"] is not None:
        av, alo, ahi, nc, aok = quality["alpha"]
        nd_ = np.asarray(lens) - nc
        okl = aok.tolist()
        ncl = nc.tolist()
        made = list(map(AlphaResult, av.tolist(), map(_nn, alo.tolist()),
                        map(_nn, ahi.tolist()), ncl, nd_.tolist(), rep(n_q)))
        for i in range(b):
            if okl[i]:
                alpha_all[i] = made[i]
            else:
                note_all[i] = Text("完整作答的问卷只有 {n} 份（需要至少 {least} 份且总分有差异），不计算信度",
                                   n=ncl[i], least=min_rows)
        low = (aok & (av < THRESHOLDS["alpha"])).tolist()
        alpha_low = [Text("问卷信度 Cronbach's α = {alpha:.3f}，低于 {threshold}",
                          alpha=a.statistic, threshold=THRESHOLDS["alpha"])
                     if lw else None for a, lw in zip(made, low, strict=True)]
    elif n_q == 1:
        note_all = [Text("问卷只有 1 道计分题目，不计算信度")] * b
    panel_cols = []
    panel_warn: list = [[] for _ in range(b)]
    min_leaves = THRESHOLDS["min_panel_leaves"]
    for p, (has, ncomp, w, chi2, df, pw, *icc) in panel_out:
        few = ncomp < min_leaves
        nan_w = np.isnan(w) | few
        # ICC2k = (MSR − MSE) / (MSR + (MSJ − MSE) / n) exceeds 1 only when its denominator is
        # negative: the leaves differ less than the sheets' error, and no reliability can be
        # estimated (the formula's number would read as better than perfect).
        beyond = ~np.isnan(icc[0]) & (icc[0] > 1) & ~few
        nan_c = np.isnan(icc[0]) | few | beyond
        wl = w.tolist()
        cl = icc[0].tolist()
        kw = list(map(KendallWResult, wl, chi2.tolist(),
                      np.where(has, df, 0).astype(np.int64).tolist(), map(_nn, pw.tolist())))
        ic = list(map(ICCResult, rep("ICC2k"), cl, *(map(_nn, a.tolist()) for a in icc[1:5]),
                      icc[5].tolist(), icc[6].tolist()))
        kw = [None if f else x for x, f in zip(kw, nan_w.tolist(), strict=True)]
        ic = [None if f else x for x, f in zip(ic, nan_c.tolist(), strict=True)]
        nl = ncomp.tolist()
        notes = [Text("每张评分表都打了分的指标只有 {n} 个（少于 {least} 个），不计算一致性", n=n,
                      least=min_leaves) if f
                 else (Text("各指标得分率之间的差异小于评分表之间的误差，ICC 无法估计") if x
                       else (Text("评分没有差异（全部相同），一致性系数无法计算") if a or c else None))
                 for n, f, a, c, x in zip(nl, few.tolist(), nan_w.tolist(), nan_c.tolist(),
                                          beyond.tolist(), strict=True)]
        made = _make(PanelQuality, rep(p.id), batch.sheets[p.index].n[sel].tolist(), nl, kw,
                     ic, notes)
        panel_cols.append(made if has.all() else
                          [x if h else None for x, h in zip(made, has.tolist(), strict=True)])
        weak_w = has & ~nan_w & (w < THRESHOLDS["kendall_w"])
        weak_c = has & ~nan_c & (icc[0] < THRESHOLDS["icc"])
        for i in np.flatnonzero(weak_w | weak_c).tolist():
            if weak_w[i]:
                panel_warn[i].append(Text("部分“{part}”评审专家评分一致性较弱：Kendall's W = {w:.3f} < "
                                          "{threshold}", part=p.id, w=wl[i],
                                          threshold=THRESHOLDS["kendall_w"]))
            if weak_c[i]:
                panel_warn[i].append(Text("部分“{part}”评审专家评分信度较低：ICC2k = {icc:.3f} < {threshold}",
                                          part=p.id, icc=cl[i],
                                          threshold=THRESHOLDS["icc"]))
    panels_all = [()] * b
    if panel_cols:
        panels_all = list(zip(*panel_cols, strict=True))
        if any(None in col for col in panel_cols):
            panels_all = [tuple(x for x in row if x is not None) for row in panels_all]
    answered = quality["answered"].tolist()
    needed_all: list = [None] * b
    if n_q:
        cache: dict = {}
        for v in set(pops):
            cache[v] = sample_size(v)
        needed_all = list(map(cache.__getitem__, pops))
    quality_all = _make(Quality, n_resp, answered, pops, needed_all, margin_all,
                        rates_all, alpha_all, note_all, panels_all)

    # --- warnings and payment
    out = []
    head = list(cs.warnings)
    payments = batch.payment[sel]
    read_warn = batch.warnings[sel]
    for i in range(b):
        warnings = [*head, *read_warn[i], *part_warn[i]]
        missing = missing_all[i]
        if missing:
            if n_real[i]:
                warnings.append(Text("有 {n} 项缺失：{items}；{effect}", n=n_real[i],
                                     items=_missing_words(missing[:n_real[i]], cs),
                                     effect=_MISSING_TEXT[policy]))
            for m_ in missing[n_real[i]:]:
                warnings.append(Text("部分“{part}”没有任何可计分的指标，无法评分；"
                                     "总分只按其余部分的权重折算，结果不能定稿", part=m_.part))
        tot = tots[i]
        if n_q:
            pop = pops[i]
            if answered[i] < needed_all[i]:
                if pop:
                    warnings.append(Text("有效问卷 {n} 份，少于所需样本量 {needed} 份"
                                         "（服务对象 {population} 人，误差 ±5%，置信度 95%）",
                                         n=answered[i], needed=needed_all[i], population=pop))
                else:
                    warnings.append(Text("有效问卷 {n} 份，少于所需样本量 {needed} 份"
                                         "（服务对象总数未知，按无限总体计；误差 ±5%，置信度 95%）",
                                         n=answered[i], needed=needed_all[i]))
            if pop is not None and n_resp[i] > pop:
                warnings.append(Text("问卷份数 {n} 超过服务对象总数 {population}，未作有限总体校正",
                                     n=n_resp[i], population=pop))
        if alpha_low[i] is not None:
            warnings.append(alpha_low[i])
        if panel_warn[i]:
            warnings += panel_warn[i]
        pay = None
        payment = payments[i]
        if payment is not None and tot is not None:
            pay = _apply_payment(tot, payment[1], payment[0])
            if not final[i]:
                warnings.append(Text("结果尚不能定稿，结算金额仅供参考"))
        out.append((parts_all[i], node_maps[i], quality_all[i], tuple(warnings), missing, pay))
    return out
