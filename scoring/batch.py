"""Batches of evaluation inputs in columns (批量计分的列式输入).

A :class:`Batch` holds the inputs of packages that share a compiled scheme (and the parts
that have sheets at all), as numpy arrays (packages × sheets × leaves, packages × data
leaves, questions × respondents) plus the few per-package Python values (scorers, notes,
payment). The engine scores a batch. ``evaluate`` makes a batch of one with
:func:`from_parsed`; ``evaluate_many`` makes its batches with :func:`read_many`, which reads
the survey answers of many packages in one pass (one option code per answer, straight
into a numpy array) and their sheets and data with the same checked parser as
``evaluate``.

Nothing here accepts what the one-package parser refuses: a package that fails a check
of :func:`read_many` is returned as *suspect* (:class:`Suspects`) and read again by the
one-package parser, which raises its ``PackageError`` with the JSON path of the fault (or,
for a rarer form such as an unanswered question, accepts it).
"""

from __future__ import annotations

from itertools import chain, repeat

import numpy as np

__all__ = ["SCORED", "NA", "MISSING", "ABSENT", "Batch", "PartSheets", "Suspects", "from_parsed",
           "read_many", "concat"]

SCORED, NA, MISSING = 0, 1, 2
ABSENT = 3  # a padding sheet: its package has fewer sheets than the widest of the batch

_NO_LIST: list = []
_NO_DICT: dict = {}


class Suspects(Exception):
    """Packages (positions in the list given) to be read by the one-package parser."""

    def __init__(self, positions):
        self.positions = sorted(set(int(p) for p in positions))
        super().__init__(f"{len(self.positions)} package(s) for the one-package parser")


class PartSheets:
    """The sheets of one part across a batch, sorted by scorer. Packages with fewer sheets
    than the widest (``ns``) are padded with ABSENT sheets, which take no part in anything."""

    __slots__ = ("ns", "n", "scorers", "vals", "st", "notes")

    def __init__(self, ns, n, scorers, vals, st, notes):
        self.ns = ns  # the most sheets of a package in the batch
        self.n = n  # (B,) int64: each package's own number of sheets
        self.scorers = scorers  # per package: tuple of scorer ids, sorted
        self.vals = vals  # (B, ns, leaves) float64: points, 0.0 where not scored
        self.st = st  # (B, ns, leaves) int8: SCORED / NA / MISSING
        self.notes = notes  # per package: per sheet a tuple of (leaf id, kind, text)


class Batch:
    """The inputs of ``b`` packages of one scheme, in columns."""

    __slots__ = ("cs", "prep", "b", "sheets", "dv", "ds", "data_note", "codes", "lens",
                 "n_resp", "population", "payment", "warnings")

    def __init__(self, cs, prep, b, sheets, dv, ds, data_note, codes, lens, n_resp,
                 population, payment, warnings):
        self.cs = cs
        self.prep = prep
        self.b = b
        self.sheets = sheets  # per part: PartSheets, or None for a part without sheet leaves
        self.dv = dv  # (B, data leaves) float64 measured values
        self.ds = ds  # (B, data leaves) int8 states
        self.data_note = data_note  # per package: {data leaf index: source or n/a reason}
        self.codes = codes  # (questions, all respondents) int16 option codes, -1 no answer
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


def _sheets(cs, per_package: list, members: list) -> list:
    """Per part, the sheets of these packages (each one read into ``(scorers, values,
    states, notes)`` per part) as :class:`PartSheets`."""
    out = []
    bg = len(members)
    for p in cs.parts:
        if not p.sheet_leaves:
            out.append(None)
            continue
        k = p.index
        rows = [per_package[i][k] for i in members]
        counts = [len(r[0]) for r in rows]
        ns = max(counts)
        ls = len(p.sheet_leaves)
        shape = (bg, ns, ls)
        if ns:
            size = bg * ns * ls
            flat = chain.from_iterable
            v = (r[1] for r in rows)
            s = (r[2] for r in rows)
            if min(counts) < ns:  # pad to the widest
                v = (x + [[0.0] * ls] * (ns - len(x)) for x in v)
                s = (x + [[ABSENT] * ls] * (ns - len(x)) for x in s)
            vals = np.fromiter(flat(flat(v)), dtype=np.float64, count=size).reshape(shape)
            st = np.fromiter(flat(flat(s)), dtype=np.int8, count=size).reshape(shape)
        else:
            vals = np.zeros(shape)
            st = np.zeros(shape, dtype=np.int8)
        out.append(PartSheets(ns, np.array(counts, dtype=np.int64), [r[0] for r in rows],
                              vals, st, [r[3] for r in rows]))
    return out


