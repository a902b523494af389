"""The batch path (批量计分): evaluate_many reads many packages together and must give
exactly what evaluate gives one by one, and refuse exactly what it refuses."""

from __future__ import annotations

import copy
import json
import random

import pytest
from scoring_builders import SAT, abc_scheme, leaf, package, part, scheme, sheet

import scoring
from scoring import PackageError
from scoring import engine as engine_module

TIERS = [{"name": "达成", "coefficient": "1"}, {"name": "部分达成", "coefficient": "0.7"},
         {"name": "未达成", "coefficient": "0.3"}]


def survey_scheme(combine="trimmed_mean"):
    """A panel part (points, tiers, data) and a survey part (rate, mean over two questions)."""
    return scheme(
        part("E", "0.6", leaf("A", 30), leaf("B", 30), leaf("T", 20, "tiers", tiers=TIERS),
             leaf("M", 20, "ratio_ge", target="95"), combine=combine),
        part("S", "0.4", leaf("R", 50, "survey_rate", questions=["Q1"], scale=SAT,
                              satisfied=["满意", "较满意"], target="90"),
             leaf("V", 50, "survey_mean", questions=["Q2", "Q3"], scale=SAT),
             party="recipient"))


def survey_package(rnd: random.Random, sch, n_sheets: int, odd: bool = False) -> dict:
    options = list(SAT)
    sheets = []
    for e in range(n_sheets):
        a = rnd.randint(0, 60) / 2
        scores = {"A": a if a == 30 or odd else {"points": a, "reason": "资料不全"},
                  "B": rnd.choice([30, 25.5, {"points": 20, "reason": "台账缺页"}]),
                  "T": rnd.choice(["达成", "部分达成", {"tier": "未达成", "reason": "延误"}])}
        if odd and e == 0:
            scores["B"] = rnd.choice(["27.5", {"na": "本年度未发生"}])  # decimal string, n/a
        sheets.append(sheet("E", f"专家{rnd.randint(1, 999):03d}-{e}", **scores))
    responses = []
    for _ in range(rnd.randint(3, 40)):
        r = {q: rnd.choice(options[:4]) for q in ("Q1", "Q2", "Q3")}
        if odd and rnd.random() < 0.3:
            r["Q2"] = rnd.choice([None, "不了解"])  # no answer
            r.pop("Q3")
        responses.append(r)
    return package(sch, sheets, data={"M": rnd.choice([90, 97.5, {"value": 80, "source": "台账"}])},
                   responses=responses, population=rnd.choice([None, 500]),
                   payment=rnd.choice([None, {"amount": "10000.00",
                                              "rule": {"linear": {"floor": "60"}}}]))


def mixed_batch(n: int, seed: int = 3) -> list:
    """Several schemes (as separate JSON copies), sheet counts 0..6, some unusual forms."""
    rnd = random.Random(seed)
    schemes = [survey_scheme(), survey_scheme("median"), survey_scheme("mean")]
    out = []
    for _ in range(n):
        pkg = survey_package(rnd, rnd.choice(schemes), rnd.choice([0, 1, 3, 5, 5, 5, 6]),
                             odd=rnd.random() < 0.15)
        out.append(json.loads(json.dumps(pkg, ensure_ascii=False)))
    return out


def test_mixed_batch_larger_than_a_chunk_equals_one_by_one():
    pkgs = mixed_batch(engine_module._CHUNK * 2 + 37)
    many = scoring.evaluate_many(pkgs)
    single = [scoring.evaluate(p) for p in pkgs]
    assert many == single
    assert [r.as_dict() for r in many[:40]] == [r.as_dict() for r in single[:40]]
    # the batch really held several schemes and sheet counts, and unusual forms
    assert len({r.scheme_digest for r in many}) == 3
    assert len({len(r.parts[0].sheets) for r in many}) >= 5
    assert any(n.status == "partial" or n.status == "na" for r in many for n in r.nodes.values())


def test_order_of_packages_in_a_batch_changes_nothing():
    pkgs = mixed_batch(120, seed=5)
    order = list(range(len(pkgs)))
    random.Random(1).shuffle(order)
    shuffled = scoring.evaluate_many([pkgs[i] for i in order])
    direct = scoring.evaluate_many(pkgs)
    assert [shuffled[order.index(i)] for i in range(len(pkgs))] == direct


def test_the_first_bad_package_is_named_whatever_its_fault():
    pkgs = mixed_batch(engine_module._CHUNK + 50, seed=7)
    late = copy.deepcopy(pkgs[-10])
    late["scheme"]["parts"][0]["weight"] = "0.7"  # a scheme fault, found first in its pass
    early = copy.deepcopy(pkgs[100])
    early["inputs"]["responses"][0]["Q1"] = "超满意"  # an answer fault, found in a later pass
    pkgs[-10] = late
    pkgs[100] = early
    with pytest.raises(PackageError) as exc:
        scoring.evaluate_many(pkgs)
    assert exc.value.index == 100
    assert exc.value.path == "$.inputs.responses[0].Q1"
    with pytest.raises(PackageError) as single:
        scoring.evaluate(early)
    assert single.value.path == exc.value.path and single.value.message == exc.value.message


