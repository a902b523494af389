"""Batches of evaluation inputs in columns (批量计分的列式输入).

A :class:`Batch` holds the inputs of packages that share a compiled scheme (and the parts
that have sheets at all), as numpy arrays (packages × sheets × leaves, packages × data
leaves, respondents × questions) plus the few per-package Python values (population,
payment, warnings). The engine scores a batch. ``evaluate`` makes a batch of one with
:func:`from_parsed` from what the one-package parser read; ``evaluate_many`` makes its
batches with :func:`read_many`, which reads many packages column by column: every sheet
entry, measured value and survey answer of a chunk of packages passes through a few loops
in C (``map`` over dict methods, ``itemgetter``), and the checks are numpy comparisons over
the columns.

The column reader takes the forms a package normally has (numbers, decimal strings, tier
names, ``{"points"|"tier", "reason"}``, ``{"na"}``, ``{"value", "source"}``, answers that
are options or ``null``). A package with anything else — a fault, or a rare form — is not
read by it: it is returned as *odd*, and ``evaluate_many`` reads it with the one-package
parser, which raises its ``PackageError`` with the JSON path of the fault (or accepts it).
Nothing is accepted here that the one-package parser refuses, and what is accepted is read
to the same values.
"""

from __future__ import annotations

import operator
from itertools import chain, compress, repeat

import numpy as np

from .package import PackageError, _dec
from .text import AND, Joined, Text

__all__ = ["SCORED", "NA", "MISSING", "ABSENT", "Batch", "PartSheets", "SheetTable", "Suspects",
           "Tally", "from_parsed", "read_many", "concat", "tally"]

SCORED, NA, MISSING = 0, 1, 2
ABSENT = 3  # a padding sheet: its package has fewer sheets than the widest of the batch

_NO_LIST: list = []
_NO_DICT: dict = {}
_NO_WARNINGS: tuple = ()
_SENT = object()  # "key absent" for dict.get
_BIG = 1 << 1000  # an integer beyond this is beyond the range of a float
_TYPE = {float: 0, int: 1, str: 2, dict: 3}  # anything else: 9
_cf = chain.from_iterable
_ig = operator.itemgetter
_get = dict.get


class Suspects(Exception):
    """Packages (positions in the list given) to be read by the one-package parser."""

    def __init__(self, positions):
        self.positions = sorted(set(int(p) for p in positions))
        super().__init__(f"{len(self.positions)} package(s) for the one-package parser")


def no_reason_warning(scorer: str, leaves: list) -> Text:
    """The warning for deductions a sheet gave without a reason (扣分未写理由)."""
    return Text("评分表 {scorer} 有 {n} 项扣分未写扣分理由：{leaves}", scorer=scorer,
                n=len(leaves), leaves=Joined(AND, leaves))


def unused_survey_warning(n: int) -> Text:
    """The warning for survey answers a scheme without survey indicators cannot use."""
    return Text("数据包有 {n} 份问卷回答，但指标体系没有问卷类指标，未使用", n=n)


def _objects(values) -> np.ndarray:
    """A numpy array of Python objects: unlike a list, the garbage collector does not walk
    it, which matters for the hundreds of thousands of input strings a batch keeps."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


class SheetTable:
    """Every sheet of a batch, one row each: its scorer and its notes.

    Notes (tier names, reasons, n/a reasons) are made on demand: a sheet read by the
    one-package parser has them ready (``fixed``, by row); a sheet read by the column
    reader keeps its entries' leaf columns and texts (``col``, ``groups``), and the notes
    of all such sheets are made together the first time one is asked for."""

    __slots__ = ("scorer", "fixed", "lo", "col", "ids", "groups", "_notes")

    def __init__(self, scorer, fixed, lo=None, col=None, ids=None, groups=()):
        self.scorer = scorer  # object array: the scorer of each sheet
        self.fixed = fixed  # {row: notes tuple} for the sheets whose notes are ready
        self.lo = np.zeros(len(scorer) + 1, dtype=np.int64) if lo is None else lo  # entries
        self.col = np.zeros(0, dtype=np.int64) if col is None else col  # entry → sheet column
        self.ids = ids  # sheet column → leaf id
        # (entry indices, order within the entry, kind, texts): the entries' notes by kind
        self.groups = list(groups)
        self._notes = None

    def notes(self, k: int) -> tuple:
        f = self.fixed.get(k)
        if f is not None:
            return f
        if self._notes is None:
            self._notes = self._make_notes()
        return self._notes[k]

    def _make_notes(self) -> list:
        s = len(self.scorer)
        if not self.groups:
            return [()] * s
        idx = np.concatenate([g[0] for g in self.groups])
        sub = np.concatenate([np.full(len(g[0]), g[1], dtype=np.int8) for g in self.groups])
        kinds = list(_cf(repeat(g[2], len(g[0])) for g in self.groups))
        texts = np.concatenate([g[3] for g in self.groups]).tolist()
        order = np.lexsort((sub, idx))
        ol = order.tolist()
        made = list(zip(map(self.ids.__getitem__, self.col[idx[order]].tolist()),
                        map(kinds.__getitem__, ol), map(texts.__getitem__, ol), strict=True))
        sheet = np.searchsorted(self.lo, idx[order], side="right") - 1
        counts = np.bincount(sheet, minlength=s)
        ends = np.cumsum(counts).tolist()
        starts = [0, *ends[:-1]]
        return list(map(tuple, map(made.__getitem__, map(slice, starts, ends))))


def _concat_tables(tables: list) -> tuple[SheetTable, list]:
    """One table from several, and the offset of each one's sheets in it."""
    if len(tables) == 1:
        return tables[0], [0]
    fixed: dict = {}
    groups: list = []
    los = []
    offsets = []
    s_off = e_off = 0
    ids = None
    for t in tables:
        offsets.append(s_off)
        fixed.update((k + s_off, v) for k, v in t.fixed.items())
        los.append(t.lo[:-1] + e_off)
        for idx, sub, kind, texts in t.groups:
            groups.append((idx + e_off, sub, kind, texts))
        ids = ids or t.ids
        s_off += len(t.scorer)
        e_off += int(t.lo[-1])
    lo = np.concatenate([*los, np.array([e_off], dtype=np.int64)])
    return SheetTable(np.concatenate([t.scorer for t in tables]), fixed, lo,
                      np.concatenate([t.col for t in tables]), ids, groups), offsets


