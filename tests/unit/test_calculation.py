from decimal import Decimal

import pytest

from kivra.money import parse_kronor as parse_amount
from kivra.payroll.calculation import Line, NegativeGrossError, calculate, preliminary_tax


def salary(ore):
    return Line("salary", "", ore)


def test_gross_tax_net_and_contributions_in_ore():
    totals = calculate([salary(3_250_000)], Decimal("30"), Decimal("31.42"))
    assert totals.gross_ore == 3_250_000
    assert totals.tax_ore == 975_000
    assert totals.net_ore == 2_275_000
    assert totals.contributions_ore == 1_021_150  # 32 500 × 31.42 % = 10 211,50


def test_additions_and_deductions_change_gross():
    lines = [salary(3_000_000), Line("addition", "Övertid", 250_050), Line("deduction", "Sjukavdrag", 100_000)]
    assert calculate(lines, Decimal("0"), Decimal("0")).gross_ore == 3_150_050


def test_tax_is_rounded_down_to_whole_kronor():
    assert preliminary_tax(3_333_333, Decimal("30")) == 999_900  # 9 999,9999 kr → 9 999 kr
    assert preliminary_tax(100, Decimal("33")) == 0


def test_contributions_round_half_up_to_the_ore():
    # 1,50 kr × 31.42 % = 0,4713 kr → 47 öre; 0,05 kr × 31.42 % = 1,571 öre → 2 öre
    assert calculate([salary(150)], Decimal("0"), Decimal("31.42")).contributions_ore == 47
    assert calculate([salary(5)], Decimal("0"), Decimal("31.42")).contributions_ore == 2
    # exactly half an öre rounds up: 1 öre × 50 % = 0,5 öre
    assert calculate([salary(1)], Decimal("0"), Decimal("50")).contributions_ore == 1


def test_net_plus_tax_is_always_gross():
    for ore in (0, 1, 99, 12_345, 3_250_051, 99_999_999):
        t = calculate([salary(ore)], Decimal("32.5"), Decimal("31.42"))
        assert t.net_ore + t.tax_ore == t.gross_ore


def test_configurable_contribution_rate():
    assert calculate([salary(1_000_000)], Decimal("0"), Decimal("10.21")).contributions_ore == 102_100


def test_deductions_beyond_pay_are_refused():
    with pytest.raises(NegativeGrossError):
        calculate([salary(100), Line("deduction", "Avdrag", 101)], Decimal("30"), Decimal("31.42"))


@pytest.mark.parametrize(
    "typed, ore",
    [("32 500", 3_250_000), ("32500,50", 3_250_050), ("32500.5", 3_250_050), ("32\u00a0500,00 kr", 3_250_000), ("0", 0)],
)
def test_amounts_typed_by_people(typed, ore):
    assert parse_amount(typed) == ore


@pytest.mark.parametrize("typed", ["", "abc", "1,234.50", "12,345", "1.001", "nan", "inf", "1e3x"])
def test_amounts_that_are_not_money(typed):
    with pytest.raises(ValueError):
        parse_amount(typed)
