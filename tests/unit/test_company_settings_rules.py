"""The settings' own rules (kivra/accounts/settings.py): postal code, contribution rate, the proposed payout date."""
from datetime import date
from decimal import Decimal

import pytest

from kivra.accounts import settings
from kivra.accounts.models import Company


@pytest.mark.parametrize("typed", ["11122", "111 22", " 111 22 "])
def test_a_postal_code_is_five_digits_written_as_kivra_writes_it(typed):
    assert settings.parse_postal_code(typed) == "111 22"


@pytest.mark.parametrize("typed", ["1112", "111222", "111-22", "abcde", ""])
def test_another_postal_code_is_refused(typed):
    with pytest.raises(ValueError):
        settings.parse_postal_code(typed)


@pytest.mark.parametrize("typed, rate", [("31,42", "31.42"), ("31.42", "31.42"), ("31,42 %", "31.42"), ("0", "0"),
                                         ("100", "100"), ("10,5", "10.5")])
def test_the_contribution_rate_takes_a_decimal_comma(typed, rate):
    assert settings.parse_rate(typed) == Decimal(rate)


@pytest.mark.parametrize("typed", ["100,01", "-1", "31,425", "NaN", "Infinity", "tre", ""])
def test_a_rate_outside_0_to_100_or_with_three_decimals_is_refused(typed):
    with pytest.raises(ValueError):
        settings.parse_rate(typed)


def test_a_new_run_is_proposed_the_companys_payout_day_in_the_month_paid_for():
    assert settings.proposed_payout_date(Company(payout_day=20), date(2026, 2, 1)) == date(2026, 2, 20)
    assert settings.proposed_payout_date(Company(payout_day=28), date(2026, 2, 1)) == date(2026, 2, 28)