def from_parsed(items) -> Batch:
    """A batch from packages read one by one (``engine._Parsed`` with the same signature)."""
    first = items[0]
    cs, prep = first.cs, first.prep
    b = len(items)
    nd = len(cs.data_leaves)
    dv = np.array([it.data_v for it in items], dtype=np.float64).reshape(b, nd)
    ds = np.array([it.data_s for it in items], dtype=np.int8).reshape(b, nd)
    codes = None
    if cs.questions:
        codes = (np.concatenate([it.codes for it in items], axis=1) if b > 1
                 else items[0].codes)
    lens = np.array([it.n_resp for it in items], dtype=np.int64)
    return Batch(cs, prep, b, _sheets(cs, [it.sheets for it in items], list(range(b))), dv,
                 ds, [it.data_note for it in items], codes, lens,
                 [it.n_resp for it in items], [it.population for it in items],
                 [it.payment for it in items], [it.warnings for it in items])


def _widen(a: np.ndarray, ns: int, fill) -> np.ndarray:
    """(B, sheets, leaves) padded with ``fill`` to ``ns`` sheets."""
    if a.shape[1] == ns:
        return a
    pad = np.full((a.shape[0], ns - a.shape[1], a.shape[2]), fill, dtype=a.dtype)
    return np.concatenate([a, pad], axis=1)


def concat(batches: list) -> Batch:
    """One batch from batches of the same scheme and sheet counts (in their order)."""
    if len(batches) == 1:
        return batches[0]
    first = batches[0]
    sheets = []
    for k, ps in enumerate(first.sheets):
        if ps is None:
            sheets.append(None)
            continue
        parts = [bt.sheets[k] for bt in batches]
        ns = max(x.ns for x in parts)
        sheets.append(PartSheets(ns, np.concatenate([x.n for x in parts]),
                                 list(chain.from_iterable(x.scorers for x in parts)),
                                 np.concatenate([_widen(x.vals, ns, 0.0) for x in parts]),
                                 np.concatenate([_widen(x.st, ns, ABSENT) for x in parts]),
                                 list(chain.from_iterable(x.notes for x in parts))))
    codes = None
    if first.codes is not None:
        codes = np.concatenate([bt.codes for bt in batches], axis=1)

    def joined(name):
        return list(chain.from_iterable(getattr(bt, name) for bt in batches))

    return Batch(first.cs, first.prep, sum(bt.b for bt in batches), sheets,
                 np.concatenate([bt.dv for bt in batches]),
                 np.concatenate([bt.ds for bt in batches]), joined("data_note"), codes,
                 np.concatenate([bt.lens for bt in batches]), joined("n_resp"),
                 joined("population"), joined("payment"), joined("warnings"))


# ----------------------------------------------------------------------------- reading


