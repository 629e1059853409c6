from datetime import date

import pytest

from kivra.identity import PersonnummerError, luhn_valid, parse_personnummer as parse

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    "typed",
    ["19121212-1212", "191212121212", "121212+1212", " 19121212-1212 "],
)
def test_accepted_formats_store_twelve_digits(typed):
    assert parse(typed, TODAY).digits == "191212121212"


def test_short_form_takes_the_latest_century_that_is_not_in_the_future():
    assert parse("770103-2380", TODAY).digits == "197701032380"
    assert parse("121212-1212", TODAY).digits == "201212121212"  # a 13-year-old
    assert parse("121212+1212", TODAY).digits == "191212121212"  # plus: a hundred years more


def test_short_form_for_a_date_later_this_year_means_last_century():
    number = "261231-001" + next(d for d in "0123456789" if luhn_valid("261231001" + d))
    assert parse(number, TODAY).digits.startswith("1926")


@pytest.mark.parametrize("typed", ["19121212-1213", "197701032381", "198112172384"])
def test_luhn_error(typed):
    with pytest.raises(PersonnummerError) as error:
        parse(typed, TODAY)
    assert error.value.reason == "checksum"


@pytest.mark.parametrize("typed", ["", "abc", "19121212121", "19121212-121", "19121212--1212", "1912121212+1212"])
def test_format_error(typed):
    with pytest.raises(PersonnummerError) as error:
        parse(typed, TODAY)
    assert error.value.reason == "format"


@pytest.mark.parametrize("typed, reason", [("19121312-1212", "date"), ("19120230-1212", "date"),
                                           ("20301212-1212", "born")])
def test_impossible_or_future_birth_date(typed, reason):
    with pytest.raises(PersonnummerError) as error:
        parse(typed, TODAY)
    assert error.value.reason == reason


def test_samordningsnummer_is_accepted_and_flagged():
    number = parse("19701063-2391", TODAY)
    assert number.digits == "197010632391"
    assert number.is_coordination_number
    assert number.birth_date == date(1970, 10, 3)


def test_ordinary_number_is_not_a_samordningsnummer():
    assert not parse("198112172385", TODAY).is_coordination_number


def test_masked_hides_the_last_four():
    number = parse("19121212-1212", TODAY)
    assert number.masked() == "19121212-****"
    assert "1212" not in number.masked()[9:]
    assert number.formatted() == "19121212-1212"


def test_plus_means_a_hundred_or_older():
    number = "261231+001" + next(d for d in "0123456789" if luhn_valid("261231001" + d))
    with pytest.raises(PersonnummerError) as error:  # 1926 would make a 99-year-old, and 1826 is before 1870
        parse(number, TODAY)
    assert error.value.reason == "born"
    number = "261124+001" + next(d for d in "0123456789" if luhn_valid("261124001" + d))
    assert parse(number, TODAY).digits.startswith("1926")  # a hundred today


def test_only_ascii_digits_are_digits():
    with pytest.raises(PersonnummerError):
        parse("١٩١٢١٢١٢١٢١٢", TODAY)  # Arabic-Indic digits
