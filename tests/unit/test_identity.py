"""Identity numbers as Skatteverket defines them (kivra/identity.py): the cases the shared reference implementations
agree on where ours was wrong, the space rule, and organisationsnummer."""
from datetime import date

import pytest

from kivra.identity import OrgnrError, PersonnummerError, parse_orgnr, parse_personnummer

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize("typed", ["150916-0006", "20150916-0006", "1509160006", "201509160006"])
def test_birth_number_000_is_refused(typed):
    with pytest.raises(PersonnummerError) as error:
        parse_personnummer(typed, TODAY)
    assert error.value.reason == "serial"


@pytest.mark.parametrize("typed", ["19090527+1474", "19090527-1474", "190905271474", "090527+1474",
                                   "19090527 1474"])
def test_a_centenarian_written_with_the_century_and_plus_is_the_same_person(typed):
    number = parse_personnummer(typed, TODAY)
    assert number.digits == "190905271474"
    assert number.formatted() == "19090527-1474" and number.short(TODAY) == "090527+1474"


def test_with_six_date_digits_a_space_is_refused_because_it_hides_the_century():
    with pytest.raises(PersonnummerError) as error:
        parse_personnummer("090527 1474", TODAY)
    assert error.value.reason == "space"


def test_the_twelve_digit_form_with_a_space_is_normalised():
    assert parse_personnummer(" 19821105 9954 ", TODAY).formatted() == "19821105-9954"


@pytest.mark.parametrize("typed", ["821105-9954", "198211059954"])
def test_a_plus_is_only_for_someone_a_hundred_or_older(typed):
    assert parse_personnummer(typed, TODAY).digits == "198211059954"
    assert parse_personnummer("821105+9954", TODAY).digits == "188211059954"


def test_a_samordningsnummer_is_day_plus_sixty():
    number = parse_personnummer("19570574-9959", TODAY)
    assert number.is_coordination_number and number.birth_date == date(1957, 5, 14)
    with pytest.raises(PersonnummerError) as error:
        parse_personnummer("19390192-9913", TODAY)  # day 32 + 60: no such day
    assert error.value.reason == "date"


@pytest.mark.parametrize("typed, digits, group", [
    ("556840-2266", "5568402266", "aktiebolag"),
    ("5568402266", "5568402266", "aktiebolag"),
    ("165568402266", "5568402266", "aktiebolag"),
    ("802005-1952", "8020051952", "ideell förening eller stiftelse"),
    ("212000-0142", "2120000142", "stat, region, kommun eller församling"),
])
def test_an_organisationsnummer(typed, digits, group):
    number = parse_orgnr(typed, TODAY)
    assert number.digits == digits and number.group == group and not number.is_sole_trader
    assert number.formatted() == f"{digits[:6]}-{digits[6:]}" and number.vat_number() == f"SE{digits}01"


@pytest.mark.parametrize("typed", ["821105-9954", "8211059954", "19821105-9954"])
def test_a_sole_traders_orgnr_is_their_personnummer_and_is_recognised(typed):
    number = parse_orgnr(typed, TODAY)
    assert number.digits == "8211059954" and number.is_sole_trader and number.group is None


@pytest.mark.parametrize("typed, reason", [
    ("556840-2267", "checksum"), ("55684022", "format"), ("556840 2266x", "format"), ("", "format"),
    ("551840-2267", "group"),  # third digit 1, and no personnummer (no 18th month)
])
def test_what_is_not_an_organisationsnummer_says_why(typed, reason):
    with pytest.raises(OrgnrError) as error:
        parse_orgnr(typed, TODAY)
    assert error.value.reason == reason
