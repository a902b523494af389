"""Benchmark of the scoring engine (计分引擎基准).

Run: ``python bench/bench_scoring.py`` (``--quick`` for a smaller size). Prints a table of
ratios measured in one run; asserts nothing about timings.

1. ``evaluate_many`` on N evaluations (a 20-leaf two-part scheme, 5 expert sheets and 200
   survey responses each) against a loop of ``evaluate`` on the same packages.
2. ``icc``, ``cronbach_alpha``, ``kendall_w``, ``ahp``, ``topsis``, ``entropy_weights``
   against pingouin / scipy / pymcdm on the same inputs: the largest difference of the
   results and the speed ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import scoring  # noqa: E402

SCALE = {"非常满意": 100, "满意": 80, "一般": 60, "不满意": 30, "非常不满意": 0, "不了解": None}
OPTIONS = list(SCALE)


def bench_scheme() -> dict:
    """A 20-leaf, two-part scheme: 16 expert/data leaves (5 sheets) and 4 survey leaves."""
    tiers = [{"name": "达成", "coefficient": "1"}, {"name": "部分达成", "coefficient": "0.7"},
             {"name": "未达成", "coefficient": "0.3"}]
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
                rule = {"type": "tiers", "tiers": tiers}
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
    # as they would arrive: each package parsed from its own JSON text
    return [json.loads(json.dumps(p, ensure_ascii=False)) for p in out]


def _time(fn, repeat: int = 1, number: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def bench_engine(n: int) -> list[tuple]:
    pkgs = bench_packages(n)
    scoring.evaluate(pkgs[0])  # warm the scheme cache, as an application would be
    t_loop = _time(lambda: [scoring.evaluate(p) for p in pkgs])
    t_many = _time(lambda: scoring.evaluate_many(pkgs))
    single = [scoring.evaluate(p) for p in pkgs]
    many = scoring.evaluate_many(pkgs)
    same = all(a == b for a, b in zip(single, many, strict=True))
    n_dict = min(n, 1000)
    t_dict_loop = _time(lambda: [scoring.evaluate(p).as_dict() for p in pkgs[:n_dict]])
    t_dict_many = _time(lambda: [r.as_dict() for r in scoring.evaluate_many(pkgs[:n_dict])])
    return [
        (f"evaluate × {n} (loop)", t_loop, None, None),
        (f"evaluate_many({n})", t_many, t_loop / t_many, "equal" if same else "DIFFERENT"),
        (f"loop + as_dict() × {n_dict}", t_dict_loop, None, None),
        (f"evaluate_many + as_dict() × {n_dict}", t_dict_many, t_dict_loop / t_dict_many, None),
    ]


def _maxdiff(a, b) -> float:
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    return float(np.max(np.abs(a - b)))


def bench_stats(number: int) -> list[tuple]:
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

    def row(name, ours, ref, refname, diff):
        t_o = _time(ours, repeat=5, number=number)
        t_r = _time(ref, repeat=5, number=number)
        rows.append((name, t_o, t_r / t_o, f"vs {refname}: max |Δ| = {diff:.1e}"))

    from scipy import stats as st

    # Kendall's W against scipy's Friedman statistic (W = χ² / (m (n − 1)))
    n_obj, m = panel.shape

    def ref_w():
        r = st.friedmanchisquare(*panel)
        return r.statistic / (m * (n_obj - 1)), r.pvalue

    ours = scoring.kendall_w(panel)
    rw = ref_w()
    row("kendall_w 20×5", lambda: scoring.kendall_w(panel), ref_w, "scipy friedmanchisquare",
        max(abs(ours.statistic - rw[0]), abs(ours.pvalue - rw[1])))

    try:
        import pandas as pd
        import pingouin as pg
    except ImportError:  # pragma: no cover
        rows.append(("icc / cronbach_alpha", None, None, "pingouin not installed: skipped"))
    else:
        long = pd.DataFrame([(i, j, panel[i, j]) for i in range(n_obj) for j in range(m)],
                            columns=["t", "r", "s"])

        def ref_icc():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return pg.intraclass_corr(long, targets="t", raters="r", ratings="s")

        ref = ref_icc().reset_index(drop=True)
        d = 0.0
        # pingouin ≥ 0.7 names them ICC(1,1), ICC(A,1), ICC(C,1), ICC(1,k), ICC(A,k), ICC(C,k)
        for i, kind in enumerate(("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")):
            o = scoring.icc(panel, kind)
            d = max(d, abs(o.statistic - ref.loc[i, "ICC"]), abs(o.pvalue - ref.loc[i, "pval"]))
        row("icc 20×5 (ICC2k)", lambda: scoring.icc(panel, "ICC2k"), ref_icc,
            "pingouin intraclass_corr", d)
        frame = pd.DataFrame(items)
        ra = pg.cronbach_alpha(frame)
        oa = scoring.cronbach_alpha(items)
        row("cronbach_alpha 200×6", lambda: scoring.cronbach_alpha(items),
            lambda: pg.cronbach_alpha(frame), "pingouin cronbach_alpha",
            abs(oa.statistic - ra[0]))
    try:
        from pymcdm import methods, normalizations
        from pymcdm import weights as pw
    except ImportError:  # pragma: no cover
        rows.append(("ahp / topsis", None, None, "pymcdm not installed: skipped"))
    else:
        top = methods.TOPSIS(normalization_function=normalizations.vector_normalization)
        ot = scoring.topsis(alts, tw, types > 0)
        row("topsis 30×5", lambda: scoring.topsis(alts, tw, types > 0),
            lambda: top(alts, tw, types), "pymcdm TOPSIS (vector)",
            _maxdiff(ot.closeness, top(alts, tw, types)))
        oe = scoring.entropy_weights(alts)
        row("entropy_weights 30×5", lambda: scoring.entropy_weights(alts),
            lambda: pw.entropy_weights(alts), "pymcdm entropy_weights",
            _maxdiff(oe.weights, pw.entropy_weights(alts)))
        ahp_ref = getattr(getattr(pw, "subjective", None), "AHP", None)
        if ahp_ref is not None:
            def ref_ahp():
                return ahp_ref(matrix=ahp_m)()
            oh = scoring.ahp(ahp_m)
            try:
                rv = ref_ahp()
                row("ahp 5×5", lambda: scoring.ahp(ahp_m), ref_ahp, "pymcdm AHP",
                    _maxdiff(oh.weights, rv))
            except Exception as exc:  # pragma: no cover - API differences between versions
                rows.append(("ahp 5×5", None, None, f"pymcdm AHP not comparable: {exc}"))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,000 evaluations instead of 10,000")
    ap.add_argument("-n", type=int, default=None, help="number of evaluations")
    args = ap.parse_args(argv)
    n = args.n or (1000 if args.quick else 10000)
    print(f"scoring benchmark — numpy {np.__version__}, python {sys.version.split()[0]}")
    print(f"\n1. engine: {n} evaluations, 20-leaf two-part scheme, 5 sheets, 200 responses each")
    print(f"{'case':44} {'seconds':>10} {'speed-up':>9}  note")
    for name, t, ratio, note in bench_engine(n):
        print(f"{name:44} {t:10.3f} {'' if ratio is None else f'{ratio:8.1f}×':>9}  {note or ''}")
    number = 50 if args.quick else 200
    print("\n2. statistics against reference libraries (same inputs; time per call)")
    print(f"{'case':24} {'ours (µs)':>10} {'ref/ours':>9}  note")
    for name, t, ratio, note in bench_stats(number):
        if t is None:
            print(f"{name:24} {'':>10} {'':>9}  {note}")
        else:
            print(f"{name:24} {t * 1e6:10.1f} {ratio:8.1f}×  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
