"""Validation of schemes and packages: the fault's JSON path, the node named, in Chinese."""

from __future__ import annotations

import copy
import json
import pathlib

import pytest
from scoring_builders import SAT, abc_scheme, group, leaf, package, part, scheme, sheet

import scoring
from scoring import PackageError


def fault(pkg) -> PackageError:
    with pytest.raises(PackageError) as exc:
        scoring.validate_package(pkg)
    assert isinstance(exc.value, ValueError)
    return exc.value


def scheme_fault(sch) -> PackageError:
    with pytest.raises(PackageError) as exc:
        scoring.validate_scheme(sch)
    return exc.value


def test_example_package_is_valid(example):
    scoring.validate_package(example)
    scoring.validate_scheme(example["scheme"])


def test_party_weights_must_add_up_to_exactly_one():
    sch = scheme(part("A", "0.3", leaf("a", 100)), part("B", "0.3", leaf("b", 100)),
                 part("C", "0.3", leaf("c", 100)))
    err = scheme_fault(sch)
    assert err.path == "$.scheme.parts"
    assert "0.9 ≠ 1.00" in err.message
    # decimal strings are added exactly: 0.1 + 0.2 + 0.7 is 1.00
    ok = scheme(part("A", "0.1", leaf("a", 100)), part("B", "0.2", leaf("b", 100)),
                part("C", "0.7", leaf("c", 100)))
    scoring.validate_scheme(ok)


def test_a_node_whose_children_do_not_add_up_is_named_with_its_path():
    sch = scheme(part("P", "1", group("B1", 80, leaf("x", 80)),
                      group("B2", 20, leaf("y", 10), leaf("z", 8))))
    err = scheme_fault(sch)
    assert err.path == "$.scheme.parts[0].tree.children[1]"
    assert err.message == '节点 "B2" 的子项分值合计 18 ≠ 20'
    assert str(err) == '节点 "B2" 的子项分值合计 18 ≠ 20 ($.scheme.parts[0].tree.children[1])'


def test_each_tree_must_carry_100_points():
    sch = scheme(part("P", "1", leaf("x", 60), leaf("y", 30)))
    sch["parts"][0]["tree"]["points"] = 90
    err = scheme_fault(sch)
    assert err.path == "$.scheme.parts[0].tree.points"
    assert "90 ≠ 100" in err.message
    sch["parts"][0]["tree"]["points"] = 100
    err = scheme_fault(sch)
    assert err.path == "$.scheme.parts[0].tree" and "90 ≠ 100" in err.message