def _answers(prep, raws: list, b: int, parse_one, codes_by_question):
    """The answers of all packages as option codes (questions × respondents), and the
    number of respondents of each package.

    The common case — every respondent answers every question with an option of some
    scale — is one pass in C over all the answers: each answer string becomes the code of
    its option in a table shared by all questions, written straight into a numpy array;
    a second table per question then checks that the option belongs to the question's
    scale. When respondents skip questions or answer ``null``, the answers are read question
    by question (still in C, ``codes_by_question``). Anything else is read package by
    package by ``parse_one``; the packages it refuses are suspects.
    """
    lens = np.fromiter(map(len, raws), dtype=np.int64, count=b)
    q = len(prep.questions)
    n = int(lens.sum())
    try:
        rows = map(prep.getter, chain.from_iterable(raws))
        flat = chain.from_iterable(rows) if q > 1 else rows
        g = np.fromiter(map(prep.global_codes.__getitem__, flat), dtype=np.int16, count=n * q)
    except (KeyError, TypeError):
        g = None
    if g is None:  # some skip a question or answer null: read question by question
        rows = list(chain.from_iterable(raws))
        if all(t is dict for t in set(map(type, rows))):
            try:
                g = codes_by_question(prep, rows, n)
            except (KeyError, TypeError):
                pass
    if g is None:  # something else: package by package, to find the faults
        parts = []
        bad = []
        for k, r in enumerate(raws):
            try:
                parts.append(parse_one(r))
            except ValueError:
                bad.append(k)
        if bad:
            raise Suspects(bad)
        return np.concatenate(parts, axis=1), lens
    codes = prep.table[prep.qcol[:q], g.reshape(n, q)]
    if n and codes.min() < -1:  # an option of another question's scale
        rows_bad = np.flatnonzero((codes < -1).any(axis=1))
        raise Suspects(np.repeat(np.arange(b), lens)[rows_bad].tolist())
    return np.ascontiguousarray(codes.T), lens


def read_many(cs, prep, inputs: list, population: list, payment: list, parse_sheets,
              parse_data, parse_responses, codes_by_question):
    """Read the inputs of packages that share the compiled scheme ``cs``.

    ``inputs`` are their ``inputs`` objects (already checked to be dicts with known keys),
    ``population`` and ``payment`` their checked values; ``parse_sheets(raw, warnings)``,
    ``parse_data(raw)`` and ``parse_responses(raw)`` the one-package readers and
    ``codes_by_question(prep, rows, n)`` the reader of answers with gaps. Returns a
    list of ``(positions, Batch)``, one per set of parts that have sheets. Raises
    :class:`Suspects` naming the packages that must be read one by one.
    """
    b = len(inputs)
    warnings: list = [[] for _ in range(b)]
    get = dict.get
    sheets: list = []
    data: list = []
    bad: list = []
    for k, inp in enumerate(inputs):
        try:
            sheets.append(parse_sheets(get(inp, "sheets", _NO_LIST), warnings[k]))
            data.append(parse_data(get(inp, "data", _NO_DICT)))
        except ValueError:
            bad.append(k)
    if bad:
        raise Suspects(bad)
    raws = list(map(get, inputs, repeat("responses"), repeat(_NO_LIST)))
    if any(t is not list for t in set(map(type, raws))):
        raise Suspects([k for k, r in enumerate(raws) if type(r) is not list])
    if prep.questions:
        codes, lens = _answers(prep, raws, b, parse_responses, codes_by_question)
    else:
        codes = None
        lens = np.fromiter(map(len, raws), dtype=np.int64, count=b)
        for k in np.flatnonzero(lens).tolist():
            warnings[k].append(f"数据包有 {int(lens[k])} 份问卷回答, 但指标体系没有问卷类指标, 未使用")
    n_resp = lens.tolist()
    nd = len(cs.data_leaves)
    dv = np.array([d[0] for d in data], dtype=np.float64).reshape(b, nd)
    ds = np.array([d[1] for d in data], dtype=np.int8).reshape(b, nd)
    data_note = [d[2] for d in data]
    # one batch per set of parts that have sheets (sheet counts are padded to the widest)
    groups: dict = {}
    for k, per_part in enumerate(sheets):
        groups.setdefault(tuple(len(pp[0]) > 0 for pp in per_part), []).append(k)
    if len(groups) == 1:
        return [(list(range(b)), Batch(cs, prep, b, _sheets(cs, sheets, list(range(b))), dv,
                                       ds, data_note, codes, lens, n_resp, population,
                                       payment, warnings))]
    out = []
    for ml in groups.values():
        members = np.array(ml, dtype=np.int64)
        gc = None
        if codes is not None:
            mask = np.zeros(b, dtype=bool)
            mask[members] = True
            gc = codes[:, np.repeat(mask, lens)]
        out.append((ml, Batch(cs, prep, len(ml), _sheets(cs, sheets, ml), dv[members],
                              ds[members], _pick(data_note, ml), gc, lens[members],
                              _pick(n_resp, ml), _pick(population, ml), _pick(payment, ml),
                              _pick(warnings, ml))))
    return out
