"""Exact rounding of scores and payment rules (结算规则).

One rounding function serves every path: a float score is first snapped to 9 decimals
(which removes floating-point noise such as 89.99999999999997) and then rounded half-up to
two decimals on its decimal value. Money is ``Decimal`` throughout, to the fen (分).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .text import Text, joined

__all__ = ["PaymentResult", "apply_payment", "round_score", "parse_payment_rule", "CENT"]

CENT = Decimal("0.01")
RATIO_PLACES = Decimal("0.0001")
_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)


def snap(x: float) -> Decimal:
    """The decimal value of a float score, snapped to 9 decimals."""
    return Decimal(repr(round(float(x), 9)))


def _round_float(x: float) -> Decimal:
    """``round_score`` of a finite float, to two decimals."""
    return Decimal(repr(round(x, 9))).quantize(CENT, rounding=ROUND_HALF_UP)


def round_score(x, places: str = "0.01") -> Decimal:
    """Round a score once, half-up, to ``places`` (two decimals by default).

    Floats are snapped to 9 decimals first: 89.995 → 90.00, 89.9949 → 89.99, and a weighted
    sum that floating point gives as 89.99999999999 → 90.00. Decimals and decimal strings are
    rounded as they are.
    """
    if isinstance(x, Decimal):
        d = x
    elif isinstance(x, str):
        try:
            d = Decimal(x.strip())
        except InvalidOperation:
            raise ValueError(f"score: not a decimal number: {x!r}") from None
    elif isinstance(x, int) and not isinstance(x, bool):
        d = Decimal(x)
    elif isinstance(x, float):
        if x != x or x in (float("inf"), float("-inf")):
            raise ValueError("score: must be a finite number")
        if places == "0.01":
            return _round_float(x)
        d = snap(x)
    else:
        raise ValueError(f"score: must be a number, a Decimal or a decimal string, got "
                         f"{type(x).__name__}")
    if not d.is_finite():
        raise ValueError("score: must be a finite number")
    return d.quantize(Decimal(places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """What a performance-linked instalment pays (结算): ratio, payable and deduction.

    ``payable + deduction == amount`` exactly; ``basis`` says in words how the ratio was
    found.
    """

    total: Decimal
    amount: Decimal
    ratio: Decimal
    payable: Decimal
    deduction: Decimal
    basis: str


class _RuleError(ValueError):
    def __init__(self, message: str, path: str):
        super().__init__(message)
        self.message = message
        self.path = path


def _dec(v, path: str, what: str) -> Decimal:
    if isinstance(v, bool) or v is None:
        raise _RuleError(f"{what} 必须是十进制数", path)
    if isinstance(v, float):
        v = repr(v)
    try:
        d = Decimal(v.strip() if isinstance(v, str) else v)
    except (InvalidOperation, TypeError, ValueError):
        raise _RuleError(f"{what} 必须是十进制数, 得到 {json.dumps(v, ensure_ascii=False)}",
                         path) from None
    if not d.is_finite():
        raise _RuleError(f"{what} 必须是有限的数", path)
    return d


def parse_payment_rule(rule, path: str = "rule") -> dict:
    """Check a payment rule and return it with Decimals.

    ``{"bands": [{"min": "90", "ratio": "1.00"}, {"min": "80", "ratio": "0.95"}, ...]}``:
    inclusive lower bounds, highest first; a total below the lowest band pays 0.

    ``{"linear": {"floor": "60", "full": "100", "floor_ratio": "0.6"}}``: below ``floor``
    the ratio is 0; from ``floor`` to ``full`` it rises in a straight line from
    ``floor_ratio`` to 1; at ``full`` and above it is 1. ``full`` defaults to 100 and
    ``floor_ratio`` to floor / full, which makes the ratio simply total / full.
    Raises ``_RuleError`` (a ``ValueError`` with ``.path``).
    """
    if not isinstance(rule, dict):
        raise _RuleError("结算规则必须是 JSON 对象 (bands 或 linear)", path)
    kinds = [k for k in ("bands", "linear") if k in rule]
    if len(kinds) != 1 or len(rule) != 1:
        raise _RuleError("结算规则必须且只能有 bands 或 linear 其中之一", path)
    if kinds[0] == "bands":
        bands = rule["bands"]
        if not isinstance(bands, list) or not bands:
            raise _RuleError("bands 必须是非空数组", f"{path}.bands")
        out = []
        for i, b in enumerate(bands):
            bp = f"{path}.bands[{i}]"
            if not isinstance(b, dict):
                raise _RuleError("每一档必须是 {min, ratio} 对象", bp)
            lo = _dec(b.get("min"), f"{bp}.min", "分档下限 min")
            ratio = _dec(b.get("ratio"), f"{bp}.ratio", "支付比例 ratio")
            if not 0 <= lo <= 100:
                raise _RuleError(f"分档下限 {lo} 必须在 0 到 100 之间", f"{bp}.min")
            if not 0 <= ratio <= 1:
                raise _RuleError(f"支付比例 {ratio} 必须在 0 到 1 之间", f"{bp}.ratio")
            if out and lo >= out[-1][0]:
                raise _RuleError("分档须按下限从高到低排列", f"{bp}.min")
            out.append((lo, ratio))
        return {"bands": out}
    lin = rule["linear"]
    lp = f"{path}.linear"
    if not isinstance(lin, dict):
        raise _RuleError("linear 必须是 {floor, full, floor_ratio} 对象", lp)
    floor = _dec(lin.get("floor"), f"{lp}.floor", "下限 floor")
    full = _dec(lin.get("full", "100"), f"{lp}.full", "满额分数 full")
    if not 0 <= floor < full <= 100:
        raise _RuleError(f"须 0 ≤ floor ({floor}) < full ({full}) ≤ 100", lp)
    if "floor_ratio" in lin:
        fr = _dec(lin["floor_ratio"], f"{lp}.floor_ratio", "下限处比例 floor_ratio")
        if not 0 <= fr <= 1:
            raise _RuleError(f"floor_ratio {fr} 必须在 0 到 1 之间", f"{lp}.floor_ratio")
    else:
        fr = floor / full
    return {"linear": (floor, full, fr, "floor_ratio" in lin)}


def _amount(amount) -> Decimal:
    if isinstance(amount, float):
        raise ValueError("amount: use a Decimal or a decimal string (yuan), not a float")
    if isinstance(amount, bool) or not isinstance(amount, Decimal | str | int):
        raise ValueError("amount: must be a Decimal, an int or a decimal string (yuan)")
    try:
        d = Decimal(amount.strip() if isinstance(amount, str) else amount)
    except InvalidOperation:
        raise ValueError(f"amount: not a decimal number: {amount!r}") from None
    if not d.is_finite() or d < 0:
        raise ValueError("amount: must be a finite amount ≥ 0")
    if d and d.adjusted() > 14:  # beyond any contract, and beyond exact rounding to the fen
        raise ValueError(f"amount: must be below 10^15 yuan, got {amount}")
    if d != d.quantize(CENT):
        raise ValueError(f"amount: at most two decimals (yuan to the fen), got {amount}")
    return d.quantize(CENT)


def _pct(d: Decimal) -> str:
    return format((d * _HUNDRED).normalize(), "f")


def apply_payment(total, rule, amount) -> PaymentResult:
    """Apply a payment rule to a rounded total and an instalment amount (yuan).

    ``total`` is the rounded total (a float or a finer Decimal is rounded with
    :func:`round_score` first). Returns ratio, payable and deduction as ``Decimal``; the
    ratio of a linear rule is rounded half-up to 4 decimals (0.8733 = 87.33 %), payable is
    amount × ratio rounded half-up to the fen, and deduction = amount − payable.
    """
    try:
        t = round_score(total)
    except ValueError as exc:  # the argument is the total, whatever round_score calls it
        raise ValueError(f"total: {str(exc).removeprefix('score: ')}") from None
    if not 0 <= t <= 100:
        raise ValueError(f"total: must lie in 0..100, got {t}")
    amt = _amount(amount)
    try:
        parsed = parse_payment_rule(rule)
    except _RuleError as exc:
        raise ValueError(f"rule: {exc.message} ({exc.path})") from None
    return _apply(t, parsed, amt)


def _apply(t: Decimal, parsed: dict, amt: Decimal) -> PaymentResult:
    if "bands" in parsed:
        ratio = _ZERO
        basis = Text("总分 {total} 低于最低一档 {lower}，比例 0", total=t,
                     lower=parsed["bands"][-1][0])
        for lo, r in parsed["bands"]:
            if t >= lo:
                ratio = r
                basis = Text("总分 {total} ≥ {lower}，落在该档，支付比例 {ratio}%", total=t,
                             lower=lo, ratio=_pct(r))
                break
    else:
        floor, full, fr, explicit = parsed["linear"]
        if t < floor:
            ratio = _ZERO
            basis = Text("总分 {total} 低于下限 {floor}，比例 0", total=t, floor=floor)
        elif t >= full:
            ratio = _ONE
            basis = Text("总分 {total} ≥ {full}，比例 100%", total=t, full=full)
        else:
            if explicit:
                raw = fr + (_ONE - fr) * (t - floor) / (full - floor)
                how = f"{fr} + (1 − {fr}) × ({t} − {floor}) / ({full} − {floor})"
            else:
                raw = t / full
                how = f"{t} / {full}"
            ratio = raw.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)
            basis = Text("线性规则：比例 = {formula} = {ratio}%（四舍五入到 0.01%）", formula=how,
                         ratio=_pct(ratio))
    payable = (amt * ratio).quantize(CENT, rounding=ROUND_HALF_UP)
    deduction = amt - payable
    basis = joined(basis, Text("；应付 = {amount:,} × {ratio}% = {payable:,} 元，扣减 = {amount:,} − "
                               "{payable:,} = {deduction:,} 元", amount=amt, ratio=_pct(ratio),
                               payable=payable, deduction=deduction))
    return PaymentResult(t, amt, ratio, payable, deduction, basis)