@pytest.mark.parametrize("mutate, path", [
    (lambda p: p["inputs"]["sheets"][0]["scores"].update(A=10 ** 400),
     "$.inputs.sheets[0].scores.A"),
    (lambda p: p["inputs"]["sheets"][0]["scores"].update(A={"points": 10 ** 400}),
     "$.inputs.sheets[0].scores.A"),
    (lambda p: p["inputs"]["sheets"][0]["scores"].update(A={"points": 10, "reason": " "}),
     "$.inputs.sheets[0].scores.A.reason"),
    (lambda p: p["inputs"]["sheets"][0]["scores"].update(T={"tier": "超额达成"}),
     "$.inputs.sheets[0].scores.T"),
    (lambda p: p["inputs"]["data"].update(M=10 ** 400), "$.inputs.data.M"),
    (lambda p: p["inputs"]["data"].update(M={"value": -1}), "$.inputs.data.M.value"),
    (lambda p: p["inputs"]["responses"].append(["满意"]), "$.inputs.responses[3]"),
    (lambda p: p["inputs"]["responses"][1].update(Q3=5), "$.inputs.responses[1].Q3"),
    (lambda p: p["inputs"].update(responses={"Q1": "满意"}), "$.inputs.responses"),
    # what the column reader checks itself before handing a package to the one-package parser
    (lambda p: p["inputs"]["sheets"][0].update(part=["E"]), "$.inputs.sheets[0].part"),
    (lambda p: p["inputs"]["sheets"][0].update(part="S"), "$.inputs.sheets[0]"),
    (lambda p: p["inputs"]["sheets"][0].update(scorer=" "), "$.inputs.sheets[0].scorer"),
    (lambda p: p["inputs"]["sheets"].append(copy.deepcopy(p["inputs"]["sheets"][0])),
     "$.inputs.sheets[5].scorer"),
    (lambda p: p["inputs"]["sheets"][0]["scores"].update(A=True), "$.inputs.sheets[0].scores.A"),
    (lambda p: p["inputs"]["sheets"][0]["scores"].update(A="1e3"),
     "$.inputs.sheets[0].scores.A"),
    (lambda p: p["inputs"]["sheets"][0]["scores"].update(A=30.5), "$.inputs.sheets[0].scores.A"),
    (lambda p: p["inputs"]["sheets"][0]["scores"].update(T=1), "$.inputs.sheets[0].scores.T"),
    (lambda p: p["inputs"]["sheets"][0]["scores"].update(A={"na": " "}),
     "$.inputs.sheets[0].scores.A.na"),
    (lambda p: p["inputs"]["sheets"][0]["scores"].update(M=90), "$.inputs.sheets[0].scores.M"),
    (lambda p: p["inputs"]["data"].update(M={"value": 90, "source": ""}),
     "$.inputs.data.M.source"),
    (lambda p: p["inputs"]["data"].update(M={"source": "台账"}), "$.inputs.data.M"),
    (lambda p: p["inputs"]["data"].update(A=90), "$.inputs.data.A"),
    (lambda p: p["inputs"]["responses"][2].update(Q2=["满意"]), "$.inputs.responses[2].Q2"),
])
def test_faults_are_refused_in_a_batch_as_alone(mutate, path):
    rnd = random.Random(2)
    good = [survey_package(rnd, survey_scheme(), 5) for _ in range(6)]
    bad = copy.deepcopy(good[0])
    bad["inputs"]["responses"] = [{"Q1": "满意", "Q2": "满意", "Q3": "一般"} for _ in range(3)]
    mutate(bad)
    with pytest.raises(PackageError) as alone:
        scoring.evaluate(bad)
    assert alone.value.path == path
    with pytest.raises(PackageError) as exc:
        scoring.evaluate_many([*good[:4], bad, *good[4:]])
    assert (exc.value.index, exc.value.path, exc.value.message) == (4, path, alone.value.message)


def test_responses_must_be_a_list_even_without_survey_leaves():
    good = package(abc_scheme(), [sheet("P", "E1", A=40, B=30, C=30)],
                   responses=[{"Q1": "满意"}])
    assert scoring.evaluate_many([good]) == [scoring.evaluate(good)]
    assert any("没有问卷类指标" in w for w in scoring.evaluate(good).warnings)
    bad = copy.deepcopy(good)
    bad["inputs"]["responses"] = {"Q1": "满意"}
    with pytest.raises(PackageError) as alone:
        scoring.evaluate(bad)
    with pytest.raises(PackageError) as exc:
        scoring.evaluate_many([good, bad])
    assert alone.value.path == exc.value.path == "$.inputs.responses"
    assert exc.value.index == 1


