"""Working days on the Chinese calendar (工作日): weekends, public holidays and 调休 working days.

Deadlines counted in working days — the catalogue's publication (10), a contract's
publication (2), appeal windows — all use :func:`add_working_days`; a period counted in
calendar days that ends on a day off runs to the next working day (:func:`period_end`). The calendar comes
from the ``chinese_calendar`` package, which knows the years it ships. Each year's schedule
is set by the State Council's notice (国务院办公厅关于部分节假日安排的通知), published in the
autumn before; until a release of the package carries it, an administrator loads the notice's
days for that year (on the page /admin/holidays or with ``evalplatform holidays load YEAR
FILE``: :func:`load_year`) into the variable-data folder, where every worker process reads
it. A date in a year known to neither raises :class:`CalendarUnavailable` rather than
silently guessing a wrong date.

A schedule file has one line per day that differs from an ordinary week, the date, ``休``
(a day off) or ``班`` (a weekend day worked, 调休) and the holiday's name; ``#`` starts a
comment::

    # 国务院办公厅关于2027年部分节假日安排的通知
    2027-01-01 休 元旦
    2027-02-06 班 春节
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import chinese_calendar
from sqlmodel import Session

from evalplatform.i18n import _
from evalplatform.models import Role
from evalplatform.services import audit, dashboard
from evalplatform.services.audit import Actor
from evalplatform.services.errors import DomainError, ValidationFailed
from evalplatform.settings import get_settings


class CalendarUnavailable(DomainError):
    """The holiday calendar for the year is not published (or not installed) yet."""

    status_code = 422


#: How a schedule line names its kind of day.
OFF, WORKED = "休", "班"
_KINDS = {"休": OFF, "off": OFF, "班": WORKED, "work": WORKED}
_LINE = re.compile(r"^(\S+)\s+(\S+)(?:\s+(.+))?$")


@dataclass(frozen=True)
class Schedule:
    """One year's days that differ from an ordinary week: days off and weekend days worked."""

    year: int
    off: dict[date, str] = field(default_factory=dict)
    worked: dict[date, str] = field(default_factory=dict)

    def is_working_day(self, day: date) -> bool:
        if day in self.off:
            return False
        return day in self.worked or day.weekday() < 5


@lru_cache(maxsize=1)
def package_years() -> tuple[int, int]:
    """The first and last year that the installed ``chinese_calendar`` knows."""
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


def schedule_dir() -> Path:
    return get_settings().var_dir / "holidays"


def _schedule_path(year: int) -> Path:
    return schedule_dir() / f"{year}.txt"


