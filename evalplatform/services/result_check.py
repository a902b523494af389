"""Re-scoring every stored result from its own package (结果复核).

Each result version keeps the exact scoring package it was computed from (see
``models/results.py``). :func:`check_all` scores all of them again, many at a time with
``scoring.evaluate_many``, and compares the engine's answer today with what was stored:
an auditor's proof that every published figure still follows from its inputs, and the
check to run after upgrading the engine. Nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, select

import scoring
from evalplatform.models import Evaluation, EvaluationResult, Role

# who may re-score every result: the roles that read every result version
CHECKERS = (Role.auditor, Role.finance)

# the parts of a result that are figures; the rest (engine, trace, warnings, the payment's
# basis) explains them
FIGURES = ("scheme_digest", "total", "exact_total", "grade", "final_ready", "missing",
           "parts", "nodes", "quality", "payment")


@dataclass(frozen=True)
class Difference:
    """A stored result whose package no longer gives it."""

    result_id: int
    evaluation_id: int
    version: int
    figure: str  # a key of FIGURES, or "package" when the package is no longer valid
    stored: str
    recomputed: str
    engine: str = ""  # the engine that stored the result


@dataclass(frozen=True)
class Upgrade:
    """Stored results whose figure an earlier engine computed otherwise (scoring.ENGINE_CHANGES):
    a change of method, documented in the engine, not a result that no longer follows."""

    engine: str
    figure: str
    differences: list[Difference]


@dataclass
class CheckReport:
    checked: int = 0
    differences: list[Difference] = field(default_factory=list)
    reworded: int = 0  # same figures, explained in other words (a newer engine's trace)
    # figures an earlier engine computed otherwise, by (engine, figure)
    changed: dict[tuple[str, str], list[Difference]] = field(default_factory=dict)

    @property
    def upgrades(self) -> list[Upgrade]:
        return [Upgrade(engine, figure, found)
                for (engine, figure), found in sorted(self.changed.items())]

    @property
    def ok(self) -> bool:
        return not self.differences


def _short(value) -> str:
    """A figure as text: a decimal string or grade as it is, anything else as JSON."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def _figure(result: dict, key: str):
    """A figure of a stored or recomputed result, without the sentences that explain it (a
    payment's ``basis``, the quality's ``alpha_note`` and each panel's ``note``): like the
    trace, they may be worded otherwise by a newer engine."""
    value = result.get(key)
    if key == "payment" and isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "basis"}
    if key == "quality" and isinstance(value, dict):
        return {**{k: v for k, v in value.items() if k != "alpha_note"},
                "panels": [{k: v for k, v in panel.items() if k != "note"}
                           if isinstance(panel, dict) else panel
                           for panel in value.get("panels") or []]}
    return value


def _compare(row, answer: dict, report: CheckReport) -> None:
    stored = row.result or {}
    # the stored answer went through JSON: compare like with like
    answer = json.loads(json.dumps(answer, ensure_ascii=False))
    engine = stored.get("engine") or ""
    changed = scoring.ENGINE_CHANGES.get(engine, ()) if engine != scoring.ENGINE else ()
    found = False
    for key in FIGURES:
        if _figure(stored, key) != _figure(answer, key):
            found = True
            diff = Difference(row.id, row.evaluation_id, row.version, key,
                              _short(stored.get(key)), _short(answer.get(key)), engine)
            if key in changed:
                report.changed.setdefault((engine, key), []).append(diff)
            else:
                report.differences.append(diff)
    if not found and stored != answer:
        report.reworded += 1


def _score_one(package: dict):
    """The engine's answer for one package, or its fault."""
    try:
        return scoring.evaluate(package)
    except scoring.PackageError as exc:
        return exc


def _check_chunk(rows: list, report: CheckReport) -> None:
    packages = [row.package for row in rows]
    try:
        answers = scoring.evaluate_many(packages)
    except scoring.PackageError:  # one package is bad: one by one, to name each fault
        answers = [_score_one(package) for package in packages]
    for row, answer in zip(rows, answers, strict=True):
        if isinstance(answer, scoring.PackageError):
            report.differences.append(Difference(row.id, row.evaluation_id, row.version,
                                                 "package", "",
                                                 f"{answer.path}: {answer.message}"))
        else:
            _compare(row, answer.as_dict(), report)
    report.checked += len(rows)


def check_all(session: Session, *, chunk: int = 500,
              progress: Callable[[int, int], None] | None = None) -> CheckReport:
    """Score every stored result version again from its package and compare.

    Results are read ``chunk`` at a time in id order (a chunk's packages are scored
    together), so memory stays bounded however many there are; ``progress(done, total)``
    is called after each chunk."""
    if chunk < 1:
        raise ValueError("chunk: must be at least 1")
    total = session.exec(select(func.count()).select_from(EvaluationResult)).one()
    r = EvaluationResult
    columns = select(r.id, r.evaluation_id, r.version, r.package, r.result).order_by(r.id)
    report = CheckReport()
    last = 0
    while True:
        # plain rows, not entities: nothing stays in the session's identity map
        rows = session.exec(columns.where(r.id > last).limit(chunk)).all()
        if not rows:
            break
        _check_chunk(rows, report)
        last = rows[-1].id
        if progress is not None:
            progress(report.checked, total)
    return report


def evaluation_titles(session: Session, report: CheckReport) -> dict[int, str]:
    """The titles of the evaluations that have a difference, to name them to people."""
    ids = {d.evaluation_id for d in report.differences}
    ids |= {d.evaluation_id for found in report.changed.values() for d in found}
    if not ids:
        return {}
    return dict(session.exec(select(Evaluation.id, Evaluation.title)
                             .where(Evaluation.id.in_(ids))).all())
