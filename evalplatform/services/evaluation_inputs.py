"""What each source contributes to an evaluation's scoring package (评价数据来源).

The survey (服务对象), the scoresheets (购买主体, 第三方) and the third party's measured data
each live in their own module. Each registers a *collector* here; computing a result
(the results service) asks every collector for its part and assembles one package in
the format of ``scoring/README.md``. This keeps the dependency one way: the sources know
this module, this module knows none of them.

A collector is ``collector(session, evaluation) -> Contribution``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from evalplatform.models import Evaluation


@dataclass
class Contribution:
    """One source's part of the package.

    - ``sheets``: ``[{"part", "scorer", "scores": {leaf id: score}}]`` as the package wants.
    - ``data``: ``{leaf id: value or {"value", "source"}}`` for ratio/threshold leaves.
    - ``responses``: ``[{question id: option}]``, one per respondent.
    - ``population``: the number of people served, for the margin of error (optional).
    - ``rules``: ``{leaf id: {key: value}}`` merged into a survey leaf's rule (the
      questionnaire's ``questions`` and inline ``scale`` replace the scheme's placeholders).
    - ``notes``: lines that say where the figures came from, shown beside the result.
    """

    source: str
    sheets: list[dict] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    responses: list[dict] = field(default_factory=list)
    population: int | None = None
    rules: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


Collector = Callable[[Session, Evaluation], Contribution | None]

_COLLECTORS: dict[str, Collector] = {}


def collector(name: str) -> Callable[[Collector], Collector]:
    """Register a collector under a name (decorator); registering twice replaces it."""

    def register(function: Collector) -> Collector:
        _COLLECTORS[name] = function
        return function

    return register


def collect(session: Session, evaluation: Evaluation) -> list[Contribution]:
    return collect_from(session, evaluation)


def collect_from(session: Session, evaluation: Evaluation, *, exclude: str = ""
                 ) -> list[Contribution]:
    """What every collector (but ``exclude``) contributes, in the collectors' name order."""
    found = []
    for name in sorted(_COLLECTORS):
        if name == exclude:
            continue
        contribution = _COLLECTORS[name](session, evaluation)
        if contribution is not None:
            found.append(contribution)
    return found


def _patch_rules(node: dict, rules: dict[str, dict]) -> None:
    if node.get("id") in rules and "rule" in node:
        node["rule"].update(copy.deepcopy(rules[node["id"]]))
    for child in node.get("children", []):
        _patch_rules(child, rules)


def build_package(scheme_document: dict, contributions: list[Contribution], *,
                  package_id: str = "", payment: dict | None = None) -> dict:
    """One self-contained scoring package from the frozen scheme and the contributions."""
    scheme = copy.deepcopy(scheme_document)
    inputs: dict[str, Any] = {"sheets": [], "data": {}, "responses": []}
    rules: dict[str, dict] = {}
    for contribution in contributions:
        inputs["sheets"].extend(contribution.sheets)
        inputs["data"].update(contribution.data)
        inputs["responses"].extend(contribution.responses)
        if contribution.population is not None:
            inputs["population"] = contribution.population
        rules.update(contribution.rules)
    for part in scheme.get("parts", []):
        _patch_rules(part["tree"], rules)
    package: dict[str, Any] = {"format": "evalplatform-scoring/1", "id": package_id,
                               "scheme": scheme, "inputs": inputs}
    if payment is not None:
        package["payment"] = payment
    return package
