"""Payment rules on exact decimals (结算): ratio, payable, deduction, to the fen."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

import scoring

BANDS = {"bands": [{"min": "90", "ratio": "1.00"}, {"min": "80", "ratio": "0.95"},
                   {"min": "70", "ratio": "0.90"}, {"min": "60", "ratio": "0.80"}]}


@pytest.mark.parametrize("total, ratio", [("100", "1.00"), ("90.00", "1.00"), ("89.99", "0.95"),
                                          ("80", "0.95"), ("70", "0.90"), ("60.00", "0.80"),
                                          ("59.99", "0"), ("0", "0")])
def test_band_lower_bounds_are_inclusive(total, ratio):
    res = scoring.apply_payment(Decimal(total), BANDS, "200000.00")
    assert res.ratio == Decimal(ratio)
    assert res.payable == (Decimal("200000.00") * Decimal(ratio)).quantize(Decimal("0.01"))


def test_payable_is_rounded_half_up_to_the_fen_and_parts_add_up():
    res = scoring.apply_payment("80", BANDS, "333.33")
    assert res.payable == Decimal("316.66")  # 316.6635 → 316.66
    res = scoring.apply_payment("80", BANDS, "333.35")
    assert res.payable == Decimal("316.68")  # 316.6825 → 316.68
    res = scoring.apply_payment("80", {"bands": [{"min": "0", "ratio": "0.5"}]}, "0.05")
    assert res.payable == Decimal("0.03")  # 0.025 → half up
    assert res.payable + res.deduction == Decimal("0.05")


def test_linear_rule_default_is_total_over_full():
    res = scoring.apply_payment("87.35", {"linear": {"floor": "60"}}, "10000")
    assert res.ratio == Decimal("0.8735")
    assert res.payable == Decimal("8735.00") and res.deduction == Decimal("1265.00")
    assert scoring.apply_payment("59.99", {"linear": {"floor": "60"}}, "10000").ratio == 0
    assert scoring.apply_payment("100", {"linear": {"floor": "60"}}, "10000").ratio == 1


def test_linear_rule_with_floor_ratio_interpolates_to_full():
    rule = {"linear": {"floor": "60", "full": "90", "floor_ratio": "0.6"}}
    assert scoring.apply_payment("60", rule, "100").ratio == Decimal("0.6")
    assert scoring.apply_payment("75", rule, "100").ratio == Decimal("0.8")
    assert scoring.apply_payment("95", rule, "100").ratio == Decimal("1")
    # (70 − 60) / 30 = 1/3 → 0.6 + 0.4/3 = 0.7333… → 0.7333
    assert scoring.apply_payment("70", rule, "100").ratio == Decimal("0.7333")


def test_float_total_goes_through_the_one_rounding():
    assert scoring.apply_payment(89.995, BANDS, "100").ratio == Decimal("1.00")
    assert scoring.apply_payment(Decimal("89.994"), BANDS, "100").ratio == Decimal("0.95")


@pytest.mark.parametrize("amount, fragment", [(100.0, "not a float"), ("12.345", "two decimals"),
                                              ("-1", "≥ 0"), ("abc", "not a decimal"),
                                              ("1e309", "below 10^15"),
                                              ("9" * 40, "below 10^15")])
def test_amount_is_checked(amount, fragment):
    with pytest.raises(ValueError, match="amount") as exc:
        scoring.apply_payment("90", BANDS, amount)
    assert fragment in str(exc.value)


def test_the_largest_amount_accepted_still_splits_exactly_to_the_fen():
    largest = Decimal("999999999999999.99")
    res = scoring.apply_payment("70", {"linear": {"floor": "60"}}, largest)
    assert res.payable + res.deduction == largest
    assert res.payable == (largest * res.ratio).quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_rule_and_total_are_checked():
    with pytest.raises(ValueError, match=r"rule: .*\(rule.bands\[1\].min\)"):
        scoring.apply_payment("90", {"bands": [{"min": "60", "ratio": "1"},
                                               {"min": "80", "ratio": "1"}]}, "1")
    with pytest.raises(ValueError, match="rule"):
        scoring.apply_payment("90", {"bands": [], "linear": {}}, "1")
    with pytest.raises(ValueError, match="total: must lie in 0..100"):
        scoring.apply_payment("100.01", BANDS, "1")
    for bad in (float("nan"), "abc", None):  # named as the argument it is, not "score"
        with pytest.raises(ValueError, match="^total: "):
            scoring.apply_payment(bad, BANDS, "1")


def test_basis_explains_the_figures():
    res = scoring.apply_payment("85.5", BANDS, "300000.00")
    assert "85.50 ≥ 80" in res.basis
    assert "300,000.00 × 95% = 285,000.00 元，扣减 = 300,000.00 − 285,000.00 = 15,000.00 元" \
        in res.basis  # amounts with thousands separators, as a finance officer reads them