def national(reason=None, out_pts=30, eff_pts=20):
    frame = {"kind": "national"} if reason is None else {"kind": "national", "reason": reason}
    rest = 100 - out_pts - eff_pts
    return scheme(part(
        "T", "1",
        group("D", rest // 2, leaf("d", rest // 2), dimension="决策"),
        group("G", rest - rest // 2, leaf("g", rest - rest // 2), name="过程"),
        group("O", out_pts, leaf("o", out_pts), name="产出指标"),
        group("E", eff_pts, leaf("e", eff_pts), dimension="效益"),
        frame=frame))


def test_national_frame_needs_output_and_outcome_of_at_least_60():
    err = scheme_fault(national(out_pts=30, eff_pts=20))
    assert err.path == "$.scheme.parts[0].frame"
    assert "产出和效益合计 50 分" in err.message and "60" in err.message
    scoring.validate_scheme(national(out_pts=30, eff_pts=30))


def test_national_frame_exception_with_a_recorded_reason_is_a_warning():
    sch = national(reason="试点项目以过程管理为主", out_pts=30, eff_pts=20)
    scoring.validate_scheme(sch)
    res = scoring.evaluate(package(sch, [sheet("T", "E1", d=25, g=25, o=30, e=20)]))
    assert any("试点项目以过程管理为主" in w for w in res.warnings)


def test_national_frame_needs_a_dimension_for_each_first_level_node():
    sch = national(out_pts=30, eff_pts=30)
    sch["parts"][0]["tree"]["children"][2]["name"] = "服务数量"
    err = scheme_fault(sch)
    assert err.path == "$.scheme.parts[0].tree.children[2]"
    assert "dimension" in err.message


@pytest.mark.parametrize("mutate, path, fragment", [
    (lambda s: s["parts"][0]["tree"]["children"][0].update(points=0),
     "$.scheme.parts[0].tree.children[0].points", "必须大于 0"),
    (lambda s: s["parts"][0]["tree"]["children"][0].update(rule={"type": "guess"}),
     "$.scheme.parts[0].tree.children[0].rule.type", "type 必须是"),
    (lambda s: s["parts"][0]["tree"]["children"][1].update(id="A"),
     "$.scheme.parts[0].tree.children[1].id", '"A" 重复'),
    (lambda s: s["parts"][0].update(combine="max"), "$.scheme.parts[0].combine", "combine"),
    (lambda s: s["parts"][0].update(party="supplier"), "$.scheme.parts[0].party", "party"),
    (lambda s: s["parts"][0].update(weight="abc"), "$.scheme.parts[0].weight", "十进制"),
    (lambda s: s.update(missing="ignore"), "$.scheme.missing", "missing"),
    (lambda s: s.update(grades=[{"name": "优", "min": "90"}, {"name": "良", "min": "95"}]),
     "$.scheme.grades[1].min", "从高到低"),
    (lambda s: s.update(grades=[{"name": "优", "min": "90"}, {"name": "良", "min": "60"}]),
     "$.scheme.grades[1].min", "必须是 0"),
    (lambda s: s["parts"][0]["tree"]["children"][0].pop("rule"),
     "$.scheme.parts[0].tree.children[0]", "既没有子指标"),
])
def test_scheme_faults_carry_their_path(mutate, path, fragment):
    sch = abc_scheme()
    mutate(sch)
    err = scheme_fault(sch)
    assert err.path == path
    assert fragment in err.message


@pytest.mark.parametrize("rule, path, fragment", [
    ({"type": "tiers", "tiers": [{"name": "达成", "coefficient": "1.2"}]},
     "rule.tiers[0].coefficient", "0 到 1"),
    ({"type": "ratio_ge", "target": "0"}, "rule.target", "大于 0"),
    ({"type": "ratio_le"}, "rule.target", "目标值"),
    ({"type": "thresholds", "bands": [{"min": "1", "points": "5"}, {"min": "2", "points": "3"}]},
     "rule.bands[1].min", "从高到低"),
    ({"type": "thresholds", "bands": [{"min": "1", "points": "70"}]},
     "rule.bands[0].points", "满分"),
    ({"type": "survey_mean", "questions": ["Q1"]}, "rule.scale", "量表"),
    ({"type": "survey_mean", "questions": ["Q1"], "scale": "nope"}, "rule.scale", "未在"),
    ({"type": "survey_rate", "questions": ["Q1"], "scale": SAT, "satisfied": ["不了解"],
      "target": "90"}, "rule.satisfied[0]", "计分选项"),
    ({"type": "survey_rate", "questions": ["Q1"], "scale": SAT, "satisfied": ["满意"],
      "target": "190"}, "rule.target", "0 到 100"),
    ({"type": "survey_mean", "questions": ["Q1"], "scale": {"好": 120}}, "rule.scale.好",
     "0 到 100"),
])
def test_rule_parameters_are_checked(rule, path, fragment):
    sch = scheme(part("P", "1", leaf("x", 40, **{}), leaf("y", 60)))
    sch["parts"][0]["tree"]["children"][1]["rule"] = rule
    err = scheme_fault(sch)
    assert err.path == "$.scheme.parts[0].tree.children[1]." + path
    assert fragment in err.message


def test_one_question_cannot_have_two_scales():
    other = {"是": 100, "否": 0}
    sch = scheme(part("R", "1",
                      leaf("x", 50, "survey_mean", questions=["Q1"], scale=SAT),
                      leaf("y", 50, "survey_mean", questions=["Q1"], scale=other),
                      party="recipient"))
    err = scheme_fault(sch)
    assert err.path == "$.scheme.parts[0].tree.children[1].rule.questions[0]"


@pytest.mark.parametrize("mutate, path", [
    (lambda p: p["inputs"]["sheets"][0].update(part="Z"), "$.inputs.sheets[0].part"),
    (lambda p: p["inputs"]["sheets"][0]["scores"].update(Q=3), "$.inputs.sheets[0].scores.Q"),
    (lambda p: p["inputs"]["sheets"][0]["scores"].update(A=41), "$.inputs.sheets[0].scores.A"),
    (lambda p: p["inputs"]["sheets"][0]["scores"].update(A=-1), "$.inputs.sheets[0].scores.A"),
    (lambda p: p["inputs"]["sheets"][0]["scores"].update(A="八"), "$.inputs.sheets[0].scores.A"),
    (lambda p: p["inputs"]["sheets"][0]["scores"].update(A=True), "$.inputs.sheets[0].scores.A"),
    (lambda p: p["inputs"]["sheets"][0]["scores"].update(A={"na": ""}),
     "$.inputs.sheets[0].scores.A.na"),
    (lambda p: p["inputs"]["sheets"][1].update(scorer="E1"), "$.inputs.sheets[1].scorer"),
    (lambda p: p["inputs"].update(population=0), "$.inputs.population"),
    (lambda p: p["inputs"].update(extra=1), "$.inputs.extra"),
    (lambda p: p.update(payment={"amount": "10.001", "rule": {"bands": []}}),
     "$.payment.amount"),
    (lambda p: p.update(payment={"amount": "10", "rule": {"bands": []}}), "$.payment.rule.bands"),
    (lambda p: p.update(payment={"amount": "10", "rule": {"linear": {"floor": "100"}}}),
     "$.payment.rule.linear"),
    (lambda p: p.pop("scheme"), "$.scheme"),
])
def test_input_faults_carry_their_path(mutate, path):
    pkg = package(abc_scheme(), [sheet("P", "E1", A=40, B=30, C=30),
                                 sheet("P", "E2", A=40, B=30, C=30)])
    mutate(pkg)
    assert fault(pkg).path == path


def test_sheet_score_for_a_data_leaf_is_refused_with_the_rule_named():
    sch = scheme(part("P", "1", leaf("A", 50), leaf("M", 50, "ratio_ge", target="10")))
    err = fault(package(sch, [sheet("P", "E1", A=50, M=50)]))
    assert err.path == "$.inputs.sheets[0].scores.M"
    assert "ratio_ge" in err.message


def test_unknown_survey_option_is_refused_with_the_respondent_and_question():
    sch = scheme(part("R", "1", leaf("S", 100, "survey_mean", questions=["Q1", "Q2"], scale=SAT),
                      party="recipient"))
    pkg = package(sch, responses=[{"Q1": "满意", "Q2": "满意"}, {"Q1": "满意", "Q2": "超满意"}])
    err = fault(pkg)
    assert err.path == "$.inputs.responses[1].Q2"
    assert "超满意" in err.message
    pkg["inputs"]["responses"][1] = ["满意"]
    assert fault(pkg).path == "$.inputs.responses[1]"


def test_evaluate_many_names_the_bad_package():
    good = package(abc_scheme(), [sheet("P", "E1", A=40, B=30, C=30)])
    bad = copy.deepcopy(good)
    bad["inputs"]["sheets"][0]["scores"]["B"] = 31
    with pytest.raises(PackageError) as exc:
        scoring.evaluate_many([good, good, bad])
    assert exc.value.index == 2
    assert exc.value.path == "$.inputs.sheets[0].scores.B"


def test_changing_a_scheme_dict_after_use_is_seen():
    sch = abc_scheme()
    pkg = package(sch, [sheet("P", "E1", A=40, B=30, C=30)])
    scoring.evaluate(pkg)
    sch["parts"][0]["tree"]["children"][0]["points"] = 50
    with pytest.raises(PackageError):
        scoring.evaluate(pkg)


def test_a_boolean_where_a_number_belongs_is_refused_even_after_a_valid_twin():
    sch = scheme(part("P", "1", leaf("A", 99), leaf("B", 1)))
    scoring.evaluate(package(sch, [sheet("P", "E1", A=99, B=1)]))
    twin = copy.deepcopy(sch)
    twin["parts"][0]["tree"]["children"][1]["points"] = True
    err = fault(package(twin, [sheet("P", "E1", A=99, B=1)]))
    assert err.path == "$.scheme.parts[0].tree.children[1].points"


def test_json_schema_accepts_the_example_and_rejects_faults(example):
    jsonschema = pytest.importorskip("jsonschema")
    path = pathlib.Path(scoring.__file__).with_name("package.schema.json")
    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors(example))
    bad = copy.deepcopy(example)
    bad["scheme"]["parts"][0]["weight"] = 0.3  # weights are decimal strings
    assert list(validator.iter_errors(bad))
    bad = copy.deepcopy(example)
    bad["scheme"]["parts"][0]["tree"]["children"][0]["children"][0]["rule"]["type"] = "x"
    assert list(validator.iter_errors(bad))


def test_readme_example_is_the_shipped_example_and_valid(example):
    readme = pathlib.Path(scoring.__file__).with_name("README.md").read_text(encoding="utf-8")
    block = readme.split("## Complete example", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    assert json.loads(block) == example
    res = scoring.evaluate(example)
    assert str(res.total) == "88.99" and '"total": "88.99"' in readme
