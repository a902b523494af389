"""Reading amounts people type: yuan with up to two decimals → integer fen."""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from evalplatform.i18n import _

#: Digits, grouped by thousands with commas or not grouped at all, and up to any decimals (the
#: fen rule is told apart): "1234567.89", "1,234,567.89". A comma elsewhere ("1,234,56") is a
#: slip that would read as another amount, so it is refused, never dropped.
_AMOUNT = re.compile(r"^[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.[0-9]*)?$")


def parse_yuan(value: str | None) -> tuple[int | None, str | None]:
    """'1,200,000.50' or '¥1200000' → (120000050, None); a bad value → (None, message).

    Full-width forms (１２３４．５６, ￥, ，) read as their ASCII forms and a trailing 元 is
    dropped; thousands separators must group by three."""
    text = unicodedata.normalize("NFKC", value or "").strip().lstrip("¥").strip()
    text = text.removesuffix("元").strip()
    if not text:
        return None, _("Enter an amount in yuan.")
    if not _AMOUNT.match(text) or not re.search("[0-9]", text):
        try:  # a number too large to hold (1e309) is told so, whatever its form
            huge = Decimal(text.replace(",", ""))
        except InvalidOperation:
            huge = None
        if huge is not None and huge.is_finite() and huge.adjusted() >= 13:
            return None, _("The amount is too large.")
        if huge is not None and "," in text and huge.is_finite():
            return None, _("Group the digits by three with commas, e.g. 1,234,567.89, or "
                           "type no commas.")
        return None, _("Enter an amount in yuan, e.g. 1200000.00.")
    amount = Decimal(text.replace(",", ""))
    if amount <= 0:
        return None, _("The amount must be greater than zero.")
    if amount.adjusted() >= 13:  # ¥10¹³ and more: beyond the fen the column holds
        return None, _("The amount is too large.")
    if amount != amount.quantize(Decimal("0.01")):
        return None, _("The amount has at most two decimals (fen).")
    fen = int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    if fen >= 10**15:
        return None, _("The amount is too large.")
    return fen, None


def fen_to_yuan_text(fen: int | None) -> str:
    if fen is None:
        return ""
    return f"{Decimal(fen) / 100:.2f}"
