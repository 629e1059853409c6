"""Money as text, from its one home: öre (int) to the text each reader wants."""
from decimal import Decimal

import pytest
from babel.numbers import format_currency

from kivra import money


@pytest.mark.parametrize("ore, kronor", [
    (123_450, Decimal("1234.50")), (5, Decimal("0.05")), (-5, Decimal("-0.05")), (0, Decimal("0.00")),
    (3_250_000, Decimal("32500.00")),
])
def test_ore_are_kronor_to_the_ore(ore, kronor):
    assert money.kronor(ore) == kronor
    assert str(money.kronor(ore)) == str(kronor)  # two decimals always: no float, no lost öre


@pytest.mark.parametrize("ore, text", [
    (6_062_345, "60623.45"), (-4_243_645, "-42436.45"), (-5, "-0.05"), (5, "0.05"), (0, "0.00"),
    (-100_000, "-1000.00"), (123_456_789, "1234567.89"),
])
def test_sie_writes_kronor_with_a_point_and_two_decimals(ore, text):
    assert money.sie_amount(ore) == text


@pytest.mark.parametrize("ore, text", [
    (3_250_000, "32500"), (3_250_050, "32500.50"), (-100_000, "-1000"), (-5, "-0.05"), (0, "0"), (250_010, "2500.10"),
])
def test_kivra_writes_whole_kronor_without_decimals(ore, text):
    assert money.kivra_amount(ore) == text


@pytest.mark.parametrize("ore, text", [
    (123_450, "1\u00a0234,50\u00a0kr"), (-96_000_000, "-960\u00a0000,00\u00a0kr"), (0, "0,00\u00a0kr"),
])
def test_the_payslip_pdf_writes_swedish_kronor(ore, text):
    assert money.swedish_kronor(ore) == text


def test_swedish_kronor_are_babels_text_for_sek_in_swedish():
    amounts = [0, 1, 9, 10, 99, 100, 101, 99_999, 100_000, 123_456_789, 10**13, *range(-2_000, 2_000, 7),
               *(sign * 10**n + delta for n in range(2, 13) for delta in (-1, 0, 1) for sign in (1, -1))]
    for ore in amounts:
        assert money.swedish_kronor(ore) == format_currency(money.kronor(ore), "SEK", locale="sv_SE"), ore


@pytest.mark.parametrize("ore, text", [(3_250_000, "32500,00"), (3_250_050, "32500,50"), (5, "0,05")])
def test_a_form_shows_kronor_as_a_person_types_them(ore, text):
    assert money.typed_kronor(ore) == text


def test_the_typed_text_reads_back_as_the_same_ore():
    for ore in (3_250_000, 3_250_050, 5, 0):
        assert money.parse_kronor(money.typed_kronor(ore)) == ore


def test_kivra_amounts_follow_the_salaryslip_schemas_pattern():
    import json
    import re
    from pathlib import Path

    schema = Path(money.__file__).parent / "contract" / "_partials" / "schema-salary-slip.json"
    patterns = set(re.findall(r'"pattern": "(\^\[-\]\?\(0[^"]+)"', schema.read_text()))
    assert patterns, "the salaryslip schema names the amount's pattern"
    for pattern in map(lambda p: json.loads(f'"{p}"'), patterns):
        for ore in (0, 5, -5, 100, -100_000, 3_250_050, 123_456_789, 10):
            assert re.fullmatch(pattern, money.kivra_amount(ore)), (pattern, ore)
