"""Builders for the settlement and standing tests: final results made directly.

The results capability computes and publishes results; these tests only need what it leaves
behind in the ``evaluation_result`` table and the evaluation's status, so they write them
directly, like a result that went through publication and an appeal window without appeal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from evalplatform.models import (
    EvaluationResult,
    EvaluationStatus,
    Instalment,
    Role,
    User,
)
from evalplatform.services import evaluations
from evalplatform.services.audit import Actor
from tests.builders import World, schedule


@dataclass
class Principal:
    """What services need of a signed-in user."""

    actor: Actor
    role: Role
    organisation_id: int | None

    @property
    def id(self) -> int:
        return self.actor.id


def principal(user: User) -> Principal:
    return Principal(Actor(user.id, user.username), Role(user.role), user.organisation_id)


def to_status(db, world: World, evaluation, status: str):
    """Move the evaluation forward one step at a time up to ``status``."""
    order = [s.value for s in EvaluationStatus]
    while order.index(evaluation.status.value) < order.index(status):
        nxt = order[order.index(evaluation.status.value) + 1]
        evaluation = evaluations.advance(db, world.p_actor, evaluation.id, nxt)
    return evaluation


def add_result(db, evaluation, total: str, grade: str, *, version: int = 1,
               final_on: date | None = date(2026, 7, 20), published_on: date = date(2026, 7, 10),
               recipient: str | None = "88.0000", final_ready: bool = True) -> EvaluationResult:
    parts = [{"id": "P", "party": "purchaser", "score": total}]
    if recipient is not None:
        parts.append({"id": "R", "party": "recipient", "score": recipient})
    result = EvaluationResult(
        evaluation_id=evaluation.id, version=version, total=total, grade=grade,
        final_ready=final_ready, package={}, result={"total": total, "grade": grade,
                                                     "parts": parts},
        published_at=datetime.combine(published_on, time(2, 0), tzinfo=UTC),
        appeal_deadline=published_on,
        final_at=datetime.combine(final_on, time(2, 0), tzinfo=UTC) if final_on else None)
    db.add(result)
    db.commit()
    db.refresh(result)
    return result


def final_evaluation(db, world: World, total: str, grade: str, *, stage: str = "final",
                     start: str | None = None, end: str | None = None,
                     final_on: date = date(2026, 7, 20), title: str = "", **kwargs):
    """A scheduled evaluation of the world's contract, published and final with ``total``."""
    if stage == "interim":
        start, end = start or "2026-01-05", end or "2026-06-30"
        evaluation = schedule(db, world, stage="interim", start=start, end=end,
                              opens="2026-07-01", closes="2026-07-05", title=title)
    else:
        start, end = start or "2026-01-05", end or "2026-12-31"
        evaluation = schedule(db, world, stage="final", start=start, end=end, title=title)
    evaluation = to_status(db, world, evaluation, "final")
    add_result(db, evaluation, total, grade, final_on=final_on, **kwargs)
    return evaluation


def instalment(db, world: World, seq: int) -> Instalment:
    from sqlmodel import select

    return db.exec(select(Instalment).where(Instalment.contract_id == world.contract.id,
                                            Instalment.seq == seq)).one()


def approved_on_signing(db, world: World):
    """The on-signing instalment (¥234,000, due 4 February 2026) proposed and approved, its
    approval dated 1 June 2026: a settlement that was already overdue when approved."""
    from evalplatform.services import settlements

    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 1).id)
    settlement = settlements.approve(db, principal(world.finance), settlement.id)
    settlement.decided_at = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    db.add(settlement)
    db.commit()
    return settlement
