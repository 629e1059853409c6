"""Bankgiro, clearing and account numbers as Bankgirot documents them (kivra/accounts/bank.py)."""
import pytest

from kivra.accounts import bank


@pytest.mark.parametrize("typed, digits", [
    ("5050-1055", "50501055"),  # Bankgirot's own bankgiro number
    ("50501055", "50501055"),
    ("123-4566", "1234566"),  # seven digits
    (" 1234-5674 ", "12345674"),
])
def test_a_bankgiro_number_has_7_or_8_digits_and_a_luhn_check_digit(typed, digits):
    assert bank.parse_bankgiro(typed) == digits


@pytest.mark.parametrize("typed, reason", [
    ("5050-1056", "checksum"), ("123-4567", "checksum"), ("12-3456", "length"), ("123456789", "length"),
    ("5050-105a", "format"), ("", "format"), ("５０５０１０５５", "format"),
])
def test_a_bankgiro_number_is_refused_with_the_reason(typed, reason):
    with pytest.raises(bank.BankAccountError) as refused:
        bank.parse_bankgiro(typed)
    assert refused.value.reason == reason


def test_a_bankgiro_number_is_shown_with_its_hyphen_before_the_last_four():
    assert (bank.format_bankgiro("1234566"), bank.format_bankgiro("50501055")) == ("123-4566", "5050-1055")


@pytest.mark.parametrize("typed, digits", [
    ("6789", "6789"), ("5000", "5000"), ("9550", "9550"),
    ("8327-9", "83279"), ("8105-9", "81059"), ("8327 9", "83279"),  # Swedbank: the fifth digit is a check digit
])
def test_a_clearing_number_has_4_digits_or_5_for_swedbank(typed, digits):
    assert bank.parse_clearing(typed) == digits


@pytest.mark.parametrize("typed, reason", [
    ("8327-0", "checksum"), ("8327", "length"), ("67890", "length"), ("678", "length"), ("0123", "length"),
    ("6a89", "format"),
])
def test_a_clearing_number_is_refused_with_the_reason(typed, reason):
    with pytest.raises(bank.BankAccountError) as refused:
        bank.parse_clearing(typed)
    assert refused.value.reason == reason


def test_a_swedbank_clearing_number_is_shown_with_its_check_digit_after_a_hyphen():
    assert (bank.format_clearing("83279"), bank.format_clearing("6789")) == ("8327-9", "6789")


@pytest.mark.parametrize("typed, digits", [
    ("1234567", "1234567"), ("123 456 789", "123456789"), ("123 456 789-0", "1234567890"), ("12.345.678", "12345678"),
])
def test_an_account_number_has_7_to_10_digits(typed, digits):
    assert bank.parse_account_number(typed) == digits


@pytest.mark.parametrize("typed, reason", [("123456", "length"), ("12345678901", "length"), ("1234567x", "format")])
def test_an_account_number_of_another_length_is_refused(typed, reason):
    with pytest.raises(bank.BankAccountError) as refused:
        bank.parse_account_number(typed)
    assert refused.value.reason == reason
