"""python -m scoring: one package, many packages (JSON Lines), and a bad package."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
from scoring_builders import EXAMPLE

import scoring
from scoring.__main__ import main

ROOT = pathlib.Path(scoring.__file__).resolve().parents[1]


def test_evaluate_prints_the_result_as_json(capsys):
    assert main(["evaluate", str(EXAMPLE)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total"] == "88.99" and out["grade"] == "良"
    assert out == scoring.evaluate(json.loads(EXAMPLE.read_text(encoding="utf-8"))).as_dict()


def test_evaluate_many_writes_one_result_per_line(tmp_path, example):
    other = json.loads(json.dumps(example))
    other["inputs"]["data"]["C42"] = 5
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in (example, other, example))
                   + "\n", encoding="utf-8")
    dst = tmp_path / "out.jsonl"
    assert main(["evaluate", "--many", str(src), "-o", str(dst)]) == 0
    lines = [json.loads(x) for x in dst.read_text(encoding="utf-8").splitlines()]
    assert [x["total"] for x in lines] == ["88.99", scoring.evaluate(other).as_dict()["total"],
                                           "88.99"]


def test_bad_package_exits_2_with_the_json_path(tmp_path, example, capsys):
    example["scheme"]["parts"][1]["weight"] = "0.20"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(example, ensure_ascii=False), encoding="utf-8")
    assert main(["evaluate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "$.scheme.parts" in err and "≠ 1.00" in err


def test_bad_line_in_many_names_the_line(tmp_path, example, capsys):
    bad = json.loads(json.dumps(example))
    bad["inputs"]["responses"][3]["Q2"] = "非常满意"
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(example, ensure_ascii=False) + "\n\n"
                   + json.dumps(bad, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["evaluate", "--many", str(src)]) == 2
    err = capsys.readouterr().err
    assert f"{src}:3: $.inputs.responses[3].Q2:" in err


def test_many_names_every_bad_line_and_writes_no_result(tmp_path, example, capsys):
    """A file of 10,000 packages with a few faults says where each one is, in one run."""
    weights = json.loads(json.dumps(example))
    weights["scheme"]["parts"][1]["weight"] = "0.20"
    answer = json.loads(json.dumps(example))
    answer["inputs"]["responses"][3]["Q2"] = "非常满意"
    lines = [example, weights, example, "{not json", answer, example]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(p if isinstance(p, str) else json.dumps(p, ensure_ascii=False)
                             for p in lines) + "\n", encoding="utf-8")
    dst = tmp_path / "out.jsonl"
    assert main(["evaluate", "--many", str(src), "-o", str(dst)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[0] for line in err] == [f"{src}:2", f"{src}:4", f"{src}:5"]
    assert "$.scheme.parts" in err[0] and "$: 不是合法的 JSON" in err[1]
    assert "$.inputs.responses[3].Q2" in err[2]
    assert not dst.exists()  # all or nothing: no partial results to mistake for the whole


def test_many_counts_the_bad_lines_beyond_twenty(tmp_path, example, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("{not json\n" * 25, encoding="utf-8")
    assert main(["evaluate", "--many", str(src)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 21 and err[19].startswith(f"{src}:20: $: ")
    assert err[20] == f"{src}: 另有 5 行有误（共 25 行有误）"


def test_a_line_that_is_not_json_is_named(tmp_path, example, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(example, ensure_ascii=False) + "\n{\"scheme\": \n", encoding="utf-8")
    assert main(["evaluate", "--many", str(src)]) == 2
    assert f"{src}:2: $: 不是合法的 JSON" in capsys.readouterr().err


def test_a_file_that_is_not_json_exits_2_for_evaluate_and_validate(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{\"scheme\": [", encoding="utf-8")
    assert main(["evaluate", str(bad)]) == 2
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("不是合法的 JSON") == 2


def test_validate_names_the_fault_of_a_package(tmp_path, example, capsys):
    example["inputs"]["sheets"][2]["scores"]["C21"] = 11  # above the leaf's 10 points
    f = tmp_path / "p.json"
    f.write_text(json.dumps(example, ensure_ascii=False), encoding="utf-8")
    assert main(["validate", str(f)]) == 2
    assert f"{f}: $.inputs.sheets[2].scores.C21: " in capsys.readouterr().err


def test_validate_a_scheme_alone(tmp_path, example, capsys):
    f = tmp_path / "scheme.json"
    f.write_text(json.dumps(example["scheme"], ensure_ascii=False), encoding="utf-8")
    assert main(["validate", "--scheme", str(f)]) == 0
    example["scheme"]["parts"][0]["tree"]["children"][0]["points"] = 41
    f.write_text(json.dumps(example["scheme"], ensure_ascii=False), encoding="utf-8")
    assert main(["validate", "--scheme", str(f)]) == 2
    assert "$.scheme.parts[0].tree" in capsys.readouterr().err


def test_missing_file_exits_1(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nope.json")]) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell")
def test_module_runs_as_a_program():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "scoring", "evaluate", str(EXAMPLE)],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["grade"] == "良"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell")
def test_program_exits_non_zero_with_the_path_of_the_fault(tmp_path, example):
    bad = json.loads(json.dumps(example))
    bad["scheme"]["parts"][2]["tree"]["children"][3]["points"] = 35  # children add up to 30
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in (example, bad)) + "\n",
                   encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "scoring", "evaluate", "--many", str(src)],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert f"{src}:2: $.scheme.parts[2].tree.children[3]: " in proc.stderr