class PartSheets:
    """The sheets of one part across a batch, sorted by scorer. Packages with fewer sheets
    than the widest (``ns``) are padded with ABSENT sheets, which take no part in anything."""

    __slots__ = ("ns", "n", "sid", "vals", "st")

    def __init__(self, ns, n, sid, vals, st):
        self.ns = ns  # the most sheets of a package in the batch
        self.n = n  # (B,) int64: each package's own number of sheets
        self.sid = sid  # (B, ns) int64: the sheet's row in the batch's SheetTable, -1 absent
        self.vals = vals  # (B, ns, leaves) float64: points, 0.0 where not scored
        self.st = st  # (B, ns, leaves) int8: SCORED / NA / MISSING / ABSENT


class Tally:
    """The survey answers of a batch, counted per package (from the option codes of its
    respondents, by :func:`tally`, while they are in the processor's cache).

    ``counts`` (B, 2, questions, options): answers per option, [:, 0] of the respondents
    with some question unanswered, [:, 1] of those who answered every question;
    ``answered`` respondents with at least one answer; ``complete`` respondents who
    answered every question; and for Cronbach's alpha the complete respondents' totals
    counted per package and distinct total, sorted by package and total (``cell_pkg``,
    ``cell_val``, ``cell_cnt``). All integers but the totals, so nothing here depends on
    the order of the respondents or on how packages were read together."""

    __slots__ = ("counts", "answered", "complete", "cell_pkg", "cell_val", "cell_cnt",
                 "rate_sums")

    def __init__(self, counts, answered, complete, cell_pkg, cell_val, cell_cnt, rate_sums):
        self.counts = counts
        self.answered = answered
        self.complete = complete
        self.cell_pkg = cell_pkg
        self.cell_val = cell_val
        self.cell_cnt = cell_cnt
        self.rate_sums = rate_sums  # (B, rate leaves over several questions, 4): rate_sums()

    def take(self, idx: np.ndarray) -> Tally:
        """The tally of the packages ``idx`` (increasing positions)."""
        b = self.answered.shape[0]
        newid = np.full(b, -1, dtype=np.int64)
        newid[idx] = np.arange(idx.shape[0])
        keep = newid[self.cell_pkg] >= 0
        return Tally(self.counts[idx], self.answered[idx], self.complete[idx],
                     newid[self.cell_pkg[keep]], self.cell_val[keep], self.cell_cnt[keep],
                     self.rate_sums[idx])

    @staticmethod
    def concat(tallies: list) -> Tally:
        offsets = np.cumsum([0] + [t.answered.shape[0] for t in tallies[:-1]])
        return Tally(np.concatenate([t.counts for t in tallies]),
                     np.concatenate([t.answered for t in tallies]),
                     np.concatenate([t.complete for t in tallies]),
                     np.concatenate([t.cell_pkg + o for t, o in zip(tallies, offsets,
                                                                    strict=True)]),
                     np.concatenate([t.cell_val for t in tallies]),
                     np.concatenate([t.cell_cnt for t in tallies]),
                     np.concatenate([t.rate_sums for t in tallies]))


