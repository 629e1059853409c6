"""A personnummer's date of birth is from 1870 up to today, Swedish time (issue 17, item 12): earlier or later is
refused with a clear message on the employee form; a samordningsnummer (day + 60) is judged by its real date."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from kivra import clock
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.identity import EARLIEST_BIRTH, PersonnummerError, parse_personnummer, with_check_digit
from tests.conftest import text

TODAY = date(2026, 12, 1)
EMPLOYEE = {"name": "Björn Åkesson", "email": "bjorn@example.se", "employment_start": "2021-03-01",
            "monthly_salary": "32 500", "tax_rate": "31,5"}
MESSAGE = {"sv": "Personnumrets födelsedatum måste ligga mellan 1 januari 1870 och i dag",
           "en": "The personnummer's date of birth must be between 1 January 1870 and today"}


def number(yyyymmdd: str, serial: str = "238") -> str:
    """A valid twelve-digit personnummer (check digit made) for a date written YYYYMMDD (day + 60 for samordning)."""
    return with_check_digit(yyyymmdd + serial)


def refused(typed: str, today: date = TODAY) -> str:
    with pytest.raises(PersonnummerError) as error:
        parse_personnummer(typed, today)
    return error.value.reason


@pytest.mark.parametrize("typed", [
    number("18691231"),                             # 12 digits, the day before the earliest
    number("18691231")[:8] + "-" + number("18691231")[8:],
    number("18000101"),
    number("18691291"),                             # samordningsnummer: 31 + 60, born 1869-12-31
    number("18270101")[2:8] + "+" + number("18270101")[8:],  # 10 digits, +: 1927 is 99 years ago, so 1827
])
def test_a_birth_before_1870_is_refused(typed):
    assert refused(typed) == "born"


@pytest.mark.parametrize("typed", [
    number("20261202"),                             # tomorrow
    number("20261262"),                             # samordningsnummer born tomorrow
    number("20991231"),
])
def test_a_birth_in_the_future_is_refused(typed):
    assert refused(typed) == "born"


@pytest.mark.parametrize("typed, digits", [
    (number("18700101"), number("18700101")),       # the earliest
    (number("18700161"), number("18700161")),       # samordningsnummer born on the earliest day
    (number("20261201"), number("20261201")),       # born today
    (number("20261261"), number("20261261")),       # samordningsnummer born today
    (number("19770103")[2:8] + "-" + number("19770103")[8:], number("19770103")),  # 10 digits
    (number("19770103")[2:], number("19770103")),   # 10 digits, no separator
    (number("19200101")[2:8] + "+" + number("19200101")[8:], number("19200101")),  # +: 100 or older
])
def test_a_birth_from_1870_to_today_is_taken(typed, digits):
    assert parse_personnummer(typed, TODAY).digits == digits
    assert EARLIEST_BIRTH == date(1870, 1, 1)


def test_today_is_the_swedish_date(monkeypatch):
    # 23:30 UTC on 30 November is 00:30 on 1 December in Stockholm: someone born on 1 December is born today.
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc))
    assert parse_personnummer(number("20261201")).digits == number("20261201")


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("typed", [number("18691231"), number("20991231")])
def test_the_employee_form_says_so_and_keeps_what_was_typed(as_admin, lang, typed, htmx):
    response = as_admin.post("/employees/new", {**EMPLOYEE, "personnummer": typed}, htmx=htmx)
    assert response.status_code == 422
    assert MESSAGE[lang] in text(response)
    assert f'value="{typed}"' in response.get_data(as_text=True)
    assert db.session.scalar(select(Employee).where(Employee.name == "Björn Åkesson")) is None
