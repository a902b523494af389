"""Mixing answers (答卷混排): a stored answer cannot be told from the others of its group by
when, or together with what, it was written.

A code's use and its answers commit in one transaction, as they must for a code to be used
exactly once. On PostgreSQL that transaction stamps both rows with its id (the hidden
``xmin`` column), so ``invitation JOIN survey_response ON xmin`` would give each used code
its answers, and an open link's answers the throttle counter of their address; transaction
ids also run in the order of time, and rows lie in a table in the order they were written
(PostgreSQL's ``ctid``, SQLite's ``rowid``). Mixing rewrites answers in a later transaction
of its own, many at once and in a random order: they all take that transaction's id, which
no invitation or counter carries, and places that say nothing of the order they came in.

A group is never smaller than :data:`MIX_AT` answers of one survey (the smallest group that
tabulation shows apart): :func:`mix_due` mixes the unmixed answers of each survey that has
that many. :func:`mix_survey`, when the survey closes, mixes all of its answers together,
so that the last few join the rest. Both flush and leave the commit to the caller; the
answers' ids, values and days stay as they were.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, not_, select, true
from sqlmodel import Session, col

from surveys.models import SurveyResponse
from surveys.tabulation import MIN_GROUP

#: The fewest answers of one survey mixed together while it is open.
MIX_AT = MIN_GROUP

#: PostgreSQL advisory lock held by the transaction that mixes (one mixer at a time).
_MIXER_LOCK = 0x6D_69_78_65_64  # "mixed"

_TABLE = SurveyResponse.__table__
_KEPT = [c for c in _TABLE.c if c.name != "mixed"]
#: The answers waiting to be mixed, written as the partial index's own condition (``NOT
#: mixed``) so that both databases find them by that index, never by reading the table.
WAITING = not_(_TABLE.c.mixed)


@dataclass(frozen=True)
class Mixed:
    """What one mixing did: ``answers`` rewritten, of ``surveys`` surveys."""

    answers: int
    surveys: int


def unmixed(session: Session, survey_id: int | None = None) -> int:
    """How many answers (of one survey, or of all) wait to be mixed."""
    statement = select(func.count()).select_from(_TABLE).where(WAITING)
    if survey_id is not None:
        statement = statement.where(SurveyResponse.survey_id == survey_id)
    return int(session.connection().execute(statement).scalar_one())


def mix_due(session: Session, at_least: int = MIX_AT) -> Mixed | None:
    """Mix the unmixed answers of every survey that has at least ``at_least`` of them, each
    survey's in one group. None, and nothing done, when another transaction is mixing
    (PostgreSQL): that one takes them, or the next round does."""
    if at_least < 1:
        raise ValueError("at_least: must be at least 1")
    if not _lock(session, wait=False):
        return None
    unmixed_of = (select(SurveyResponse.survey_id).where(WAITING)
                  .group_by(SurveyResponse.survey_id).having(func.count() >= at_least))
    return _rewrite(session, WAITING, col(SurveyResponse.survey_id).in_(unmixed_of))


def mix_survey(session: Session, survey_id: int) -> Mixed:
    """Mix every answer of the survey together, the mixed ones again (at its close: however
    few came last, they go in with all the others). Waits for another mixer to finish."""
    _lock(session, wait=True)
    return _rewrite(session, SurveyResponse.survey_id == survey_id)


def _lock(session: Session, *, wait: bool) -> bool:
    """PostgreSQL: take the mixer's lock until the transaction ends (False: another holds it
    and ``wait`` is False). SQLite lets one transaction write at a time anyway."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return True
    if wait:
        connection.execute(select(func.pg_advisory_xact_lock(_MIXER_LOCK)))
        return True
    return bool(connection.execute(select(func.pg_try_advisory_xact_lock(_MIXER_LOCK))).scalar())


def _rewrite(session: Session, *where) -> Mixed:
    """Delete the answers that ``where`` selects and insert them again, marked mixed, in a
    random order, in the caller's transaction."""
    connection = session.connection()
    taken = delete(_TABLE).where(*where).returning(*_KEPT)
    names = [c.name for c in _KEPT]
    if connection.dialect.name == "postgresql":
        # one statement: the rows never leave the database; gen_random_uuid() is drawn from
        # the server's strong random source
        moved = taken.cte("moved")
        counted = connection.execute(
            insert(_TABLE).from_select(
                [*names, "mixed"],
                select(*[moved.c[name] for name in names], true())
                .order_by(func.gen_random_uuid()))
            .returning(SurveyResponse.survey_id)).scalars().all()
        return Mixed(len(counted), len(set(counted)))
    rows = [dict(row._mapping) for row in connection.execute(taken)]
    secrets.SystemRandom().shuffle(rows)
    if rows:
        connection.execute(insert(_TABLE), [{**row, "mixed": True} for row in rows])
    return Mixed(len(rows), len({row["survey_id"] for row in rows}))


__all__ = ["MIX_AT", "WAITING", "Mixed", "mix_due", "mix_survey", "unmixed"]
