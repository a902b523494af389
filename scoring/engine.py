"""The evaluation engine (评价计分引擎): one package or many, with the same results.

``evaluate(package)`` scores one evaluation; ``evaluate_many(packages)`` scores many,
grouping the packages that share a scheme (canonical JSON) and the same number of sheets
per part, and computing each group with numpy arrays (packages × sheets × leaves,
respondents × questions). ``evaluate`` is the batch code run on a batch of one, so the two
agree to the last bit: every sum that reaches a score is taken in a fixed order (leaves in
scheme order, sheets sorted by scorer, survey answers as integer counts), and the total is
rounded once by :func:`scoring.money.round_score`.
"""

from __future__ import annotations

import gc
import json
import math
import operator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
from scipy import special

from .money import _amount as _parse_amount
from .money import _apply as _apply_payment
from .money import _RuleError, parse_payment_rule, round_score
from .package import CompiledScheme, PackageError, _dec, _fmt, compile_scheme
from .stats import AlphaResult, ICCResult, KendallWResult, _alpha_ci, _icc_batch, _kendall_w_batch

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
    "THRESHOLDS",
]

ENGINE = "evalplatform-scoring/1"
SCORED, NA, MISSING = 0, 1, 2
_STATE_CHARS = np.frombuffer(b"snm", dtype=np.uint8)

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
    """A satisfaction rate with its margin of error at 95 %."""

    leaf: str
    rate: float
    n: int
    margin: float
    finite_population: bool


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


@dataclass(frozen=True)
class Evaluation:
    """The result of one evaluation (评价结果).

    ``total`` is rounded once, half-up, to two decimals; ``grade`` reads it. ``trace``
    explains every number in words; ``as_dict()`` gives plain JSON data.
    """

    total: Decimal | None
    grade: str | None
    exact_total: float | None
    final_ready: bool
    parts: tuple
    nodes: NodeMap
    quality: Quality
    warnings: tuple
    missing: tuple
    payment: object | None
    scheme_digest: str
    _scheme: CompiledScheme = field(compare=False, repr=False)

    @property
    def trace(self) -> tuple:
        from .trace import render_trace

        return render_trace(self, self._scheme)

    def as_dict(self) -> dict:
        from .trace import result_dict

        return result_dict(self, self._scheme)


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
        self.code_maps = []
        nopt = 1
        for sc in cs.question_scale:
            cm = dict(sc.codes)
            cm[None] = -1
            self.code_maps.append(cm)
            nopt = max(nopt, len(sc.options))
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
    codes: np.ndarray | None  # (Q, R) int16, -1 = no answer
    n_resp: int
    population: int | None
    payment: tuple | None
    warnings: list
    signature: tuple


def _num(v, path: str, what: str) -> float:
    if type(v) is float or type(v) is int:
        x = float(v)
    else:
        x = float(_dec(v, path, what))
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
        part = prep.part_by_id.get(sh.get("part"))
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
            if tiers is None and (tv is int or tv is float):
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
                warnings.append(f"评分表 {s[0]} 有 {len(s[5])} 项扣分未写扣分理由: "
                                f"{'、'.join(s[5])}")
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


def _parse_responses(raw, cs: CompiledScheme, prep: _Prep, warnings: list):
    if not isinstance(raw, list):
        raise PackageError("问卷回答 responses 必须是 JSON 数组 (每位受访者一个对象)",
                           "$.inputs.responses")
    q = len(prep.questions)
    if q == 0:
        if raw:
            warnings.append(f"数据包有 {len(raw)} 份问卷回答, 但指标体系没有问卷类指标, 未使用")
        return None
    n = len(raw)
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
    return np.ascontiguousarray(codes.T)


