"""Years as people type them (年度): a project's budget year, a catalogue's, a report's.

Every form and filter that takes a year reads it here, so that all of them accept the
same writing and refuse the rest with the same sentence.
"""

from __future__ import annotations

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
