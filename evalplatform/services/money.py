"""Reading amounts people type: yuan with up to two decimals → integer fen."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from evalplatform.i18n import _


def parse_yuan(value: str | None) -> tuple[int | None, str | None]:
    """'1,200,000.50' or '¥1200000' → (120000050, None); a bad value → (None, message)."""
    text = (value or "").strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    if not text:
        return None, _("Enter an amount in yuan.")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None, _("Enter an amount in yuan, e.g. 1200000.00.")
    if not amount.is_finite() or amount <= 0:
        return None, _("The amount must be greater than zero.")
    if amount.adjusted() >= 13:  # ¥10¹³ and more: beyond the fen the column holds (and 1e309)
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