def _parse_package(package) -> _Parsed:
    if type(package) is not dict:
        raise PackageError("数据包必须是 JSON 对象 {scheme, inputs, payment}", "$")
    for k in package:
        if k not in _ALLOWED_TOP:
            raise PackageError(f"数据包中有未知字段 \"{k}\"", f"$.{k}")
    if "scheme" not in package:
        raise PackageError("数据包缺少指标体系 scheme", "$.scheme")
    cs = compile_scheme(package["scheme"])
    prep = _prep(cs)
    inputs = package.get("inputs", {})
    if type(inputs) is not dict:
        raise PackageError("输入 inputs 必须是 JSON 对象", "$.inputs")
    for k in inputs:
        if k not in _ALLOWED_INPUTS:
            raise PackageError(f"inputs 中有未知字段 \"{k}\"", f"$.inputs.{k}")
    warnings: list[str] = []
    sheets = _parse_sheets(inputs.get("sheets", []), cs, prep, warnings)
    dv, ds, dn = _parse_data(inputs.get("data", {}), cs, prep)
    raw_resp = inputs.get("responses", [])
    codes = _parse_responses(raw_resp, cs, prep, warnings)
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
        try:
            rule = parse_payment_rule(pay.get("rule"), "$.payment.rule")
        except _RuleError as exc:
            raise PackageError(exc.message, exc.path) from None
        payment = (amt, rule)
    sig = (cs.key, tuple(len(s[0]) for s in sheets))
    return _Parsed(cs, prep, sheets, dv, ds, dn, codes, len(raw_resp), pop, payment,
                   warnings, sig)


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
        return _score_group([_parse_package(package)])[0]


def evaluate_many(packages) -> list[Evaluation]:
    """Score many packages in vectorised batches; results equal ``evaluate``'s exactly.

    A bad package raises :class:`PackageError` with ``.index`` (its position) and ``.path``.
    """
    with _gc_paused():
        parsed = []
        for i, p in enumerate(packages):
            try:
                parsed.append(_parse_package(p))
            except PackageError as exc:
                raise exc.with_index(i) from None
        groups: dict = {}
        for i, p in enumerate(parsed):
            groups.setdefault(p.signature, []).append(i)
        out: list = [None] * len(parsed)
        for idx in groups.values():
            res = _score_group([parsed[i] for i in idx])
            for i, r in zip(idx, res, strict=True):
                out[i] = r
        return out


def _ratio_points(mx: float, num, den):
    """mx × min(num / den, 1), den > 0."""
    return mx * np.minimum(num / den, 1.0)


