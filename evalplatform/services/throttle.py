"""Database-backed throttles: failure counters with a lock-out, shared by all processes.

Each limiter uses its own key prefix (``login:`` for failed sign-ins of one account), so one
limiter's counts never spill into another's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from evalplatform.models import ThrottleCounter
from evalplatform.services.clock import as_utc, now


@dataclass(frozen=True)
class ThrottleState:
    locked: bool
    retry_after_seconds: int = 0
    count: int = 0


def _load(session: Session, key: str) -> ThrottleCounter | None:
    return session.exec(
        select(ThrottleCounter).where(ThrottleCounter.key == key).with_for_update()
    ).first()


def check(session: Session, key: str, at: datetime | None = None) -> ThrottleState:
    """Is the key locked out right now?"""
    at = at or now()
    counter = session.get(ThrottleCounter, key)
    if counter is None:
        return ThrottleState(False)
    locked_until = as_utc(counter.locked_until)
    if locked_until and locked_until > at:
        return ThrottleState(True, int((locked_until - at).total_seconds()) + 1, counter.count)
    return ThrottleState(False, 0, counter.count)


def register_failure(
    session: Session,
    key: str,
    limit: int,
    window_seconds: int,
    at: datetime | None = None,
) -> ThrottleState:
    """Count one failure; at ``limit`` failures within the window the key locks for a window.

    The caller commits (so the count survives even though the attempt failed).
    """
    at = at or now()
    window = timedelta(seconds=window_seconds)
    counter = _load(session, key)
    if counter is None:
        counter = ThrottleCounter(key=key, window_start=at, count=0)
    elif as_utc(counter.window_start) + window <= at:
        counter.window_start, counter.count, counter.locked_until = at, 0, None
    counter.count += 1
    if counter.count >= limit:
        counter.locked_until = at + window
    session.add(counter)
    session.flush()
    locked_until = as_utc(counter.locked_until)
    if locked_until and locked_until > at:
        return ThrottleState(True, int((locked_until - at).total_seconds()), counter.count)
    return ThrottleState(False, 0, counter.count)


def clear(session: Session, key: str) -> None:
    counter = session.get(ThrottleCounter, key)
    if counter is not None:
        session.delete(counter)
        session.flush()
