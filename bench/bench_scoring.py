"""Benchmark of the scoring engine (计分引擎基准).

Run: ``python bench/bench_scoring.py`` (``make bench`` runs every bench_*.py), ``--quick``
for a smaller size, ``--json FILE`` to keep the figures. Every figure is a ratio against a
reference measured in the same run, on the same inputs; nothing here asserts a timing.

1. Engine. ``evaluate_many`` on N evaluations (a 20-leaf two-part scheme, 5 expert sheets
   and 200 survey responses each) against a loop of ``evaluate`` on the same packages, and
   the same on a mixed batch (three schemes, 0 to 6 sheets, decimal strings, n/a,
   unanswered questions, payments). Each package is parsed from its own JSON text, as
   packages arrive. Also measured: reading the inputs and nothing else (every answer,
   every sheet entry and the scheme's content key touched once), the floor any batch path
   pays, which bounds the speed-up.
2. Statistics. ``icc``, ``cronbach_alpha``, ``kendall_w``, ``ahp``, ``topsis`` and
   ``entropy_weights`` against pingouin / scipy / pymcdm: the largest absolute difference
   of the results and the speed ratio (target: within 1e-9, and not slower).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import warnings
from collections import deque
from itertools import chain

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import scoring  # noqa: E402

SCALE = {"非常满意": 100, "满意": 80, "一般": 60, "不满意": 30, "非常不满意": 0, "不了解": None}
OPTIONS = list(SCALE)
TIERS = [{"name": "达成", "coefficient": "1"}, {"name": "部分达成", "coefficient": "0.7"},
         {"name": "未达成", "coefficient": "0.3"}]
TOLERANCE = 1e-9


# ----------------------------------------------------------------------------- inputs


def bench_scheme() -> dict:
    """A 20-leaf, two-part scheme: 16 expert/data leaves (5 sheets) and 4 survey leaves."""
    groups = []
    k = 0
    # 4 groups × 4 leaves: 12 points, 2 tiers, 2 data leaves = 100 points
    for g, dim in enumerate(["决策", "过程", "产出", "效益"]):
        pts = [10, 15, 40, 35][g]
        each = [pts // 4] * 4
        each[-1] += pts - sum(each)
        kids = []
        for i in range(4):
            k += 1
            lid = f"E{k:02d}"
            if k in (7, 12):
                rule = {"type": "tiers", "tiers": TIERS}
            elif k == 10:
                rule = {"type": "ratio_ge", "target": "95"}
            elif k == 15:
                rule = {"type": "thresholds", "bands": [
                    {"min": "3", "points": "0"}, {"min": "1", "points": str(each[i] // 2)},
                    {"min": "0", "points": str(each[i])}]}
            else:
                rule = {"type": "points"}
            kids.append({"id": lid, "name": f"指标{lid}", "points": each[i], "rule": rule})
        groups.append({"id": f"G{g}", "name": dim, "dimension": dim, "points": pts,
                       "children": kids})
    survey = [
        {"id": "S1", "name": "总体满意率", "points": 40,
         "rule": {"type": "survey_rate", "questions": ["Q1"], "scale": "s5",
                  "satisfied": ["非常满意", "满意"], "target": "90"}},
        {"id": "S2", "name": "服务态度", "points": 20,
         "rule": {"type": "survey_mean", "questions": ["Q2", "Q3"], "scale": "s5"}},
        {"id": "S3", "name": "服务效果", "points": 20,
         "rule": {"type": "survey_mean", "questions": ["Q4", "Q5"], "scale": "s5"}},
        {"id": "S4", "name": "回访满意率", "points": 20,
         "rule": {"type": "survey_rate", "questions": ["Q6"], "scale": "s5",
                  "satisfied": ["非常满意", "满意"], "target": "85"}},
    ]
    return {
        "name": "基准指标体系", "scales": {"s5": SCALE},
        "parts": [
            {"id": "X", "name": "第三方评价", "party": "third_party", "weight": "0.60",
             "combine": "trimmed_mean", "frame": "national",
             "tree": {"points": 100, "children": groups}},
            {"id": "Y", "name": "服务对象评价", "party": "recipient", "weight": "0.40",
             "combine": "mean", "tree": {"points": 100, "children": survey}},
        ],
    }


def _as_arrived(packages: list) -> list:
    """Each package parsed from its own JSON text, as packages arrive."""
    return [json.loads(json.dumps(p, ensure_ascii=False)) for p in packages]


def bench_packages(n: int, seed: int = 7, responses: int = 200) -> list[dict]:
    rng = np.random.default_rng(seed)
    scheme = bench_scheme()
    leaves = [c for g in scheme["parts"][0]["tree"]["children"] for c in g["children"]]
    out = []
    probs = np.array([0.35, 0.35, 0.15, 0.07, 0.03, 0.05])
    for _ in range(n):
        quality = rng.uniform(0.6, 1.0)
        sheets = []
        for e in range(5):
            scores = {}
            for lf in leaves:
                r = lf["rule"]["type"]
                if r == "points":
                    mx = lf["points"]
                    v = float(np.clip(np.round(mx * (quality + rng.normal(0, 0.08)) * 2) / 2,
                                      0, mx))
                    scores[lf["id"]] = v if v == mx else {"points": v, "reason": "资料不全"}
                elif r == "tiers":
                    scores[lf["id"]] = ["达成", "部分达成", "未达成"][int(rng.integers(0, 3))]
            sheets.append({"part": "X", "scorer": f"专家{e + 1}", "scores": scores})
        codes = rng.choice(len(OPTIONS), size=(responses, 6), p=probs)
        resp = [{f"Q{q + 1}": OPTIONS[c] for q, c in enumerate(row)} for row in codes.tolist()]
        pkg = {"scheme": scheme, "inputs": {
            "sheets": sheets,
            "data": {"E10": round(float(rng.uniform(80, 100)), 1),
                     "E15": int(rng.integers(0, 5))},
            "responses": resp, "population": 2000}}
        out.append(pkg)
    return _as_arrived(out)


def _mixed_scheme(variant: int) -> dict:
    """Three schemes of different shapes: a panel with data, a purchaser's quarterly
    checks with tiers, and a three-party scheme with a survey."""
    sat = {"满意": 100, "较满意": 80, "一般": 60, "不满意": 0, "不了解": None}

    def leaf(lid, pts, rule="points", **kw):
        return {"id": lid, "name": f"指标{lid}", "points": pts, "rule": {"type": rule, **kw}}

    def part(pid, weight, party, combine, *children):
        return {"id": pid, "name": f"部分{pid}", "party": party, "weight": weight,
                "combine": combine, "tree": {"points": 100, "children": list(children)}}

    if variant == 0:
        return {"parts": [part("T", "1", "third_party", "median",
                               *[leaf(f"A{i}", 10) for i in range(8)],
                               leaf("D1", 10, "ratio_le", target="30"),
                               leaf("D2", 10, "thresholds", bands=[
                                   {"min": "2", "points": "0"}, {"min": "0", "points": "10"}]))]}
    if variant == 1:
        return {"missing": "zero", "parts": [part(
            "P", "1", "purchaser", "mean", *[leaf(f"B{i}", 20, "tiers", tiers=TIERS)
                                             for i in range(3)], leaf("B3", 40))]}
    return {"scales": {"sat": sat}, "parts": [
        part("P", "0.3", "purchaser", "mean", leaf("P1", 50), leaf("P2", 50, "tiers",
                                                                    tiers=TIERS)),
        part("R", "0.3", "recipient", "mean",
             leaf("R1", 60, "survey_rate", questions=["Q1"], scale="sat",
                  satisfied=["满意", "较满意"], target="90"),
             leaf("R2", 40, "survey_mean", questions=["Q2", "Q3", "Q4"], scale="sat")),
        part("T", "0.4", "third_party", "trimmed_mean", *[leaf(f"C{i}", 20) for i in range(4)],
             leaf("C4", 20, "ratio_ge", target="100"))]}


def mixed_packages(n: int, seed: int = 11) -> list[dict]:
    """A realistic mixed batch: three schemes, 0 to 6 sheets, unusual but valid forms."""
    rnd = random.Random(seed)
    schemes = [_mixed_scheme(v) for v in range(3)]
    sat = ["满意", "较满意", "一般", "不满意", "不了解"]
    out = []
    for _ in range(n):
        v = rnd.randrange(3)
        sch = schemes[v]
        sheets = []
        for part in sch["parts"]:
            kids = [c for c in part["tree"]["children"]
                    if c["rule"]["type"] in ("points", "tiers")]
            if not kids:
                continue
            for e in range(rnd.choice([0, 1, 2, 3, 4, 5, 5, 6] if v != 1 else [1, 2, 4])):
                scores = {}
                for c in kids:
                    r = rnd.random()
                    if c["rule"]["type"] == "tiers":
                        scores[c["id"]] = rnd.choice(["达成", "部分达成", "未达成",
                                                      {"tier": "部分达成", "reason": "延误"}])
                    elif r < 0.05:
                        scores[c["id"]] = {"na": "本年度未发生"}
                    elif r < 0.1:
                        scores[c["id"]] = f"{rnd.randint(0, 2 * c['points']) / 2}"
                    elif r < 0.12:
                        continue  # missing on this sheet
                    else:
                        x = rnd.randint(c["points"], 2 * c["points"]) / 2
                        scores[c["id"]] = x if x == c["points"] else {"points": x,
                                                                      "reason": "扣分"}
                sheets.append({"part": part["id"], "scorer": f"E{e}", "scores": scores})
        data = {}
        for part in sch["parts"]:
            for c in part["tree"]["children"]:
                if c["rule"]["type"] in ("ratio_le", "ratio_ge", "thresholds"):
                    data[c["id"]] = rnd.choice([rnd.uniform(0, 120), {"value": 3, "source": "台账"},
                                                rnd.randint(0, 4)])
        responses = []
        if v == 2:
            for _ in range(rnd.randint(20, 300)):
                r = {q: rnd.choice(sat) for q in ("Q1", "Q2", "Q3", "Q4")}
                if rnd.random() < 0.1:
                    del r["Q3"]  # skipped
                responses.append(r)
        pkg = {"scheme": sch, "inputs": {"sheets": sheets, "data": data,
                                         "responses": responses}}
        if rnd.random() < 0.5:
            pkg["inputs"]["population"] = rnd.choice([300, 1000])
            pkg["payment"] = {"amount": "250000.00", "rule": {"bands": [
                {"min": "90", "ratio": "1"}, {"min": "80", "ratio": "0.95"},
                {"min": "60", "ratio": "0.8"}]}}
        out.append(pkg)
    return _as_arrived(out)


# ----------------------------------------------------------------------------- timing


def _time(fn, repeat: int = 1, number: int = 1) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds per call."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(number):
            fn()
        best_wall = min(best_wall, (time.perf_counter() - w0) / number)
        best_cpu = min(best_cpu, (time.process_time() - c0) / number)
    return best_wall, best_cpu


def read_inputs_only(pkgs: list) -> None:
    """Touch every input value once and do nothing with it: the floor of any batch path."""
    import marshal

    for p in pkgs:
        marshal.dumps(p["scheme"])
        inp = p["inputs"]
        for sh in inp.get("sheets", ()):
            for v in sh["scores"].values():
                if type(v) is dict:
                    deque(v.values(), 0)
        deque(map(len, chain.from_iterable(map(dict.values, inp.get("responses", ())))), 0)


def bench_engine(n: int, n_mixed: int, rounds: int = 3) -> list[dict]:
    rows = []
    for label, pkgs in ((f"two-part scheme × {n}", bench_packages(n)),
                        (f"mixed batch × {n_mixed}", mixed_packages(n_mixed))):
        scoring.evaluate(pkgs[0])  # warm the scheme cache, as an application would be
        scoring.evaluate_many(pkgs[:10])
        single = [scoring.evaluate(p) for p in pkgs]
        many = scoring.evaluate_many(pkgs)
        same = single == many and all(a.as_dict() == b.as_dict() for a, b in
                                      zip(single[:200], many[:200], strict=True))
        # loop, batch and floor in turn, round after round: on a shared machine each
        # round's ratio compares the two paths under the same conditions
        loops, batches, floors = [], [], []
        for _ in range(rounds):
            loops.append(_time(lambda pk=pkgs: [scoring.evaluate(p) for p in pk]))
            batches.append(_time(lambda pk=pkgs: scoring.evaluate_many(pk)))
            floors.append(_time(lambda pk=pkgs: read_inputs_only(pk)))
        cpu_ratios = sorted(lo[1] / ba[1] for lo, ba in zip(loops, batches, strict=True))
        loop, batch, floor = min(loops), min(batches), min(floors)
        rows.append({"case": label, "n": len(pkgs), "loop_s": loop[0], "many_s": batch[0],
                     "speedup": loop[0] / batch[0], "speedup_cpu": loop[1] / batch[1],
                     "rounds_cpu": cpu_ratios,
                     "floor_s": floor[0], "ceiling": loop[0] / floor[0],
                     "equal": same})
    m = min(n, 1000)
    pkgs = bench_packages(m)
    loop = _time(lambda: [scoring.evaluate(p).as_dict() for p in pkgs])
    batch = _time(lambda: [r.as_dict() for r in scoring.evaluate_many(pkgs)])
    rows.append({"case": f"with as_dict() × {m}", "n": m, "loop_s": loop[0],
                 "many_s": batch[0], "speedup": loop[0] / batch[0],
                 "speedup_cpu": loop[1] / batch[1], "floor_s": None, "ceiling": None,
                 "equal": None})
    return rows


# ----------------------------------------------------------------------------- statistics


def _maxdiff(a, b) -> float:
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    return float(np.max(np.abs(a - b)))


def bench_stats(number: int) -> list[dict]:
    rows = []
    rng = np.random.default_rng(11)
    panel = np.clip(np.round(rng.normal(7, 1.5, (20, 5)) + rng.normal(0, 1, (20, 1)), 1), 0, 10)
    items = rng.integers(1, 6, (200, 6)).astype(float)
    items[:, 1:] = np.clip(items[:, :1] + rng.integers(-1, 2, (200, 5)), 1, 5)
    ahp_m = np.array([[1, 3, 5, 7, 9], [1 / 3, 1, 3, 5, 7], [1 / 5, 1 / 3, 1, 3, 5],
                      [1 / 7, 1 / 5, 1 / 3, 1, 3], [1 / 9, 1 / 7, 1 / 5, 1 / 3, 1]])
    alts = rng.uniform(1, 100, (30, 5))
    tw = np.array([0.3, 0.2, 0.2, 0.15, 0.15])
    types = np.array([1, 1, -1, 1, -1])

    def row(name, ours, ref, refname, diff, what):
        t_o = _time(ours, repeat=5, number=number)[0]
        t_r = _time(ref, repeat=5, number=number)[0]
        rows.append({"case": name, "ours_us": t_o * 1e6, "ref_us": t_r * 1e6,
                     "speedup": t_r / t_o, "reference": refname, "max_diff": diff,
                     "compared": what,
                     "ok": diff <= TOLERANCE and t_r >= t_o})

    from scipy import linalg
    from scipy import stats as st

    # Kendall's W against scipy's Friedman test (W = χ² / (m (n − 1)), same p-value)
    n_obj, m = panel.shape

    def ref_w():
        r = st.friedmanchisquare(*panel)
        return r.statistic / (m * (n_obj - 1)), r.pvalue

    ours = scoring.kendall_w(panel)
    rw = ref_w()
    row("kendall_w 20×5", lambda: scoring.kendall_w(panel), ref_w,
        "scipy friedmanchisquare", max(abs(ours.statistic - rw[0]), abs(ours.pvalue - rw[1])),
        "W, p-value")

    try:
        import pandas as pd
        import pingouin as pg
    except ImportError:  # pragma: no cover
        rows.append({"case": "icc / cronbach_alpha", "skipped": "pingouin not installed"})
    else:
        long = pd.DataFrame([(i, j, panel[i, j]) for i in range(n_obj) for j in range(m)],
                            columns=["t", "r", "s"])
        kinds = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")

        def ref_icc():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return pg.intraclass_corr(long, targets="t", raters="r", ratings="s")

        ref = ref_icc().reset_index(drop=True)
        d = 0.0
        # pingouin ≥ 0.7 names them ICC(1,1), ICC(A,1), ICC(C,1), ICC(1,k), ICC(A,k), ICC(C,k)
        for i, kind in enumerate(kinds):
            o = scoring.icc(panel, kind)
            d = max(d, abs(o.statistic - ref.loc[i, "ICC"]), abs(o.pvalue - ref.loc[i, "pval"]),
                    abs(o.f - ref.loc[i, "F"]), abs(o.df1 - ref.loc[i, "df1"]),
                    abs(o.df2 - ref.loc[i, "df2"]))
        row("icc 20×5, all six kinds", lambda: [scoring.icc(panel, k) for k in kinds], ref_icc,
            "pingouin intraclass_corr", d, "ICC, F, df1, df2, p-value (pingouin rounds its "
            "intervals to 2 decimals)")
        frame = pd.DataFrame(items)
        ra = pg.cronbach_alpha(frame)
        oa = scoring.cronbach_alpha(items)
        n_i, k_i = items.shape
        df1, df2 = n_i - 1, (n_i - 1) * (k_i - 1)
        feldt = (1 - (1 - ra[0]) * st.f.isf(0.025, df1, df2),
                 1 - (1 - ra[0]) * st.f.isf(0.975, df1, df2))
        row("cronbach_alpha 200×6", lambda: scoring.cronbach_alpha(items),
            lambda: pg.cronbach_alpha(frame), "pingouin cronbach_alpha",
            max(abs(oa.statistic - ra[0]), abs(oa.ci_low - feldt[0]),
                abs(oa.ci_high - feldt[1])),
            "alpha; interval against Feldt's with scipy's F (pingouin rounds it to 3 decimals)")
    try:
        from pymcdm import methods, normalizations
        from pymcdm import weights as pw
    except ImportError:  # pragma: no cover
        rows.append({"case": "ahp / topsis / entropy", "skipped": "pymcdm not installed"})
    else:
        top = methods.TOPSIS(normalization_function=normalizations.vector_normalization)
        ot = scoring.topsis(alts, tw, types > 0)
        row("topsis 30×5", lambda: scoring.topsis(alts, tw, types > 0),
            lambda: top(alts, tw, types), "pymcdm TOPSIS (vector normalisation)",
            _maxdiff(ot.closeness, top(alts, tw, types)), "closeness")
        oe = scoring.entropy_weights(alts)
        row("entropy_weights 30×5", lambda: scoring.entropy_weights(alts),
            lambda: pw.entropy_weights(alts), "pymcdm entropy_weights",
            _maxdiff(oe.weights, pw.entropy_weights(alts)), "weights")
        from pymcdm.weights.subjective import AHP

        def ref_ahp():
            model = AHP(matrix=ahp_m)
            return model(), float(max(linalg.eigvals(ahp_m).real))

        oh = scoring.ahp(ahp_m)
        rv, lam = ref_ahp()
        row("ahp 5×5", lambda: scoring.ahp(ahp_m), ref_ahp, "pymcdm AHP + scipy eigvals",
            max(_maxdiff(oh.weights, rv), abs(oh.lambda_max - lam)),
            "weights, λmax (CR uses Saaty's RI; pymcdm uses Tummala & Ling's)")
    return rows


# ----------------------------------------------------------------------------- report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,000 evaluations instead of 10,000")
    ap.add_argument("-n", type=int, default=None, help="number of evaluations")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)
    n = args.n or (1000 if args.quick else 10000)
    n_mixed = max(n // 3, 100)
    print(f"scoring benchmark — numpy {np.__version__}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPU(s)")
    print("\n1. engine: evaluate_many against a loop of evaluate (wall clock, best run)")
    print(f"{'case':30} {'loop s':>8} {'many s':>8} {'speed-up':>9} {'(cpu)':>7} "
          f"{'floor s':>8} {'ceiling':>8}  results  rounds (cpu)")
    engine = bench_engine(n, n_mixed)
    for r in engine:
        floor = "" if r["floor_s"] is None else f"{r['floor_s']:8.3f}"
        ceil = "" if r["ceiling"] is None else f"{r['ceiling']:7.1f}×"
        eq = {True: "equal", False: "DIFFERENT", None: ""}[r["equal"]]
        each = " ".join(f"{x:.1f}×" for x in r.get("rounds_cpu", ()))
        print(f"{r['case']:30} {r['loop_s']:8.3f} {r['many_s']:8.3f} {r['speedup']:8.1f}× "
              f"{r['speedup_cpu']:6.1f}× {floor:>8} {ceil:>8}  {eq:9} {each}")
    print("   floor: reading the inputs only; ceiling = loop / floor, the most any batch "
          "path could gain;\n   rounds: loop and batch timed in turn, each round's CPU "
          "speed-up (the figures above are the best round of each)")
    number = 50 if args.quick else 200
    print(f"\n2. statistics against reference libraries (same inputs; time per call; "
          f"target |Δ| ≤ {TOLERANCE:g} and not slower)")
    print(f"{'case':26} {'ours µs':>9} {'ref µs':>9} {'ref/ours':>9} {'max |Δ|':>9}  "
          f"reference (compared)")
    stats = bench_stats(number)
    for r in stats:
        if "skipped" in r:
            print(f"{r['case']:26} {'':>9} {'':>9} {'':>9} {'':>9}  {r['skipped']}")
            continue
        flag = "" if r["ok"] else "  ← MISSES THE TARGET"
        print(f"{r['case']:26} {r['ours_us']:9.1f} {r['ref_us']:9.1f} {r['speedup']:8.1f}× "
              f"{r['max_diff']:9.1e}  {r['reference']} ({r['compared']}){flag}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"numpy": np.__version__, "python": sys.version.split()[0],
                       "cpus": os.cpu_count(), "n": n, "engine": engine, "stats": stats},
                      fh, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