def tally(prep, codes: np.ndarray, lens: np.ndarray) -> Tally:
    """Count the answers ``codes`` (questions × respondents, option code + 1, 0 for no
    answer) of packages with ``lens`` respondents each."""
    b = lens.shape[0]
    q = codes.shape[0]
    o1 = prep.n_options + 1
    pkg = np.repeat(np.arange(b), lens)
    plane = q * o1
    size = b * 2 * plane
    small = codes.shape[1] <= 512  # few respondents: fewer numpy calls; many: row by row
    if small:
        given = codes != 0
        complete = given.all(axis=0)
        some = given.any(axis=0)
        base = pkg * (2 * plane) + complete * plane
        counts = np.bincount((base + prep.tally_offset[:q, None] + codes).reshape(-1),
                             minlength=size)
    else:
        complete = codes[0] != 0
        some = complete.copy()
        for qi in range(1, q):
            a = codes[qi] != 0
            complete &= a
            some |= a
        base = pkg * (2 * plane) + complete * plane
        counts = np.bincount(base + codes[0], minlength=size)
        for qi in range(1, q):
            counts += np.bincount(base + (qi * o1) + codes[qi], minlength=size)
    counts = counts.reshape(b, 2, q, o1)[..., 1:]
    answered = np.bincount(pkg[some], minlength=b)
    pk = pkg[complete]
    nc = np.bincount(pk, minlength=b)
    sums = rate_sums(prep, codes, pkg, b)
    if q < 2:
        return Tally(counts, answered, nc, np.zeros(0, dtype=np.int64), np.zeros(0),
                     np.zeros(0, dtype=np.int64), sums)
    # each complete respondent's total, as the rank of its value among the distinct totals
    table = prep.combo_totals()
    if table is not None:
        stride = prep.combo_stride
        if small:
            combo = (codes * stride[:, None]).sum(axis=0)
        else:
            combo = codes[0].astype(np.int64)
            for qi in range(1, q):
                combo += codes[qi] * stride[qi]
        tvals, rank = table[0], table[1][combo[complete] - int(stride.sum())]  # code + 1
    else:
        cc = codes[:, complete]
        t = np.zeros(pk.shape[0])
        for qi in range(q):
            t = t + prep.values[qi][cc[qi].astype(np.intp) - 1]  # summed question by question
        tvals, rank = np.unique(t, return_inverse=True)
        rank = rank.reshape(-1)
    nu = tvals.shape[0]
    key = pk * nu + rank
    if b * nu <= 1 << 24:
        dense = np.bincount(key, minlength=b * nu)
        cell = np.flatnonzero(dense)
        ccount = dense[cell]
    else:
        cell, ccount = np.unique(key, return_counts=True)
    return Tally(counts, answered, nc, cell // nu, tvals[cell % nu], ccount, sums)


def rate_sums(prep, codes: np.ndarray, pkg: np.ndarray, b: int) -> np.ndarray:
    """For each ``survey_rate`` leaf over several questions (``prep.rate_clusters``) and
    each package: the people who answered one of its questions, and the sums Σh², Σh·a,
    Σa² over them of a person's satisfied answers h and answers a, the terms of the rate's
    variance over respondents. Integers (exact in float64), so the order of the respondents
    changes nothing."""
    clusters = prep.rate_clusters
    out = np.zeros((b, len(clusters), 4))
    for k, (_li, qidx, ans, hit) in enumerate(clusters):
        a = np.zeros(codes.shape[1], dtype=np.int64)
        h = np.zeros_like(a)
        for j, qi in enumerate(qidx):
            c = codes[qi]
            a += ans[j][c]
            h += hit[j][c]
        out[:, k, 0] = np.bincount(pkg, weights=(a > 0).astype(np.float64), minlength=b)
        out[:, k, 1] = np.bincount(pkg, weights=h * h, minlength=b)
        out[:, k, 2] = np.bincount(pkg, weights=h * a, minlength=b)
        out[:, k, 3] = np.bincount(pkg, weights=a * a, minlength=b)
    return out


class Batch:
    """The inputs of ``b`` packages of one scheme, in columns."""

    __slots__ = ("cs", "prep", "b", "sheets", "table", "dv", "ds", "data_note", "tally", "lens",
                 "n_resp", "population", "payment", "warnings")

    def __init__(self, cs, prep, b, sheets, table, dv, ds, data_note, tally, lens, n_resp,
                 population, payment, warnings):
        self.cs = cs
        self.prep = prep
        self.b = b
        self.sheets = sheets  # per part: PartSheets, or None for a part without sheet leaves
        self.table = table  # SheetTable: scorers and notes of the sheets
        self.dv = dv  # (B, data leaves) float64 measured values
        self.ds = ds  # (B, data leaves) int8 states
        self.data_note = data_note  # per package: {data leaf index: source or n/a reason}
        self.tally = tally  # Tally of the survey answers, or None without survey questions
        self.lens = lens  # (B,) int64 respondents per package
        self.n_resp = n_resp  # per package: number of response objects
        self.population = population
        self.payment = payment  # per package: (amount, parsed rule) or None
        self.warnings = warnings  # per package: warnings found while reading the inputs

    def signature(self) -> tuple:
        """Which parts have sheets: batches with the same signature can be joined."""
        return tuple(None if ps is None else ps.ns > 0 for ps in self.sheets)


def _pick(seq: list, idx: list) -> list:
    """``[seq[i] for i in idx]``, in C."""
    return list(map(seq.__getitem__, idx))


def from_parsed(items) -> Batch:
    """A batch from packages read one by one (``engine._Parsed`` with the same signature)."""
    first = items[0]
    cs, prep = first.cs, first.prep
    b = len(items)
    nd = len(cs.data_leaves)
    dv = np.array([it.data_v for it in items], dtype=np.float64).reshape(b, nd)
    ds = np.array([it.data_s for it in items], dtype=np.int8).reshape(b, nd)
    lens = np.array([it.n_resp for it in items], dtype=np.int64)
    counted = None
    if cs.questions:
        counted = tally(prep, np.concatenate([it.codes for it in items], axis=1) if b > 1
                        else items[0].codes, lens)
    scorer: list = []
    fixed: dict = {}
    sheets = []
    for p in cs.parts:
        if not p.sheet_leaves:
            sheets.append(None)
            continue
        k = p.index
        counts = [len(it.sheets[k][0]) for it in items]
        ns = max(counts)
        ls = len(p.sheet_leaves)
        vals = np.zeros((b, ns, ls))
        st = np.full((b, ns, ls), ABSENT, dtype=np.int8)
        sid = np.full((b, ns), -1, dtype=np.int64)
        for i, it in enumerate(items):
            sc, v, s, notes = it.sheets[k]
            m = len(sc)
            if m:
                size = m * ls
                vals[i, :m] = np.fromiter(_cf(v), dtype=np.float64, count=size).reshape(m, ls)
                st[i, :m] = np.fromiter(_cf(s), dtype=np.int8, count=size).reshape(m, ls)
                sid[i, :m] = range(len(scorer), len(scorer) + m)
                fixed.update(zip(range(len(scorer), len(scorer) + m), notes, strict=True))
                scorer += sc
        sheets.append(PartSheets(ns, np.array(counts, dtype=np.int64), sid, vals, st))
    return Batch(cs, prep, b, sheets, SheetTable(_objects(scorer), fixed), dv, ds,
                 [it.data_note for it in items], counted, lens, [it.n_resp for it in items],
                 [it.population for it in items], [it.payment for it in items],
                 [it.warnings for it in items])


def _widen(a: np.ndarray, ns: int, fill) -> np.ndarray:
    """(B, sheets, …) padded with ``fill`` to ``ns`` sheets."""
    if a.shape[1] == ns:
        return a
    pad = np.full((a.shape[0], ns - a.shape[1], *a.shape[2:]), fill, dtype=a.dtype)
    return np.concatenate([a, pad], axis=1)


def concat(batches: list) -> Batch:
    """One batch from batches of the same scheme and signature (in their order)."""
    if len(batches) == 1:
        return batches[0]
    first = batches[0]
    table, offsets = _concat_tables([bt.table for bt in batches])
    sheets = []
    for k, ps in enumerate(first.sheets):
        if ps is None:
            sheets.append(None)
            continue
        parts = [bt.sheets[k] for bt in batches]
        ns = max(x.ns for x in parts)
        sid = np.concatenate([_widen(np.where(x.sid >= 0, x.sid + off, -1), ns, -1)
                              for x, off in zip(parts, offsets, strict=True)])
        sheets.append(PartSheets(ns, np.concatenate([x.n for x in parts]), sid,
                                 np.concatenate([_widen(x.vals, ns, 0.0) for x in parts]),
                                 np.concatenate([_widen(x.st, ns, ABSENT) for x in parts])))
    counted = None
    if first.tally is not None:
        counted = Tally.concat([bt.tally for bt in batches])

    def joined(name):
        return list(_cf(getattr(bt, name) for bt in batches))

    return Batch(first.cs, first.prep, sum(bt.b for bt in batches), sheets, table,
                 np.concatenate([bt.dv for bt in batches]),
                 np.concatenate([bt.ds for bt in batches]), joined("data_note"), counted,
                 np.concatenate([bt.lens for bt in batches]), joined("n_resp"),
                 joined("population"), joined("payment"), joined("warnings"))


# ----------------------------------------------------------------------------- reading


def _where_not(values: list, ok) -> list:
    """Positions of the values for which ``ok`` (a predicate) is False."""
    return [k for k, v in enumerate(values) if not ok(v)]


def _exact(values: list, tp: type, odd, owner) -> list:
    """``values`` with those not exactly of type ``tp`` marked odd (their owners in ``odd``)
    and replaced by ``tp()``."""
    if set(map(type, values)) <= {tp}:
        return values
    values = list(values)
    for k in _where_not(values, lambda v: type(v) is tp):
        odd[owner[k]] = True
        values[k] = tp()
    return values


def _texts_ok(texts: list, checked: bool = False) -> np.ndarray | None:
    """None when every text is a non-blank ``str`` (``checked``: they are ``str``); else
    the mask of the good ones."""
    if (checked or set(map(type, texts)) <= {str}) and all(map(str.strip, texts)):
        return None
    return np.fromiter((type(t) is str and bool(t.strip()) for t in texts), dtype=bool,
                       count=len(texts))


def _mark_bad_texts(ebad: np.ndarray, idx: np.ndarray, texts: list,
                    checked: bool = False) -> None:
    """Mark in ``ebad`` the entries ``idx`` whose text (reason, source) is blank or no string."""
    ok = _texts_ok(texts, checked)
    if ok is not None:
        ebad[idx[~ok]] = True


def _to_float(v) -> float:
    """A decimal string as ``_num`` reads it (NaN for anything it refuses)."""
    try:
        return float(_dec(v, "", ""))
    except (PackageError, OverflowError):
        return np.nan


def _type_codes(values: list) -> np.ndarray:
    """0 float, 1 int, 2 str, 3 dict, 9 anything else, per value."""
    try:
        return np.frombuffer(bytes(map(_TYPE.__getitem__, map(type, values))), dtype=np.uint8)
    except KeyError:
        return np.fromiter(map(_TYPE.get, map(type, values), repeat(9)), dtype=np.uint8,
                           count=len(values))


def _floats(numbers: list) -> np.ndarray:
    """JSON numbers as floats; an integer beyond the range of a float is infinite (and
    refused by the range checks), as ``_num`` reads it."""
    try:
        return np.array(numbers, dtype=np.float64)
    except OverflowError:
        return np.array([v if -_BIG < v < _BIG else np.inf for v in numbers], dtype=np.float64)


def _numbers(values: list, eidx: np.ndarray, ebad: np.ndarray) -> np.ndarray:
    """Points or measured values given as JSON numbers or decimal strings, as floats; any
    other value marks its entry bad (and reads NaN)."""
    if set(map(type, values)) <= {float, int}:
        return _floats(values)
    n = len(values)
    tc = _type_codes(values)
    out = np.full(n, np.nan)
    num = tc <= 1
    if num.any():
        out[num] = _floats(list(compress(values, num.tolist())))
    s = tc == 2
    if s.any():
        out[s] = np.fromiter(map(_to_float, compress(values, s.tolist())), dtype=np.float64,
                             count=int(s.sum()))
    ebad[eidx[~num & ~s]] = True
    return out


_FIELD = {"points": _ig("points"), "tier": _ig("tier")}
_REASON = _ig("reason")


def _score_dicts(dv: list, kind: str):
    """The fields of score objects ``{kind: …, "reason": …}`` or ``{"na": …}``: (None or
    (mask of the n/a ones, their reasons), the others' values, their reasons or None)."""
    if set(map(len, dv)) == {2}:  # the common form: exactly {kind, "reason"}
        try:
            return None, list(map(_FIELD[kind], dv)), list(map(_REASON, dv))
        except KeyError:
            pass
    na = list(map(_get, dv, repeat("na"), repeat(_SENT)))
    found = None
    if na.count(_SENT) != len(na):
        has_na = np.fromiter(map(operator.is_not, na, repeat(_SENT)), dtype=bool, count=len(na))
        found = (has_na, list(compress(na, has_na.tolist())))
        dv = list(compress(dv, (~has_na).tolist()))
    return (found, list(map(_get, dv, repeat(kind))), list(map(_get, dv, repeat("reason"))))


class _Read:
    """What the column reader found in a chunk (before the odd packages are left out)."""

    __slots__ = ("spkg", "spart", "srank", "scorer", "lo", "esheet", "ecol", "x",
                 "state", "unexpl", "groups", "dv", "ds", "data_note", "codes", "lens",
                 "warn")


def _read_sheets(cs, prep, inputs: list, b: int, odd: np.ndarray, r: _Read) -> None:
    """The sheets of ``b`` packages, entry by entry in columns."""
    raws = _exact(list(map(_get, inputs, repeat("sheets"), repeat(_NO_LIST))), list, odd,
                  range(b))
    nsh = np.fromiter(map(len, raws), dtype=np.int64, count=b)
    shs = list(_cf(raws))
    s = len(shs)
    spkg = np.repeat(np.arange(b), nsh)
    shs = _exact(shs, dict, odd, spkg)
    part_ids = list(map(_get, shs, repeat("part")))
    try:
        spart = np.fromiter(map(prep.sheet_part.get, part_ids, repeat(-1)), dtype=np.int64,
                            count=s)
    except TypeError:  # an unhashable part id
        spart = np.array([prep.sheet_part.get(p, -1) if type(p) is str else -1
                          for p in part_ids], dtype=np.int64)
    odd[spkg[spart < 0]] = True
    scorers = _exact(list(map(_get, shs, repeat("scorer"))), str, odd, spkg)
    blank = _texts_ok(scorers)
    if blank is not None:
        odd[spkg[~blank]] = True
    scores = _exact(list(map(_get, shs, repeat("scores"))), dict, odd, spkg)
    cnt = np.fromiter(map(len, scores), dtype=np.int64, count=s)
    lo = np.zeros(s + 1, dtype=np.int64)
    np.cumsum(cnt, out=lo[1:])
    keys = list(_cf(scores))
    vals = list(_cf(map(dict.values, scores)))
    e = len(keys)
    esheet = np.repeat(np.arange(s), cnt)
    ecol = np.fromiter(map(prep.sheet_col.get, keys, repeat(-1)), dtype=np.int64, count=e)
    ebad = (ecol < 0) | (prep.col_part[ecol] != spart[esheet])
    tier = prep.col_tier[ecol]
    tc = _type_codes(vals)
    x = np.zeros(e)
    state = np.full(e, SCORED, dtype=np.int8)
    has_reason = np.zeros(e, dtype=bool)
    groups = []
    # dicts: {"na": …}, or {"points"|"tier": …, "reason": …}
    p_idx = [np.flatnonzero((tc != 3) & ~tier)]  # entries whose value is the points
    p_val = [vals]
    t_idx = [np.flatnonzero((tc != 3) & tier)]  # entries whose value is a tier name
    t_val = [vals]
    isd = tc == 3
    for kind, dmask in (("tier", isd & tier), ("points", isd & ~tier)):
        if not dmask.any():
            continue
        didx = np.flatnonzero(dmask)
        dv = list(compress(vals, dmask.tolist()))
        na, pay, rs = _score_dicts(dv, kind)
        if na is not None:  # {"na": reason}
            has_na, ntxt = na
            nidx = didx[has_na]
            _mark_bad_texts(ebad, nidx, ntxt)
            state[nidx] = NA
            groups.append((nidx, 0, "na", _objects(ntxt)))
            didx = didx[~has_na]
        if not didx.size:
            continue
        hr = None if set(map(type, rs)) <= {str} else np.fromiter(
            map(operator.is_not, rs, repeat(None)), dtype=bool, count=len(rs))
        ridx = didx if hr is None else didx[hr]
        if ridx.size:
            rtxt = rs if hr is None else list(compress(rs, hr.tolist()))
            _mark_bad_texts(ebad, ridx, rtxt, hr is None)
            has_reason[ridx] = True
            groups.append((ridx, 1, "reason", _objects(rtxt)))
        (t_idx if kind == "tier" else p_idx).append(didx)
        (t_val if kind == "tier" else p_val).append(pay)
    # tier names
    for k, (idx, v) in enumerate(zip(t_idx, t_val, strict=True)):
        if not idx.size:
            continue
        names = v if k else list(map(v.__getitem__, idx.tolist()))
        names = _exact(names, str, ebad, idx)
        got = list(map(dict.get, map(prep.col_tiers.__getitem__, ecol[idx].tolist()), names))
        found = np.fromiter(map(operator.is_not, got, repeat(None)), dtype=bool, count=len(got))
        if not found.all():
            ebad[idx[~found]] = True
            got = [0.0 if g is None else g for g in got]
        x[idx] = got
        groups.append((idx, 0, "tier", _objects(names)))
    # points
    for k, (idx, v) in enumerate(zip(p_idx, p_val, strict=True)):
        if not idx.size:
            continue
        pts = v if k else list(map(v.__getitem__, idx.tolist()))
        x[idx] = _numbers(pts, idx, ebad)
    mx = prep.col_max[ecol]
    scored = state == SCORED
    pt = scored & ~tier
    ebad |= pt & ~((x >= 0.0) & (x <= mx))  # NaN fails too
    odd[spkg[esheet[ebad]]] = True
    r.spkg, r.spart, r.scorer, r.lo, r.esheet, r.ecol = (spkg, spart, scorers, lo, esheet,
                                                          ecol)
    r.x, r.state, r.groups = x, state, groups
    r.unexpl = pt & ~has_reason & (x < mx)
    # scorer ranks: the order of Python's str comparison, as the one-package parser sorts
    distinct = sorted(set(scorers))
    rank = dict(zip(distinct, range(len(distinct)), strict=True))
    r.srank = np.fromiter(map(rank.__getitem__, scorers), dtype=np.int64, count=s)


def _read_data(cs, prep, inputs: list, b: int, odd: np.ndarray, r: _Read) -> None:
    """The measured values of ``b`` packages, in columns."""
    nd = len(cs.data_leaves)
    raws = _exact(list(map(_get, inputs, repeat("data"), repeat(_NO_DICT))), dict, odd,
                  range(b))
    cnt = np.fromiter(map(len, raws), dtype=np.int64, count=b)
    dv = np.zeros((b, nd))
    ds = np.full((b, nd), MISSING, dtype=np.int8)
    r.dv, r.ds, r.data_note = dv, ds, [_NO_DICT] * b
    if not cnt.any():
        return
    keys = list(_cf(raws))
    vals = list(_cf(map(dict.values, raws)))
    e = len(keys)
    epkg = np.repeat(np.arange(b), cnt)
    col = np.fromiter(map(prep.data_col.get, keys, repeat(-1)), dtype=np.int64, count=e)
    ebad = col < 0
    col = np.where(ebad, 0, col)
    tc = _type_codes(vals)
    x = np.full(e, np.nan)
    st = np.full(e, SCORED, dtype=np.int8)
    notes = []
    isd = tc == 3
    plain = np.flatnonzero(~isd)
    if plain.size:
        pv = vals if plain.size == e else list(compress(vals, (~isd).tolist()))
        x[plain] = _numbers(pv, plain, ebad)
    if isd.any():
        didx = np.flatnonzero(isd)
        dv_ = list(compress(vals, isd.tolist()))
        na = list(map(_get, dv_, repeat("na"), repeat(_SENT)))
        has_na = np.fromiter(map(operator.is_not, na, repeat(_SENT)), dtype=bool, count=len(na))
        if has_na.any():
            nidx = didx[has_na]
            ntxt = list(compress(na, has_na.tolist()))
            _mark_bad_texts(ebad, nidx, ntxt)
            st[nidx] = NA
            x[nidx] = 0.0
            notes.append((nidx, ntxt))
        if not has_na.all():
            vidx = didx[~has_na]
            dvv = list(compress(dv_, (~has_na).tolist()))
            src = list(map(_get, dvv, repeat("source")))
            hs = np.fromiter(map(operator.is_not, src, repeat(None)), dtype=bool, count=len(src))
            if hs.any():
                sidx = vidx[hs]
                stxt = list(compress(src, hs.tolist()))
                _mark_bad_texts(ebad, sidx, stxt)
                notes.append((sidx, stxt))
            value = list(map(_get, dvv, repeat("value"), repeat(_SENT)))
            if value.count(_SENT):
                absent = np.fromiter(map(operator.is_, value, repeat(_SENT)), dtype=bool,
                                     count=len(value))
                ebad[vidx[absent]] = True
                value = [None if v is _SENT else v for v in value]
            x[vidx] = _numbers(value, vidx, ebad)
    scored = st == SCORED
    ebad |= scored & ~np.isfinite(x)
    ebad |= scored & (x < 0) & ~prep.data_thresholds[col]
    odd[epkg[ebad]] = True
    good = ~ebad
    dv[epkg[good], col[good]] = np.where(scored, x, 0.0)[good]
    ds[epkg[good], col[good]] = st[good]
    if notes:
        data_note = r.data_note
        for idx, txt in notes:
            for p, j, t in zip(epkg[idx].tolist(), col[idx].tolist(), txt, strict=True):
                if data_note[p] is _NO_DICT:
                    data_note[p] = {}
                data_note[p][j] = t


def _read_answers(prep, inputs: list, b: int, odd: np.ndarray, r: _Read, codes_by_question):
    """The survey answers of ``b`` packages as option codes (questions × respondents)."""
    raws = _exact(list(map(_get, inputs, repeat("responses"), repeat(_NO_LIST))), list, odd,
                  range(b))
    lens = np.fromiter(map(len, raws), dtype=np.int64, count=b)
    r.lens = lens
    q = len(prep.questions)
    if not q:
        r.codes = None
        r.warn = [(k, unused_survey_warning(int(lens[k])))
                  for k in np.flatnonzero(lens).tolist()]
        return
    r.warn = []
    qs = prep.questions
    gcode = prep.global_codes
    small = len(gcode) < 255  # codes fit in a byte
    out = []  # per package: global codes, respondents × questions, flat
    for i, raw in enumerate(raws):
        if not raw:
            continue
        try:
            # the package's own key objects (json.loads shares them between respondents),
            # so that each lookup of a question in a respondent finds it by identity
            kk = dict(zip(raw[0], raw[0], strict=True))
            get = _ig(*map(kk.get, qs, qs))
            flat = tuple(_cf(map(get, raw))) if q > 1 else tuple(map(get, raw))
            if len(flat) > 1 and small:
                out.append(bytes(_ig(*flat)(gcode)))
            else:
                out.append(np.array(list(map(gcode.__getitem__, flat)), dtype=np.int16))
        except (KeyError, TypeError, ValueError):
            # some respondent skips a question or answers null: question by question
            try:
                if not set(map(type, raw)) <= {dict}:
                    raise TypeError
                out.append(codes_by_question(prep, raw, len(raw)))
            except (KeyError, TypeError):
                odd[i] = True
                out.append(np.zeros(len(raw) * q, dtype=np.int16))
    n = int(lens.sum())
    if not out:
        g = np.zeros(0, dtype=np.uint8)
    elif all(type(o) is bytes for o in out):
        g = np.frombuffer(b"".join(out), dtype=np.uint8)
    else:
        g = np.concatenate([np.frombuffer(o, dtype=np.uint8) if type(o) is bytes else o
                            for o in out])
    g = g.reshape(n, q).T  # questions × respondents
    codes = prep.code_table[g + prep.code_offset[:, None]] if prep.shared_scale is None \
        else prep.shared_scale[g]
    if n and codes.max() == 255:  # an option of another question's scale
        bad = codes[0] == 255
        for qi in range(1, q):
            bad |= codes[qi] == 255
        odd[np.repeat(np.arange(b), lens)[bad]] = True
    r.codes = codes


def read_many(cs, prep, inputs: list, population: list, payment: list, codes_by_question):
    """Read the inputs of packages that share the compiled scheme ``cs``.

    ``inputs`` are their ``inputs`` objects (already checked to be dicts with known keys),
    ``population`` and ``payment`` their checked values, ``codes_by_question(prep, rows,
    n)`` the reader of answers with gaps. Returns ``(batches, odd)``: a list of
    ``(positions, Batch)``, one per set of parts that have sheets, and the positions of the
    packages to be read by the one-package parser.
    """
    b = len(inputs)
    odd = np.zeros(b, dtype=bool)
    r = _Read()
    _read_sheets(cs, prep, inputs, b, odd, r)
    _read_data(cs, prep, inputs, b, odd, r)
    _read_answers(prep, inputs, b, odd, r, codes_by_question)
    # sheets grouped by part, then package, then scorer; a scorer twice in a part is odd
    order = np.lexsort((r.srank, r.spkg, r.spart))
    sp, sk, sr = r.spart[order], r.spkg[order], r.srank[order]
    dup = (sp[1:] == sp[:-1]) & (sk[1:] == sk[:-1]) & (sr[1:] == sr[:-1])
    if dup.any():
        odd[sk[1:][dup]] = True
    keep = ~odd
    odd_pos = np.flatnonzero(odd).tolist()
    if not keep.any():
        return [], odd_pos
    kept = np.flatnonzero(keep)
    bk = kept.shape[0]
    newid = np.cumsum(keep) - 1
    # the sheets of kept packages: each one's slot among its package's sheets of its part
    ks = keep[sk]
    order = order[ks]
    sp, sk = sp[ks], newid[sk[ks]]
    own = np.zeros((len(cs.parts), bk), dtype=np.int64)
    np.add.at(own, (sp, sk), 1)
    first = np.zeros(order.shape[0], dtype=np.int64)
    if order.shape[0]:
        starts = np.flatnonzero(np.r_[True, (sp[1:] != sp[:-1]) | (sk[1:] != sk[:-1])])
        first[starts] = starts
        first = np.maximum.accumulate(first)
    slot_sorted = np.arange(order.shape[0]) - first
    slot = np.zeros(len(r.scorer), dtype=np.int64)
    slot[order] = slot_sorted
    spkg_new = np.where(keep[r.spkg], newid[r.spkg], -1)
    warnings: list = [_NO_WARNINGS] * bk
    # entries of kept packages
    ek = spkg_new[r.esheet] >= 0
    epkg, eslot, ecol = spkg_new[r.esheet][ek], slot[r.esheet][ek], r.ecol[ek]
    ex, est = r.x[ek], r.state[ek]
    unexpl = r.unexpl & ek
    sheets = []
    for p in cs.parts:
        if not p.sheet_leaves:
            sheets.append(None)
            continue
        k = p.index
        n_own = own[k]
        ns = int(n_own.max()) if bk else 0
        ls = len(p.sheet_leaves)
        vals = np.zeros((bk, ns, ls))
        st = np.full((bk, ns, ls), ABSENT, dtype=np.int8)
        sid = np.full((bk, ns), -1, dtype=np.int64)
        if ns:
            mine = order[sp == k]
            sid[spkg_new[mine], slot[mine]] = mine
            present = sid >= 0
            st[present] = MISSING
            m = prep.col_part[ecol] == k
            j = ecol[m] - prep.col_first[k]
            vals[epkg[m], eslot[m], j] = ex[m]
            st[epkg[m], eslot[m], j] = est[m]
        sheets.append(PartSheets(ns, n_own, sid, vals, st))
    if unexpl.any():  # deductions without a reason: a warning per sheet, in sheet order
        per_sheet = np.bincount(r.esheet[unexpl], minlength=len(r.scorer))
        warn_rows = order[sp == sp]  # sorted by part, package, scorer
        for row in warn_rows[per_sheet[warn_rows] > 0].tolist():
            a, z = int(r.lo[row]), int(r.lo[row + 1])
            lids = [prep.col_ids[c] for c in r.ecol[a:z][unexpl[a:z]].tolist()]
            i = int(spkg_new[row])
            if warnings[i] is _NO_WARNINGS:
                warnings[i] = []
            warnings[i].append(no_reason_warning(r.scorer[row], lids))
    table = SheetTable(_objects(r.scorer), {}, r.lo, r.ecol, prep.col_ids, r.groups)
    for k, text in r.warn:
        if keep[k]:
            i = int(newid[k])
            if warnings[i] is _NO_WARNINGS:
                warnings[i] = []
            warnings[i].append(text)
    kl = kept.tolist()
    all_kept = bk == b
    lens = r.lens if all_kept else r.lens[kept]
    counted = None
    if r.codes is not None:
        counted = tally(prep, r.codes, r.lens)
        if not all_kept:
            counted = counted.take(kept)
    dv = r.dv if all_kept else r.dv[kept]
    ds = r.ds if all_kept else r.ds[kept]
    data_note = r.data_note if all_kept else _pick(r.data_note, kl)
    pops = population if all_kept else _pick(population, kl)
    pays = payment if all_kept else _pick(payment, kl)
    n_resp = lens.tolist()
    # one batch per set of parts that have sheets (sheet counts are padded to the widest)
    sig = np.zeros(bk, dtype=np.int64)
    for p in cs.parts:
        if p.sheet_leaves:
            sig = sig * 2 + (own[p.index] > 0)
    kinds = np.unique(sig)
    positions = kl if all_kept else kl
    if kinds.shape[0] == 1:
        return [(positions, Batch(cs, prep, bk, sheets, table, dv, ds, data_note, counted,
                                  lens, n_resp, pops, pays, warnings))], odd_pos
    out = []
    for sv in kinds.tolist():
        members = np.flatnonzero(sig == sv)
        ml = members.tolist()
        gc = None if counted is None else counted.take(members)
        parts = []
        for ps in sheets:
            if ps is None:
                parts.append(None)
                continue
            n = ps.n[members]
            ns = int(n.max()) if ml else 0
            parts.append(PartSheets(ns, n, ps.sid[members, :ns], ps.vals[members, :ns],
                                    ps.st[members, :ns]))
        out.append((_pick(positions, ml),
                    Batch(cs, prep, len(ml), parts, table, dv[members], ds[members],
                          _pick(data_note, ml), gc, lens[members], _pick(n_resp, ml),
                          _pick(pops, ml), _pick(pays, ml), _pick(warnings, ml))))
    return out, odd_pos
