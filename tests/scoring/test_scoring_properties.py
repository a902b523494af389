"""Properties of the scoring model, checked on generated schemes and inputs (hypothesis)."""

from __future__ import annotations

import copy
import json
import os
import pickle
import re
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scoring_builders import SAT

import scoring

# SCORING_EXAMPLES=600 for a deeper run
SETTINGS = settings(max_examples=int(os.environ.get("SCORING_EXAMPLES", "60")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TIERS = [{"name": "达成", "coefficient": "1"}, {"name": "部分达成", "coefficient": "0.7"},
         {"name": "未达成", "coefficient": "0.3"}]
QUESTIONS = ["Q1", "Q2", "Q3"]
OPTIONS = list(SAT) + [None]


def split(draw, total: int, n: int) -> list[int]:
    cuts = sorted(draw(st.lists(st.integers(1, total - 1), min_size=n - 1, max_size=n - 1,
                                unique=True))) if n > 1 else []
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def rule(draw, pts: int, kinds) -> dict:
    kind = draw(st.sampled_from(kinds))
    if kind == "tiers":
        return {"type": "tiers", "tiers": TIERS}
    if kind in ("ratio_ge", "ratio_le"):
        return {"type": kind, "target": str(draw(st.integers(1, 100)))}
    if kind == "thresholds":
        lows = sorted(draw(st.lists(st.integers(0, 50), min_size=1, max_size=3, unique=True)),
                      reverse=True)
        return {"type": "thresholds",
                "bands": [{"min": str(lo), "points": str(draw(st.integers(0, pts)))}
                          for lo in lows]}
    if kind == "survey_mean":
        return {"type": kind, "scale": "sat",
                "questions": draw(st.lists(st.sampled_from(QUESTIONS), min_size=1, max_size=2,
                                           unique=True))}
    if kind == "survey_rate":
        return {"type": kind, "scale": "sat", "satisfied": ["满意", "较满意"],
                "target": str(draw(st.integers(50, 100))),
                "questions": draw(st.lists(st.sampled_from(QUESTIONS), min_size=1, max_size=2,
                                           unique=True))}
    return {"type": "points"}


ALL_RULES = ("points", "points", "tiers", "ratio_ge", "ratio_le", "thresholds", "survey_mean",
             "survey_rate")


@st.composite
def schemes(draw, kinds=ALL_RULES, combines=("mean", "median", "trimmed_mean"),
            policies=("block", "zero", "redistribute")):
    n_parts = draw(st.integers(1, 3))
    weights = split(draw, 100, n_parts)
    parts = []
    k = 0
    for pi in range(n_parts):
        n = draw(st.integers(1, 5))
        pts = split(draw, 100, n)
        leaves = []
        for p in pts:
            k += 1
            leaves.append({"id": f"L{k}", "name": f"指标{k}", "points": p,
                           "rule": rule(draw, p, kinds)})
        children = leaves
        if n >= 3 and draw(st.booleans()):
            children = [{"id": f"G{pi}", "name": "分组", "points": leaves[0]["points"]
                         + leaves[1]["points"], "children": leaves[:2]}, *leaves[2:]]
        parts.append({"id": f"P{pi}", "name": f"部分{pi}", "party": "third_party",
                      "weight": str(Decimal(weights[pi]) / 100),
                      "combine": draw(st.sampled_from(combines)),
                      "tree": {"points": 100, "children": children}})
    return {"parts": parts, "scales": {"sat": SAT}, "missing": draw(st.sampled_from(policies))}


def leaves_of(sch):
    def walk(node):
        if "children" in node:
            for c in node["children"]:
                yield from walk(c)
        else:
            yield node
    for p in sch["parts"]:
        for lf in walk(p["tree"]):
            yield p["id"], lf


@st.composite
def inputs(draw, sch, allow_na=True, allow_missing=True, min_sheets=0):
    choices = ["value"] * 6 + (["na"] if allow_na else []) + (["missing"] if allow_missing
                                                             else [])
    sheets = []
    data = {}
    for p in sch["parts"]:
        sheet_leaves = [lf for pid, lf in leaves_of(sch)
                        if pid == p["id"] and lf["rule"]["type"] in ("points", "tiers")]
        if not sheet_leaves:
            continue
        for s in range(draw(st.integers(min_sheets, 6))):
            scores = {}
            for lf in sheet_leaves:
                c = draw(st.sampled_from(choices))
                if c == "na":
                    scores[lf["id"]] = {"na": "不适用"}
                elif c == "value":
                    if lf["rule"]["type"] == "tiers":
                        scores[lf["id"]] = draw(st.sampled_from(["达成", "部分达成", "未达成"]))
                    else:
                        scores[lf["id"]] = draw(st.integers(0, 2 * lf["points"])) / 2
            sheets.append({"part": p["id"], "scorer": f"S{s}", "scores": scores})
    for _, lf in leaves_of(sch):
        if lf["rule"]["type"] in ("ratio_ge", "ratio_le", "thresholds"):
            c = draw(st.sampled_from(choices))
            if c == "na":
                data[lf["id"]] = {"na": "不适用"}
            elif c == "value":
                data[lf["id"]] = draw(st.integers(0, 400)) / 4
    responses = []
    for _ in range(draw(st.integers(0 if allow_missing else 1, 25))):
        r = {}
        for q in QUESTIONS:
            o = draw(st.sampled_from(OPTIONS if allow_missing else list(SAT)[:4]))
            if o is not None:
                r[q] = o
        responses.append(r)
    return {"scheme": sch, "inputs": {"sheets": sheets, "data": data, "responses": responses}}


@st.composite
def packages(draw, **kw):
    sch = draw(schemes())
    return draw(inputs(sch, **kw))


# ----------------------------------------------------------------------------- weights


@SETTINGS
@given(st.integers(1, 8).flatmap(lambda n: st.lists(
    st.sampled_from([1 / 9, 1 / 7, 1 / 5, 1 / 3, 1, 3, 5, 7, 9]),
    min_size=n * (n - 1) // 2, max_size=n * (n - 1) // 2).map(lambda v: (n, v))),
    st.sampled_from(["eigen", "geometric"]))
def test_ahp_weights_are_positive_and_sum_to_one(nv, method):
    n, values = nv
    m = np.ones((n, n))
    it = iter(values)
    for i in range(n):
        for j in range(i + 1, n):
            m[i, j] = next(it)
            m[j, i] = 1 / m[i, j]
    res = scoring.ahp(m, method=method)
    assert res.weights.sum() == np.float64(1.0) or abs(res.weights.sum() - 1) < 1e-12
    assert (res.weights > 0).all()
    assert res.cr >= 0 and res.consistent == (res.cr < 0.10)


@SETTINGS
@given(st.lists(st.lists(st.integers(0, 1000), min_size=3, max_size=3), min_size=2, max_size=9))
def test_entropy_weights_sum_to_one(rows):
    x = np.array(rows, dtype=float)
    assume(not (x == x[0]).all(axis=0).all())
    w = scoring.entropy_weights(x).weights
    assert abs(w.sum() - 1) < 1e-12 and (w >= 0).all()
    assert (w[(x == x[0]).all(axis=0)] == 0).all()



@SETTINGS
@given(st.lists(st.lists(st.integers(-1000, 1000), min_size=3, max_size=3), min_size=2,
                max_size=9),
       st.lists(st.booleans(), min_size=3, max_size=3),
       st.lists(st.integers(1, 50), min_size=3, max_size=3),
       st.lists(st.integers(-500, 500), min_size=3, max_size=3))
def test_entropy_weights_with_directions_ignore_each_criterions_unit_and_origin(
        rows, benefit, scale, shift):
    """Standardised by range and direction, a criterion weighs the same whatever its unit
    and origin, and a cost weighs as its negative taken as a benefit."""
    x = np.array(rows, dtype=float)
    assume(not (x == x[0]).all(axis=0).all())
    res = scoring.entropy_weights(x, benefit=benefit)
    assert abs(res.weights.sum() - 1) < 1e-12 and (res.weights >= 0).all()
    moved = scoring.entropy_weights(x * np.array(scale) + np.array(shift), benefit=benefit)
    np.testing.assert_allclose(moved.weights, res.weights, atol=1e-9)
    flipped = scoring.entropy_weights(-x, benefit=[not b for b in benefit])
    np.testing.assert_allclose(flipped.weights, res.weights, atol=1e-12)

@SETTINGS
@given(st.lists(st.integers(1, 1000), min_size=2, max_size=9).flatmap(
           lambda a: st.tuples(st.just(a), st.lists(st.integers(0, 1000), min_size=len(a),
                                                    max_size=len(a)))),
       st.floats(0, 1))
def test_combined_weights_are_weights_between_the_two_they_combine(pair, share):
    raw_s, raw_o = pair
    assume(sum(raw_o) > 0)
    s = np.array(raw_s, dtype=float) / sum(raw_s)
    o = np.array(raw_o, dtype=float) / sum(raw_o)
    res = scoring.combined_weights(s, o, share)
    assert abs(res.weights.sum() - 1) < 1e-12 and (res.weights >= 0).all()
    low, high = np.minimum(s, o), np.maximum(s, o)
    assert ((res.weights >= low - 1e-15) & (res.weights <= high + 1e-15)).all()
    # more share to the judgement never moves a weight away from the judgement's
    more = scoring.combined_weights(s, o, min(1.0, share + 0.25))
    assert (np.abs(more.weights - s) <= np.abs(res.weights - s) + 1e-15).all()


@SETTINGS
@given(st.lists(st.integers(0, 100), min_size=2, max_size=30),
       st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_a_bounded_mean_interval_lies_on_the_scale_and_holds_the_mean(values, confidence):
    plain = scoring.mean_ci(values, confidence)
    res = scoring.mean_ci(values, confidence, bounds=(0, 100))
    assert 0 <= res.low <= res.estimate <= res.high <= 100
    assert res.estimate == plain.estimate
    assert (res.low, res.high) == (max(plain.low, 0), min(plain.high, 100))


# ----------------------------------------------------------------------------- evaluation


@SETTINGS
@given(packages())
def test_total_lies_within_0_and_100_and_leaves_within_their_points(pkg):
    res = scoring.evaluate(pkg)
    assert sum(p.weight for p in res.parts) == Decimal(1)  # party weights, exactly
    if res.total is not None:
        assert Decimal(0) <= res.total <= Decimal(100)
        assert res.grade is not None
    for node in res.nodes.values():
        if node.score is not None:
            assert -1e-9 <= node.score <= float(node.points) + 1e-9
    for p in res.parts:
        if p.score is not None:
            assert -1e-9 <= p.score <= 100 + 1e-9
    json.dumps(res.as_dict(), allow_nan=False)


@SETTINGS
@given(st.data())
def test_raising_one_leaf_never_lowers_the_total(data):
    # Mean-combined parts may have n/a and missing leaves; median and trimmed mean choose
    # sheets by totals, which is monotone when every sheet scores every leaf.
    combine = data.draw(st.sampled_from(["mean", "median", "trimmed_mean"]))
    complete = combine != "mean"
    sch = data.draw(schemes(combines=(combine,)))
    pkg = data.draw(inputs(sch, allow_na=not complete, allow_missing=not complete))
    cands = [(i, lid) for i, s in enumerate(pkg["inputs"]["sheets"])
             for lid, v in s["scores"].items() if isinstance(v, float)]
    assume(cands)
    i, lid = data.draw(st.sampled_from(cands))
    mx = next(lf["points"] for _, lf in leaves_of(sch) if lf["id"] == lid)
    old = pkg["inputs"]["sheets"][i]["scores"][lid]
    assume(old < mx)
    higher = copy.deepcopy(pkg)
    higher["inputs"]["sheets"][i]["scores"][lid] = data.draw(
        st.integers(int(old * 2) + 1, 2 * mx)) / 2
    a, b = scoring.evaluate(pkg), scoring.evaluate(higher)
    if a.total is not None:
        assert b.total >= a.total
        assert b.exact_total >= a.exact_total - 1e-9


@SETTINGS
@given(packages(), st.randoms(use_true_random=False))
def test_permuting_sheets_or_respondents_changes_nothing(pkg, rnd):
    res = scoring.evaluate(pkg)
    shuffled = copy.deepcopy(pkg)
    rnd.shuffle(shuffled["inputs"]["sheets"])
    rnd.shuffle(shuffled["inputs"]["responses"])
    again = scoring.evaluate(shuffled)
    assert again == res
    assert again.as_dict() == res.as_dict()
    assert scoring.evaluate_many([shuffled, pkg, shuffled]) == [res, res, res]


@SETTINGS
@given(st.lists(packages(), min_size=1, max_size=4), st.data())
def test_batch_equals_single(pkgs, data):
    # several packages of the same schemes with other inputs, so the batch has real groups
    extra = [data.draw(inputs(p["scheme"])) for p in pkgs]
    allp = pkgs + extra + pkgs
    many = scoring.evaluate_many(allp)
    single = [scoring.evaluate(p) for p in allp]
    assert many == single
    assert [r.as_dict() for r in many] == [r.as_dict() for r in single]


CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
PAYMENT_RULES = [None, {"bands": [{"min": "90", "ratio": "1"}, {"min": "60", "ratio": "0.8"}]},
                 {"linear": {"floor": "60"}},
                 {"linear": {"floor": "60", "full": "95", "floor_ratio": "0.5"}}]


def in_ascii(pkg) -> dict:
    """The package with every Chinese word people typed in it (names, tiers, options,
    reasons) renamed, consistently, to an ASCII one, and its grades named A to D."""
    alias: dict[str, str] = {}

    def renamed(value):
        if isinstance(value, dict):
            return {renamed(k): renamed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [renamed(v) for v in value]
        if isinstance(value, str) and CHINESE.search(value):
            return alias.setdefault(value, f"w{len(alias)}")
        return value

    out = renamed(pkg)
    out["scheme"]["grades"] = [{"name": n, "min": lo} for n, lo in
                               (("A", "90"), ("B", "80"), ("C", "60"), ("D", "0"))]
    return out


@SETTINGS
@given(packages(), st.sampled_from(PAYMENT_RULES), st.sampled_from([None, 20, 5000]))
def test_every_sentence_of_the_engine_reads_again_in_chinese_and_in_english(pkg, rule,
                                                                           population):
    """The trace and the warnings are ``scoring.Text``: the same Chinese when rendered with
    their own templates, and no Chinese word left when rendered with the application's
    English catalogue (where the names people typed are not Chinese)."""
    from evalplatform.i18n import translations

    english = translations("en").gettext
    pkg = in_ascii(pkg)
    if rule is not None:
        pkg["payment"] = {"amount": "120000.00", "rule": rule}
    if population is not None:
        pkg["inputs"]["population"] = population
    res = scoring.evaluate(pkg)
    sentences = [line.text for line in res.trace] + list(res.warnings)
    assert sentences
    for text in sentences:
        assert isinstance(text, scoring.Text)
        assert scoring.render(text, lambda template: template) == text
        assert not CHINESE.search(scoring.render(text, english)), text
    assert pickle.loads(pickle.dumps(res.trace)) == res.trace
    again = scoring.evaluate_many([pkg])[0]
    assert [scoring.render(line.text, english) for line in again.trace] \
        == [scoring.render(line.text, english) for line in res.trace]


def rewritten(draw, pkg) -> dict:
    """The same package with its inputs written in the other valid forms of the format:
    whole numbers, decimal strings (with spaces), score and data objects with or without
    reasons and sources, null answers, keys that are not questions."""
    p = copy.deepcopy(pkg)
    rules = {lf["id"]: lf["rule"]["type"] for _, lf in leaves_of(p["scheme"])}
    pick = lambda *forms: draw(st.sampled_from(forms))  # noqa: E731
    for sh in p["inputs"]["sheets"]:
        for lid, v in list(sh["scores"].items()):
            if isinstance(v, dict):  # n/a
                sh["scores"][lid] = pick(v, {**v, "reason": "另有说明"})
            elif rules[lid] == "tiers":
                sh["scores"][lid] = pick(v, {"tier": v}, {"tier": v, "reason": "延误"},
                                         {"tier": v, "reason": None})
            else:
                whole = int(v) if v == int(v) else v
                sh["scores"][lid] = pick(v, whole, str(v), f" {v} ", {"points": v},
                                         {"points": str(v), "reason": "资料不全"},
                                         {"points": whole, "reason": None})
    data = p["inputs"]["data"]
    for lid, v in list(data.items()):
        if not isinstance(v, dict):
            data[lid] = pick(v, str(v), {"value": v}, {"value": str(v), "source": "台账"},
                             {"value": v, "source": None})
    for r in p["inputs"]["responses"]:
        for q in QUESTIONS:
            if q not in r and draw(st.booleans()):
                r[q] = None
        if draw(st.booleans()):
            r["备注"] = pick("无", 5, None, ["x"])  # not a question: ignored
    return p


@SETTINGS
@given(st.lists(packages(), min_size=1, max_size=3), st.data())
def test_batch_equals_single_whatever_form_the_inputs_are_written_in(pkgs, data):
    allp = [rewritten(data.draw, p) for p in pkgs] + pkgs + [rewritten(data.draw, p)
                                                             for p in pkgs]
    many = scoring.evaluate_many(allp)
    single = [scoring.evaluate(p) for p in allp]
    assert many == single
    assert [r.as_dict() for r in many] == [r.as_dict() for r in single]


BAD_VALUES = (True, None, [], "1e3", "abc", -1, 10 ** 400, float("nan"), 1e9, {}, {"reason": "x"},
              {"points": None}, {"points": 1, "reason": ""}, {"points": 1, "reason": 5},
              {"tier": 1}, {"tier": "超额达成"}, {"na": ""}, {"na": None}, {"na": 5},
              {"value": 1, "source": " "}, {"source": "台账"}, "超额达成", 1)


def faulty(draw, pkg) -> dict:
    """The package with one input replaced by something that may be a fault."""
    p = copy.deepcopy(pkg)
    inp = p["inputs"]
    where = []
    for i, sh in enumerate(inp["sheets"]):
        where += [("sheet", i), ("part", i), ("scorer", i), ("scores", i), ("twice", i)]
        where += [("score", i, lid) for lid in sh["scores"]] + [("leaf", i)]
    where += [("datum", lid) for lid in inp["data"]] + [("data", None)]
    where += [("row", i) for i in range(len(inp["responses"]))]
    where += [("answer", i) for i, r in enumerate(inp["responses"]) if r]
    where += [("responses", None), ("population", None), ("top", None)]
    w = draw(st.sampled_from(where))
    bad = draw(st.sampled_from(BAD_VALUES))
    if w[0] == "sheet":
        inp["sheets"][w[1]] = draw(st.sampled_from([["x"], "x", None, 3]))
    elif w[0] == "part":
        inp["sheets"][w[1]]["part"] = draw(st.sampled_from(["ZZ", ["P0"], None, 1]))
    elif w[0] == "scorer":
        inp["sheets"][w[1]]["scorer"] = draw(st.sampled_from(["", " ", 5, None, ["S"]]))
    elif w[0] == "scores":
        inp["sheets"][w[1]]["scores"] = draw(st.sampled_from([[], "x", None]))
    elif w[0] == "twice":
        inp["sheets"].append(copy.deepcopy(inp["sheets"][w[1]]))
    elif w[0] == "score":
        inp["sheets"][w[1]]["scores"][w[2]] = bad
    elif w[0] == "leaf":
        other = [lf["id"] for _, lf in leaves_of(p["scheme"])] + ["ZZ"]
        inp["sheets"][w[1]]["scores"][draw(st.sampled_from(other))] = 1
    elif w[0] == "datum":
        inp["data"][w[1]] = bad
    elif w[0] == "data":
        inp["data"][draw(st.sampled_from(["ZZ", "L1"]))] = 1
    elif w[0] == "row":
        inp["responses"][w[1]] = draw(st.sampled_from([["满意"], "满意", None]))
    elif w[0] == "answer":
        r = inp["responses"][w[1]]
        r[draw(st.sampled_from(sorted(r)))] = draw(st.sampled_from(["超满意", 5, ["满意"], True]))
    elif w[0] == "responses":
        inp["responses"] = draw(st.sampled_from([{"Q1": "满意"}, "x", None]))
    elif w[0] == "population":
        inp["population"] = draw(st.sampled_from([0, -3, True, "5", 2.5]))
    else:
        p[draw(st.sampled_from(["extra", "inputs"]))] = draw(st.sampled_from([None, 1, {}]))
    return p


@SETTINGS
@given(packages(), st.data())
def test_a_fault_anywhere_is_refused_in_a_batch_as_alone(pkg, data):
    bad = faulty(data.draw, pkg)
    good = [pkg, data.draw(inputs(pkg["scheme"]))]
    try:
        alone = scoring.evaluate(bad)
    except scoring.PackageError as exc:
        try:
            scoring.evaluate_many([good[0], bad, good[1]])
        except scoring.PackageError as got:
            assert (got.index, got.path, got.message) == (1, exc.path, exc.message)
        else:
            raise AssertionError(f"the batch accepted what evaluate refuses: {exc}") from None
    else:  # not a fault after all (e.g. a key that is not a question)
        many = scoring.evaluate_many([good[0], bad, good[1]])
        assert many[1] == alone and many[1].as_dict() == alone.as_dict()


# ----------------------------------------------------------------------------- payment


@SETTINGS
@given(st.decimals(min_value=0, max_value=100, places=2),
       st.decimals(min_value=0, max_value=10 ** 9, places=2),
       st.sampled_from([
           {"bands": [{"min": "90", "ratio": "1"}, {"min": "80", "ratio": "0.95"},
                      {"min": "70", "ratio": "0.9"}, {"min": "60", "ratio": "0.8"}]},
           {"linear": {"floor": "60"}},
           {"linear": {"floor": "60", "full": "95", "floor_ratio": "0.5"}},
       ]))
def test_payable_plus_deduction_is_the_amount_and_grows_with_the_total(total, amount, rule):
    res = scoring.apply_payment(total, rule, amount)
    assert res.payable + res.deduction == amount
    assert 0 <= res.payable <= amount
    assert res.payable == res.payable.quantize(Decimal("0.01"))
    if total < 100:
        up = scoring.apply_payment(total + Decimal("0.01"), rule, amount)
        assert up.payable >= res.payable


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(packages())
def test_valid_packages_satisfy_the_json_schema(pkg):
    import pathlib

    import pytest

    jsonschema = pytest.importorskip("jsonschema")
    path = pathlib.Path(scoring.__file__).with_name("package.schema.json")
    validator = jsonschema.Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))
    scoring.validate_package(pkg)
    assert not [e.message for e in validator.iter_errors(pkg)]


def _rate_package(questions: list, responses: list, population=None) -> dict:
    inputs = {"responses": responses}
    if population:
        inputs["population"] = population
    leaf = {"id": "S", "name": "满意率", "points": 100,
            "rule": {"type": "survey_rate", "questions": questions, "scale": SAT,
                     "satisfied": ["满意", "较满意"], "target": "100"}}
    tree = {"id": "R", "name": "R", "points": 100, "children": [leaf]}
    return {"scheme": {"name": "t", "parts": [{"id": "R", "name": "R", "party": "recipient",
                                                "weight": "1.00", "tree": tree}]},
            "inputs": inputs}


@SETTINGS
@given(st.lists(st.sampled_from(list(SAT)), min_size=1, max_size=60),
       st.one_of(st.none(), st.integers(60, 5000)))
def test_a_rate_over_questions_answered_alike_has_the_margin_of_its_people(answers, population):
    # every person answers Q1 and Q2 alike: 2n answers carry the information of n people,
    # so the margin over both questions is the one-question margin over the same people
    one = scoring.evaluate(_rate_package(["Q1"], [{"Q1": a} for a in answers], population))
    two = scoring.evaluate(_rate_package(["Q1", "Q2"], [{"Q1": a, "Q2": a} for a in answers],
                                         population))
    assume(one.quality.rates)  # someone gave an answer that counts (not 不了解)
    (r1,), (r2,) = one.quality.rates, two.quality.rates
    assert (r2.n, r2.respondents) == (2 * r1.n, r1.respondents)
    assert r2.rate == r1.rate
    assert r2.finite_population == r1.finite_population
    assert abs(r2.margin - r1.margin) <= 1e-12
    assert scoring.evaluate_many([_rate_package(["Q1", "Q2"], [{"Q1": a, "Q2": a}
                                                              for a in answers], population)]
                                 ) == [two]


@SETTINGS
@given(st.lists(st.integers(0, 100), min_size=2, max_size=40), st.integers(2, 4))
def test_pooled_intervals_of_answers_given_alike_are_those_of_the_people(scores, k):
    # each person gives the same answer to k questions: the pooled figures are the
    # one-question figures of the same people, whatever k
    sat = [int(v >= 80) for v in scores]
    rate = scoring.pooled_rate_ci([k * h for h in sat], [k] * len(sat))
    one = scoring.proportion_ci(sum(sat), len(sat))
    assert rate.estimate == pytest.approx(one.estimate)
    assert (rate.low, rate.high) == pytest.approx((one.low, one.high), abs=1e-9)
    assume(len(set(scores)) > 1)
    mean = scoring.pooled_mean_ci([k * v for v in scores], [k] * len(scores), bounds=(0, 100))
    ref = scoring.mean_ci(scores, bounds=(0, 100))
    assert (mean.estimate, mean.low, mean.high) == pytest.approx(
        (ref.estimate, ref.low, ref.high), abs=1e-9)
