"""Rates (比例、比率): a fraction of one for the engine, percent for people.

The scoring engine reads a rate — the measured value, the target or a band's bound of a leaf
whose unit is 比例 / 比率 / ratio (``scoring.RATIO_UNITS``) — as a fraction of one (0.95).
People type and read it in percent (95, or 95%): on the data form (``scoresheets``), in the
scheme editor (``schemes``) and in the Excel workbook (``scheme_excel``). The conversion
moves the decimal point, so nothing is rounded either way.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import scoring
from evalplatform.i18n import _, percent

#: A rate typed as 1 % or less may be a fraction of one (0.95) typed for a percentage (95):
#: it is said back to whoever typed it.
LIKELY_FRACTION = Decimal("0.01")
PERCENT_SIGNS = ("%", "％")
#: No figure typed into a scheme, a sheet or a measurement reaches 10¹⁵; a number written
#: beyond it ("1e309") is refused as not a number rather than carried into rounding and
#: storage that cannot hold it.
LARGEST_EXPONENT = 14


def within_reach(value: Decimal) -> bool:
    """Whether a decimal is finite and below 10¹⁵ in size."""
    return value.is_finite() and (not value or value.adjusted() <= LARGEST_EXPONENT)


def is_ratio_unit(unit: Any) -> bool:
    """Whether a leaf with this unit measures a rate kept as a fraction of one."""
    return str(unit or "").strip() in scoring.RATIO_UNITS


#: The most decimal places a typed number may carry: 1E-100000 is 12 characters typed and
#: 100,001 written out, which a scheme would store and every page would show.
MOST_PLACES = 20


def typed_within_reach(value: Decimal) -> bool:
    """Whether a typed decimal is within reach and has at most :data:`MOST_PLACES` places
    once its trailing zeros are dropped."""
    return within_reach(value) and (not value or value.normalize().as_tuple().exponent
                                    >= -MOST_PLACES)


def decimal_text(text: str) -> Decimal | None:
    """A typed number (thousands separators allowed) as a Decimal within reach, else None."""
    try:
        value = Decimal(text.replace(",", "").replace("，", ""))
    except InvalidOperation:
        return None
    return value if typed_within_reach(value) else None


def plain(value: Decimal) -> str:
    """12.50 → '12.5', 20 → '20' (never an exponent)."""
    return format(value.normalize(), "f")


def has_percent_sign(raw: str) -> bool:
    return str(raw or "").strip().endswith(PERCENT_SIGNS)


def percent_number(raw: str) -> Decimal | None:
    """The number of percent typed (95, 95%, 97.46 %, ９５％ → 95, 97.46); None if not a
    number."""
    text = str(raw or "").strip()
    if text.endswith(PERCENT_SIGNS):
        text = text[:-1].rstrip()
    return decimal_text(text) if text else None


def percent_to_ratio(raw: str) -> Decimal | None:
    """A percentage as typed (95, 95%, 97.46 %, ９５％) as the fraction of one it stands for
    (0.95, 0.9746), exactly: the decimal point moves, no arithmetic rounds. None if it is not
    a number."""
    value = percent_number(raw)
    return value.scaleb(-2) if value is not None else None


def ratio_as_percent(value: Any) -> str:
    """A stored fraction of one as the number of percent a form shows (0.9746 → '97.46')."""
    number = decimal_text(str(value))
    return plain(number.scaleb(2)) if number is not None else str(value)


def likely_fraction(ratio: Decimal) -> bool:
    """A rate of 1 % or less (typed 0.95 or 1 where percent is expected): perhaps a fraction of
    one typed for a percentage."""
    return 0 < ratio <= LIKELY_FRACTION


def read_as(ratio: Decimal) -> str:
    """What a likely fraction was read as, and what to type if it was one: 'Read as 0.95%.
    If you meant 95%, type 95.'"""
    typed = ratio.scaleb(2)
    return _("Read as %(read)s. If you meant %(meant)s, type %(typed)s.",
             read=percent(plain(typed)), meant=percent(plain(typed.scaleb(2))),
             typed=plain(typed.scaleb(2)))