def test_shared_scheme_object_and_equal_copies_score_alike():
    sch = abc_scheme()
    same = [package(sch, [sheet("P", "E1", A=40, B=30, C=s)]) for s in (10, 20, 30)]
    copies = [json.loads(json.dumps(p)) for p in same]
    res = scoring.evaluate_many(same + copies)
    assert res[:3] == res[3:]
    assert [r.total for r in res[:3]] == [scoring.evaluate(p).total for p in same]


def test_an_empty_batch_gives_no_results():
    assert scoring.evaluate_many([]) == []
    assert scoring.evaluate_many(iter([])) == []


# ----------------------------------------------------------------------------- results made on demand


def test_results_of_a_batch_read_in_any_order_equal_evaluates():
    pkgs = mixed_batch(engine_module._BLOCK + 40, seed=9)
    many = scoring.evaluate_many(pkgs)
    single = [scoring.evaluate(p) for p in pkgs]
    # the fields made at once, then the others read from the last result to the first,
    # so that every block of the batch is made by a read in its middle
    assert [(r.total, r.grade, r.exact_total, r.final_ready, r.scheme_digest) for r in many] == [
        (r.total, r.grade, r.exact_total, r.final_ready, r.scheme_digest) for r in single]
    for r, s in zip(reversed(many), reversed(single), strict=True):
        assert r.warnings == s.warnings
        assert r.nodes == s.nodes and r.parts == s.parts and r.quality == s.quality
        assert r.missing == s.missing and r.payment == s.payment
    assert many == single
    assert [r.as_dict() for r in many[-30:]] == [r.as_dict() for r in single[-30:]]


def test_changing_the_packages_after_the_call_changes_no_result():
    rnd = random.Random(4)
    pkgs = [json.loads(json.dumps(survey_package(rnd, survey_scheme(), 5, odd=k % 3 == 0),
                                  ensure_ascii=False)) for k in range(12)]
    expected = [scoring.evaluate(copy.deepcopy(p)) for p in pkgs]
    many = scoring.evaluate_many(pkgs)
    for p in pkgs:  # scribble over every input the results were made from
        for sh in p["inputs"]["sheets"]:
            sh["scorer"] = "改过"
            for v in sh["scores"].values():
                if isinstance(v, dict):
                    v.update(reason="改过", na="改过", tier="改过")
            sh["scores"].clear()
        p["inputs"]["data"].clear()
        p["inputs"]["responses"].clear()
        p["payment"] = None
    assert many == expected
    assert [r.as_dict() for r in many] == [r.as_dict() for r in expected]


def test_results_of_a_batch_are_read_only_picklable_and_print_alike(example):
    import pickle

    many = scoring.evaluate_many([example, example])
    one = scoring.evaluate(example)
    with pytest.raises(AttributeError):
        many[0].total = None
    with pytest.raises(AttributeError):
        many[0].parts = ()
    with pytest.raises(TypeError):
        hash(many[0])
    assert pickle.loads(pickle.dumps(many[1])) == one  # pickled before it was read
    assert repr(many[0]) == repr(one)
    assert many[0] != object() and many[0] == one


def test_totals_are_rounded_in_the_batch_as_round_score_does():
    import numpy as np

    rnd = random.Random(8)
    values = [89.995, 89.994999, 89.99499999999, 89.99999999999997, 89.995000001, 0.005,
              0.015, 0.0, 100.0, 59.995, 60.0, 79.994999999999, 12.345, 12.335]
    values += [k / 1000 for k in range(0, 100001, 5)][::37]  # every half cent, in part
    values += [k / 200 + d for k in range(0, 20001, 97) for d in (-1e-9, -4e-10, 4e-10, 1e-9)]
    values += [rnd.uniform(0, 100) for _ in range(5000)]
    values = [v for v in values if 0 <= v <= 100]
    tots, cents = engine_module._round_totals(np.array(values + [float("nan"), -0.0]))
    assert tots[-2] is None
    assert str(tots[-1]) == str(scoring.round_score(-0.0)) == "-0.00"
    for v, t, c in zip(values, tots, cents.tolist(), strict=False):
        want = scoring.round_score(v)
        assert (t, str(t), c) == (want, str(want), int(want * 100)), v
    # grades read the rounded total, lower bounds inclusive (89.995 → 90.00 → 优)
    sch = scoring.package.compile_scheme(survey_scheme())
    grades = engine_module._grades_of(sch, cents, tots)
    assert grades[0] == "优" and grades[-2] is None
    for t, g in zip(tots[:-2], grades, strict=False):
        assert g == next(name for name, lo in sch.grades if t >= lo)
