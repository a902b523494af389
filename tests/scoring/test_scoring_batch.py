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
