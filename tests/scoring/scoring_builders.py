"""Builders for the scoring tests: small schemes and packages in a few lines.

Imported by the test modules of this folder (pytest puts the folder on sys.path).
"""

from __future__ import annotations

import json
import pathlib

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "scoring" / "example.package.json"

SAT = {"满意": 100, "较满意": 80, "一般": 60, "不满意": 0, "不了解": None}


def leaf(lid, points, rule="points", **params):
    return {"id": lid, "name": f"指标{lid}", "points": points, "rule": {"type": rule, **params}}


def group(gid, points, *children, **extra):
    return {"id": gid, "name": extra.pop("name", f"分组{gid}"), "points": points,
            "children": list(children), **extra}


def part(pid, weight, *children, party="third_party", combine="mean", **extra):
    return {"id": pid, "name": f"部分{pid}", "party": party, "weight": weight,
            "combine": combine, "tree": {"points": 100, "children": list(children)}, **extra}


def scheme(*parts, **extra):
    return {"parts": list(parts), **extra}


def sheet(part_id, scorer, **scores):
    return {"part": part_id, "scorer": scorer, "scores": scores}


def package(sch, sheets=(), data=None, responses=(), population=None, payment=None):
    inputs = {"sheets": list(sheets), "data": data or {}, "responses": list(responses)}
    if population is not None:
        inputs["population"] = population
    pkg = {"scheme": sch, "inputs": inputs}
    if payment is not None:
        pkg["payment"] = payment
    return pkg


def abc_scheme(combine="mean", missing=None):
    """One part P on 100 points: A 40, B 30, C 30, all typed by scorers."""
    extra = {} if missing is None else {"missing": missing}
    return scheme(part("P", "1", leaf("A", 40), leaf("B", 30), leaf("C", 30), combine=combine),
                  **extra)


def example_package() -> dict:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))