def _score_group(items: list[_Parsed]) -> list[Evaluation]:
    first = items[0]
    cs, prep = first.cs, first.prep
    b = len(items)
    n_leaves = len(cs.leaves)
    policy = cs.missing
    score = np.zeros((b, n_leaves))
    state = np.full((b, n_leaves), MISSING, dtype=np.int8)
    raw_state = state  # replaced below; states before the missing policy
    leaf_value = np.full((b, n_leaves), np.nan)
    leaf_n = np.zeros((b, n_leaves), dtype=np.int64)
    leaf_hits = np.zeros((b, n_leaves), dtype=np.int64)

    # --- measured data
    if cs.data_leaves:
        dv = np.array([it.data_v for it in items], dtype=np.float64)
        ds = np.array([it.data_s for it in items], dtype=np.int8)
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

    # --- survey answers, as integer counts per option
    n_q = len(cs.questions)
    counts = None
    pkg_of_row = None
    codes_all = None
    if n_q:
        o1 = prep.n_options + 1
        lens = np.array([it.n_resp for it in items], dtype=np.int64)
        codes_all = (np.concatenate([it.codes for it in items], axis=1) if b > 1
                     else items[0].codes).astype(np.int64)
        pkg_of_row = np.repeat(np.arange(b), lens)
        flat = (pkg_of_row[None, :] * (n_q * o1) + np.arange(n_q)[:, None] * o1
                + codes_all + 1)
        counts = np.bincount(flat.ravel(), minlength=b * n_q * o1).reshape(b, n_q, o1)[:, :, 1:]
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
        ns = len(first.sheets[p.index][0])
        if not sl:
            part_sheets.append(None)
            continue
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
        vals = np.array([it.sheets[p.index][1] for it in items], dtype=np.float64)
        st = np.array([it.sheets[p.index][2] for it in items], dtype=np.int8)  # (B, S, Ls)
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
        empty = den <= 0
        with np.errstate(divide="ignore", invalid="ignore"):
            totals = np.where(empty, np.nan, num / np.where(empty, 1.0, den) * 100.0)
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
            for i in np.flatnonzero(~big & (c > 0)):
                part_warn[i].append(f"部分 \"{p.id}\" 只有 {int(c[i])} 张有效评分表 (少于 5 张), "
                                    f"不去掉最高和最低, 按全部评分表平均")
        pos = np.arange(ns)
        chosen_sorted = (pos[None, :] >= lo[:, None]) & (pos[None, :] <= hi[:, None])
        chosen = np.zeros((b, ns), dtype=bool)
        np.put_along_axis(chosen, order, chosen_sorted, axis=1)
        chosen[c == 0] = True
        for i in np.flatnonzero((c < ns) & (c > 0)):
            part_warn[i].append(f"部分 \"{p.id}\" 有 {ns - int(c[i])} 张评分表没有任何适用的得分, "
                                f"不参与合并")
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
        part_sheets.append((ns, totals.tolist(), chosen.tolist(), _STATE_CHARS[raw_st],
                            np.where(raw_st == SCORED, vals, 0.0).tolist()))
        sheet_missing.append((p, raw_st))
        if ns >= 3:
            panel_out.append((p, _panel(items, p, raw_st, vals, maxes)))

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

    quality = _survey_quality(items, cs, prep, counts, codes_all, pkg_of_row, leaf_value,
                              leaf_n, leaf_hits)

    # --- build the results
    return _build(items, cs, score, state, raw_state, leaf_value, leaf_n, leaf_hits, nscore,
                  napp, n_scored, n_na, n_miss, pscore, total, all_ok, part_sheets,
                  sheet_missing, part_warn, panel_out, quality)


def _panel(items, p, raw_st, vals, maxes):
    """Kendall's W and ICC2k over the leaves scored on every sheet (score rates)."""
    b, ns, nl = vals.shape
    complete = (raw_st == SCORED).all(axis=1)  # (B, Ls)
    rates = np.round(vals / maxes, 12)
    w, chi2, df, pw, n = _kendall_w_batch(rates, complete)
    x = np.ascontiguousarray(np.transpose(rates, (0, 2, 1)))
    icc = _icc_batch(x, complete)["ICC2k"]
    return complete.sum(axis=1), w, chi2, df, pw, icc


