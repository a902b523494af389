"""Years as people type them (年度): a project's budget year, a catalogue's, a report's.

Every form and filter that takes a year reads it here, so that all of them accept the
same writing and refuse the rest with the same sentence.
"""

from __future__ import annotations

from datetime import date

from evalplatform.i18n import _

#: The years the platform accepts anywhere a year is typed.
FIRST, LAST = 2000, 2100

#: Full-width digits (０–９) to their ASCII forms.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def parse(text) -> int | None:
    """The year ``text`` names, or None: four digits from 2000 to 2100, with spaces around
    them and full-width digits (２０２６, as a Chinese input method types them) accepted.
    "2_026", "+2026" and "二〇二六" are refused, though ``int`` would take the first two."""
    written = ("" if text is None else str(text)).translate(_FULL_WIDTH).strip()
    if len(written) == 4 and written.isascii() and written.isdigit():
        year = int(written)
        if FIRST <= year <= LAST:
            return year
    return None


def problem() -> str:
    """What to tell someone whose year :func:`parse` refused, in their language."""
    return _("Enter a year such as 2026.")


def within(day: date | None) -> bool:
    """Whether a typed date falls in the years the platform accepts (a date of year 1 or
    9999 would overflow the arithmetic of deadlines and time zones)."""
    return day is not None and FIRST <= day.year <= LAST


def day_problem() -> str:
    """What to tell someone whose date lies outside those years, in their language."""
    return _("Enter a date from %(first)s to %(last)s.", first=FIRST, last=LAST)
