"""Working days on the Chinese calendar (工作日): weekends, public holidays and 调休 working days.

Deadlines counted in working days — the catalogue's publication (10), a contract's
publication (2), appeal windows — all use :func:`add_working_days`. The calendar comes
from the ``chinese_calendar`` package, which knows only the years it ships; a date outside
them raises :class:`CalendarUnavailable` rather than silently guessing a wrong date.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

from evalplatform.i18n import _
from evalplatform.services.errors import DomainError


class CalendarUnavailable(DomainError):
    """The holiday calendar for the year is not published (or not installed) yet."""

    status_code = 422


def known_years() -> tuple[int, int]:
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


def is_working_day(day: date) -> bool:
    first, last = known_years()
    if not first <= day.year <= last:
        raise CalendarUnavailable(_(
            "The holiday calendar for %(year)s is not available yet (known years: "
            "%(first)s–%(last)s); working-day deadlines in that year cannot be computed.",
            year=day.year, first=first, last=last))
    return chinese_calendar.is_workday(day)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start`` (``start`` itself is not counted).

    ``add_working_days(signed_on, 2)`` is the last day to publish a contract signed on
    ``signed_on``: signing on a Friday before an ordinary weekend gives the Tuesday.
    """
    if n < 0:
        raise ValueError("n must be zero or more")
    day = start
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def working_days_between(start: date, end: date) -> int:
    """How many working days lie after ``start`` up to and including ``end`` (0 if end ≤ start)."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