def _survey_quality(items, cs, prep, counts, codes_all, pkg_of_row, leaf_value, leaf_n,
                    leaf_hits):
    b = len(items)
    out = {"answered": np.zeros(b, dtype=np.int64), "alpha": None}
    n_q = len(cs.questions)
    if not n_q:
        return out
    ans = (codes_all >= 0)
    out["answered"] = np.bincount(pkg_of_row[ans.any(axis=0)], minlength=b)
    if n_q < 2:
        return out
    complete = ans.all(axis=0)
    pk = pkg_of_row[complete]
    nc = np.bincount(pk, minlength=b)
    vals = prep.values
    cc = codes_all[:, complete]
    o1 = prep.n_options
    flat = pk[None, :] * (n_q * o1) + np.arange(n_q)[:, None] * o1 + cc
    cnt = np.bincount(flat.ravel(), minlength=b * n_q * o1).reshape(b, n_q, o1)
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
    t = np.zeros(cc.shape[1])
    for qi in range(n_q):
        t = t + vals[qi][cc[qi]]
    order = np.lexsort((t, pk))
    ts, ps = t[order], pk[order]
    tsum = np.bincount(ps, weights=ts, minlength=b)
    tmean = tsum / np.where(nc > 0, nc, 1)
    tss = np.bincount(ps, weights=(ts - tmean[ps]) ** 2, minlength=b)
    tvar = tss / (safe - 1)
    k = n_q
    ok = (nc >= THRESHOLDS["min_alpha_rows"]) & (tvar > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(ok, k / (k - 1) * (1 - item_var / np.where(ok, tvar, 1.0)), np.nan)
        lo, hi = _alpha_ci(alpha, np.where(ok, nc, 3), k, 0.95)
    out["alpha"] = (alpha, lo, hi, nc, ok)
    return out


_STATUS = ("scored", "partial", "na", "missing")


def _nn(x: float) -> float | None:
    """NaN → None, so that results compare equal and serialise as JSON null."""
    return None if x != x else x


def _obj_list(values: np.ndarray, keep: np.ndarray) -> list:
    """Rows of Python floats with None where ``keep`` is False."""
    o = values.astype(object)
    o[~keep] = None
    return o.tolist()


def _build(items, cs, score, state, raw_state, leaf_value, leaf_n, leaf_hits, nscore, napp,
           n_scored, n_na, n_miss, pscore, total, all_ok, part_sheets, sheet_missing,
           part_warn, panel_out, quality) -> list[Evaluation]:
    b = len(items)
    policy = cs.missing
    nodes = cs.nodes
    leaves = cs.leaves
    nl_arr = np.array([len(nd.leaves) for nd in nodes])
    status_l = np.where(n_miss > 0, 3, np.where(n_na == nl_arr, 2,
                                                np.where(n_na > 0, 1, 0))).tolist()
    score_l = _obj_list(nscore, n_scored > 0)
    napp_l = napp.tolist()
    lv_l = _obj_list(leaf_value, ~np.isnan(leaf_value))
    ln_l = leaf_n.tolist()
    lh_l = leaf_hits.tolist()
    ps_l = _obj_list(pscore, ~np.isnan(pscore))
    total_l = total.tolist()
    data_local = {li: j for j, li in enumerate(cs.data_leaves)}
    inner = []
    leafy = []
    for nd in nodes:
        pid = cs.parts[nd.part].id
        if nd.leaf < 0:
            inner.append((nd.index, nd.id, nd.name, pid, nd.points))
        else:
            lf = leaves[nd.leaf]
            kind = 0 if lf.rule in ("points", "tiers") else (
                1 if lf.index in data_local else (2 if lf.rule == "survey_mean" else 3))
            leafy.append((nd.index, nd.id, nd.name, pid, lf.rule, nd.points, lf.index, kind,
                          data_local.get(lf.index)))
    # what is missing, per package (only packages with something missing are visited)
    any_missing = np.zeros(b, dtype=bool)
    ds_leaves = cs.data_leaves + cs.survey_leaves
    if ds_leaves:
        any_missing |= (raw_state[:, ds_leaves] == MISSING).any(axis=1)
    for _p, rst in sheet_missing:
        if rst is None:
            any_missing[:] = True
        else:
            any_missing |= (rst == MISSING).any(axis=(1, 2))
    # panels
    panels_by_pkg: list[list] = [[] for _ in range(b)]
    for p, (ncomp, w, chi2, df, pw, icc) in panel_out:
        ns = len(items[0].sheets[p.index][0])
        cols = [a.tolist() for a in (ncomp, w, chi2, df, pw) + tuple(icc)]
        for i, (nl, w_, c_, d_, p_, s_, lo_, hi_, pv_, f_, d1_, d2_) in enumerate(
                zip(*cols, strict=True)):
            if nl < THRESHOLDS["min_panel_leaves"]:
                pq = PanelQuality(p.id, ns, nl, None, None,
                                  f"每张评分表都打了分的指标只有 {nl} 个 (少于 "
                                  f"{THRESHOLDS['min_panel_leaves']} 个), 不计算一致性")
            else:
                kw = None if w_ != w_ else KendallWResult(w_, c_, int(d_), _nn(p_))
                ic = None if s_ != s_ else ICCResult("ICC2k", s_, _nn(lo_), _nn(hi_), _nn(pv_),
                                                     _nn(f_), d1_, d2_)
                note = None
                if kw is None or ic is None:
                    note = "评分没有差异 (全部相同), 一致性系数无法计算"
                pq = PanelQuality(p.id, ns, nl, kw, ic, note)
            panels_by_pkg[i].append(pq)
    alpha = quality["alpha"]
    if alpha is not None:
        alpha = tuple(a.tolist() for a in alpha)
    answered = quality["answered"].tolist()
    rate_leaves = [(li, leaves[li].id) for li in cs.survey_leaves
                   if leaves[li].rule == "survey_rate"]
    z = float(special.ndtri(0.975))
    from .stats import sample_size

    needed_cache: dict = {}
    min_rows = THRESHOLDS["min_alpha_rows"]
    n_q = len(cs.questions)
    out = []
    for i, it in enumerate(items):
        warnings = list(cs.warnings)
        warnings.extend(it.warnings)
        warnings.extend(part_warn[i])
        missing: list[Missing] = []
        # nodes
        st_i = status_l[i]
        sc_i = score_l[i]
        na_i = napp_l[i]
        lv_i = lv_l[i]
        node_map = {}
        for k, nid, name, pid, pts in inner:
            node_map[nid] = NodeScore(nid, name, pid, None, pts, sc_i[k], na_i[k],
                                      _STATUS[st_i[k]])
        for k, nid, name, pid, rule, pts, li, kind, dj in leafy:
            if kind == 0:
                node_map[nid] = NodeScore(nid, name, pid, rule, pts, sc_i[k], na_i[k],
                                          _STATUS[st_i[k]])
            elif kind == 1:
                node_map[nid] = NodeScore(nid, name, pid, rule, pts, sc_i[k], na_i[k],
                                          _STATUS[st_i[k]], lv_i[li], None, None,
                                          it.data_note.get(dj))
            else:
                node_map[nid] = NodeScore(nid, name, pid, rule, pts, sc_i[k], na_i[k],
                                          _STATUS[st_i[k]], lv_i[li], ln_l[i][li],
                                          lh_l[i][li] if kind == 3 else None)
        # missing items
        if any_missing[i]:
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
                    scorers = it.sheets[p.index][0]
                    for s_, j in zip(*np.nonzero(mrow), strict=True):
                        missing.append(Missing(p.id, leaves[p.sheet_leaves[j]].id, "sheet",
                                               scorers[s_]))
        # parts
        parts = []
        ps_i = ps_l[i]
        unscored = []
        for p in cs.parts:
            s = ps_i[p.index]
            if s is None:
                unscored.append(p)
                missing.append(Missing(p.id, None, "part"))
            sheets = ()
            info = part_sheets[p.index]
            if info is not None:
                ns_, tl_all, ch_all, chars, vl_all = info
                scorers, _, _, notes = it.sheets[p.index]
                tl = tl_all[i]
                ch = ch_all[i]
                vl = vl_all[i]
                cr = chars[i]
                sheets = tuple(
                    SheetUse(scorers[s_], None if tl[s_] != tl[s_] else tl[s_], ch[s_],
                             tuple(vl[s_]), cr[s_].tobytes().decode("ascii"), notes[s_])
                    for s_ in range(ns_))
            parts.append(PartScore(p.id, p.name, p.party, p.weight, p.combine, s,
                                   None if s is None else p.weight_f * s,
                                   na_i[p.root], sheets))
        if missing:
            what = {"block": "结果不能定稿 (缺失项见 missing), 显示的分数只按已有数据计算",
                    "zero": "按指标体系的规定, 缺失项按 0 分计",
                    "redistribute": "按指标体系的规定, 缺失项按不适用处理, "
                                    "分值在适用指标中重新折算"}
            n_real = sum(1 for m in missing if m.source != "part")
            if n_real:
                warnings.append(f"有 {n_real} 项缺失; {what[policy]}")
        for p in unscored:
            warnings.append(f"部分 \"{p.id}\" 没有任何可计分的指标, 无法评分; 总分只按其余部分的"
                            f"权重折算, 结果不能定稿")
        t = total_l[i]
        if t != t:
            tot = None
            grade = None
            t = None
        else:
            tot = round_score(t)
            grade = next(name for name, lo in cs.grades if tot >= lo)
        final = bool(all_ok[i]) and not (policy == "block" and any(
            m.source != "part" for m in missing))
        # quality
        rates = []
        pop = it.population
        for li, lid in rate_leaves:
            n = ln_l[i][li]
            if n == 0:
                continue
            r = lh_l[i][li] / n
            m = z * math.sqrt(r * (1 - r) / n)
            fp = False
            if pop is not None and pop > 1 and n <= pop:
                m *= math.sqrt((pop - n) / (pop - 1))
                fp = True
            rates.append(RateQuality(lid, r, n, m, fp))
        margin = max((r.margin for r in rates), default=None)
        a_res = None
        a_note = None
        if alpha is not None:
            av, alo, ahi, nc, aok = alpha
            if aok[i]:
                a_res = AlphaResult(av[i], _nn(alo[i]), _nn(ahi[i]), nc[i], it.n_resp - nc[i],
                                    n_q)
            else:
                a_note = (f"完整作答的问卷只有 {nc[i]} 份 (需要至少 {min_rows} 份且总分有差异), "
                          f"不计算信度")
        elif n_q == 1:
            a_note = "问卷只有 1 道计分题目, 不计算信度"
        needed = None
        if n_q:
            needed = needed_cache.get(pop)
            if needed is None:
                needed = needed_cache[pop] = sample_size(pop)
            if answered[i] < needed:
                pop_txt = (f"服务对象 {pop} 人" if pop else "服务对象总数未知 (按无限总体)")
                warnings.append(f"有效问卷 {answered[i]} 份, 少于所需样本量 {needed} 份 "
                                f"({pop_txt}, 误差 ±5%, 置信度 95%)")
            if pop is not None and it.n_resp > pop:
                warnings.append(f"问卷份数 {it.n_resp} 超过服务对象总数 {pop}, 未作有限总体校正")
        if a_res is not None and a_res.statistic < THRESHOLDS["alpha"]:
            warnings.append(f"问卷信度 Cronbach's α = {a_res.statistic:.3f}, 低于 "
                            f"{THRESHOLDS['alpha']}")
        for pq in panels_by_pkg[i]:
            if pq.kendall_w is not None and pq.kendall_w.statistic < THRESHOLDS["kendall_w"]:
                warnings.append(f"部分 \"{pq.part}\" 评审专家评分一致性较弱: Kendall's W = "
                                f"{pq.kendall_w.statistic:.3f} < {THRESHOLDS['kendall_w']}")
            if pq.icc is not None and pq.icc.statistic < THRESHOLDS["icc"]:
                warnings.append(f"部分 \"{pq.part}\" 评审专家评分信度较低: ICC2k = "
                                f"{pq.icc.statistic:.3f} < {THRESHOLDS['icc']}")
        quality_i = Quality(it.n_resp, answered[i], pop, needed, margin, tuple(rates), a_res,
                            a_note, tuple(panels_by_pkg[i]))
        pay = None
        if it.payment is not None and tot is not None:
            pay = _apply_payment(tot, it.payment[1], it.payment[0])
            if not final:
                warnings.append("结果尚不能定稿, 结算金额仅供参考")
        out.append(Evaluation(tot, grade, t, final, tuple(parts), NodeMap(node_map),
                              quality_i, tuple(warnings), tuple(missing), pay, cs.digest, cs))
    return out