def parse_schedule(year: int, text: str) -> Schedule:
    """A year's schedule from its text; every broken line is named with its rule
    (``ValidationFailed``, one error per line), and nothing is returned then."""
    errors: dict[str, str] = {}
    off: dict[date, str] = {}
    worked: dict[date, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = _("line %(n)s", n=number)
        match = _LINE.match(line)
        if not match:
            errors[where] = _("Write the date, 休 or 班 and the holiday's name, e.g. "
                              "“%(year)s-01-01 休 元旦”.", year=year)
            continue
        written, kind, name = match.group(1), _KINDS.get(match.group(2)), (match.group(3) or "")
        try:
            day = date.fromisoformat(written)
        except ValueError:
            errors[where] = _("“%(value)s” is not a date (YYYY-MM-DD).", value=written)
            continue
        if day.year != year:
            errors[where] = _("%(day)s is not in %(year)s.", day=day.isoformat(), year=year)
        elif kind is None:
            errors[where] = _("The kind of day is 休 (a day off) or 班 (a weekend day worked), "
                              "not “%(value)s”.", value=match.group(2))
        elif day in off or day in worked:
            errors[where] = _("%(day)s is listed twice.", day=day.isoformat())
        elif kind == WORKED and day.weekday() < 5:
            errors[where] = _("%(day)s is a weekday: only a Saturday or Sunday can be a day "
                              "worked in exchange (班).", day=day.isoformat())
        elif kind == OFF:
            off[day] = name.strip()
        else:
            worked[day] = name.strip()
    if not errors and date(year, 1, 1) not in off:
        errors["schedule"] = _("1 January (元旦) is a day off every year and is missing: is this "
                               "the whole notice for %(year)s?", year=year)
    if errors:
        raise ValidationFailed(errors)
    return Schedule(year, off, worked)


_loaded: dict[Path, tuple[int, Schedule]] = {}


def loaded_schedule(year: int) -> Schedule | None:
    """The schedule an administrator loaded for ``year``, or None (read again when the file
    changes, so that every worker process sees a newly loaded year)."""
    path = _schedule_path(year)
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        _loaded.pop(path, None)
        return None
    cached = _loaded.get(path)
    if cached is None or cached[0] != stamp:
        try:
            cached = (stamp, parse_schedule(year, path.read_text(encoding="utf-8")))
        except ValidationFailed as exc:  # edited by hand since it was loaded
            raise CalendarUnavailable(_(
                "The holiday schedule loaded for %(year)s cannot be read (%(problem)s); load "
                "it again.", year=year, problem=exc.message)) from None
        _loaded[path] = cached
    return cached[1]


def loaded_years() -> list[int]:
    folder = schedule_dir()
    if not folder.is_dir():
        return []
    return sorted(int(p.stem) for p in folder.glob("*.txt") if p.stem.isdigit())


def load_schedule(year: int, text: str) -> Schedule:
    """Check a year's schedule and keep it for every worker process (written whole, then
    moved into place). A year that the installed package knows is refused: its calendar
    is the reference."""
    first, last = package_years()
    if first <= year <= last:
        raise ValidationFailed({"year": _(
            "The calendar for %(year)s is already built in (known years: %(first)s–%(last)s).",
            year=year, first=first, last=last)})
    schedule = parse_schedule(year, text)
    folder = schedule_dir()
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{year}.txt.{os.getpid()}"
    partial.write_text(text, encoding="utf-8")
    partial.replace(_schedule_path(year))
    return schedule


def load_year(session: Session, actor: Actor, year_text: str, text: str) -> Schedule:
    """An administrator's loading of a year (the page's form): the year checked, the schedule
    loaded, and an entry in the audit trail (deadlines in that year depend on it)."""
    written = (year_text or "").strip()
    if not (written.isascii() and written.isdigit() and len(written) == 4):
        raise ValidationFailed({"year": _("Write the year with four digits, e.g. %(year)s.",
                                          year=package_years()[1] + 1)})
    year = int(written)
    schedule = load_schedule(year, text)
    audit.record(session, actor, "holidays.load", "holiday_schedule", year, {
        "off": [d.isoformat() for d in sorted(schedule.off)],
        "worked": [d.isoformat() for d in sorted(schedule.worked)]})
    session.commit()
    return schedule


def known_calendar() -> dict:
    """What the working days are known from: the built-in years, each loaded year's schedule
    and, for a loaded file that cannot be read (edited by hand), why (``broken``)."""
    first, last = package_years()
    loaded, broken = [], {}
    for year in loaded_years():
        try:
            loaded.append(loaded_schedule(year))
        except CalendarUnavailable as exc:
            broken[year] = exc.message
    return {"first": first, "last": last, "loaded": loaded, "broken": broken}


#: From this month the State Council's notice for next year is usually out (it comes in the
#: autumn), and deadlines counted from late in the year run into January.
NEXT_YEAR_FROM_MONTH = 10


def missing_years(today: date) -> list[int]:
    """The years deadlines need now and the platform does not know: this year, and next year
    from October. A loaded file that cannot be read counts as missing."""
    first, last = package_years()
    wanted = [today.year] + ([today.year + 1] if today.month >= NEXT_YEAR_FROM_MONTH else [])
    missing = []
    for year in wanted:
        if first <= year <= last:
            continue
        try:
            known = loaded_schedule(year) is not None
        except CalendarUnavailable:
            known = False
        if not known:
            missing.append(year)
    return missing


@dashboard.provider
def _calendar_card(session: Session, role: Role, _org: int | None) -> list[dashboard.Card]:
    """The administrator's warning, before a deadline is refused for it, that a year's
    holiday schedule is still to be loaded."""
    from evalplatform.services import projects

    if role != Role.admin:
        return []
    missing = missing_years(projects.today())
    if not missing:
        return []
    return [dashboard.Card(
        _("Holiday calendar to load"), " / ".join(str(y) for y in missing),
        _("Working-day deadlines (contract publication, appeal windows, the catalogue's "
          "publication) that fall in these years cannot be computed until the State Council's "
          "notice is loaded."), "/admin/holidays", urgent=True)]


def is_working_day(day: date) -> bool:
    first, last = package_years()
    if first <= day.year <= last:
        return chinese_calendar.is_workday(day)
    schedule = loaded_schedule(day.year)
    if schedule is None:
        raise CalendarUnavailable(_(
            "The holiday calendar for %(year)s is not available yet (known years: "
            "%(first)s–%(last)s%(loaded)s); working-day deadlines in that year cannot be "
            "computed. An administrator loads the year's days from the State Council's notice "
            "on the page Holidays (/admin/holidays).",
            year=day.year, first=first, last=last,
            loaded="".join(f", {y}" for y in loaded_years())))
    return schedule.is_working_day(day)


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


def period_end(day: date) -> date:
    """The last day of a period counted in calendar days (30 days to pay, 15 to file), whose
    count ends on ``day``: ``day`` itself, or where it is a day off — a weekend not worked
    (调休) or a public holiday — the first working day after it (民法典 第二百零三条: 期间的
    最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日).

    Where the year's calendar is not available yet, only the days off every year has are
    skipped: weekends and the holidays of a fixed date (元旦 1 January, 劳动节 1 May, 国庆
    1–3 October); the lunar holidays and the 调休 of that year are not known until its notice
    is loaded (the administrator's home page says so from October).
    """
    end = day
    try:
        while not is_working_day(end):
            end += timedelta(days=1)
    except CalendarUnavailable:
        end = day
        while end.weekday() >= 5 or (end.month, end.day) in FIXED_HOLIDAYS:
            end += timedelta(days=1)
    return end


#: The statutory days off of a fixed date, whatever a year's notice adds around them.
FIXED_HOLIDAYS = {(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)}


def working_days_between(start: date, end: date) -> int:
    """How many working days lie after ``start`` up to and including ``end`` (0 if end ≤ start)."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
