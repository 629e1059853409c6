"""Amounts and rates as a Swede types them (issue 17, item 7): a plain decimal within bounds is taken; an exponent,
NaN, a number too large for the database or for a payslip, a minus sign where none belongs are refused with a clear
message in the user's language, with status 422 and what was typed kept, on every form that takes one."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from kivra import money
from kivra.accounts.models import Company
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.payroll.models import Payslip, PayslipLine
from tests.conftest import text

EMPLOYEE = {
    "name": "Björn Åkesson", "personnummer": "19770103-2380", "email": "bjorn@example.se",
    "employment_start": "2021-03-01", "monthly_salary": "32 500", "tax_rate": "31,5",
}
SETTINGS = {
    "name": "Demo AB", "orgnr": "556840-2266", "street_address": "Storgatan 1", "postal_code": "11122",
    "city": "Stockholm", "email": "lon@demo.se", "phone": "08-123 456 78", "bankgiro": "5050-1055",
    "clearing_number": "", "account_number": "", "employer_contribution_rate": "31,42", "payout_day": "25",
}
FORMAT = {"sv": "Skriv beloppet som ett vanligt tal, till exempel 1 234,50",
          "en": "Write the amount as a plain number, for example 1 234,50"}
TOO_LARGE = {"sv": "Beloppet får vara högst 10 000 000,00 kr", "en": "The amount can be at most SEK 10,000,000.00"}
# typed → what the form says (the three, and their kin)
REFUSED_AMOUNTS = {
    "99999999999999999": TOO_LARGE,
    "1e30": FORMAT,
    "1e5": FORMAT,
    "NaN": FORMAT,
    "Infinity": FORMAT,
    "1,234.5": FORMAT,
    "0x10": FORMAT,
    "12,345": FORMAT,  # three decimals: not kronor and öre
}
RATE = {"sv": "mellan 0 och 100", "en": "between 0 and 100"}
REFUSED_RATES = ["99999999999999999", "1e30", "1e1", "NaN", "1,234.5", "-0", "12 345,67", "100,01", "31,425"]


def a_payslip(run) -> Payslip:
    return run.payslips[0]


def lines_of(payslip_id: int) -> list[PayslipLine]:
    db.session.expire_all()
    return db.session.scalars(select(PayslipLine).where(PayslipLine.payslip_id == payslip_id)).all()


def employee_named(name: str) -> Employee | None:
    return db.session.scalar(select(Employee).where(Employee.name == name))


def assert_refused(response, message: str, typed: str, htmx: bool):
    body = response.get_data(as_text=True)
    assert response.status_code == 422, response.status_code
    assert message in text(response)
    assert f'value="{typed}"' in body  # what was typed is kept
    assert ("<html" in body) is not htmx


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("typed", REFUSED_AMOUNTS)
def test_a_payslip_line_refuses_what_is_not_a_plain_amount(as_admin, run, lang, typed, htmx):
    payslip_id = a_payslip(run).id
    before = len(lines_of(payslip_id))
    response = as_admin.post(f"/payslips/{payslip_id}/lines",
                             {"kind": "addition", "description": "Övertid", "amount": typed}, htmx=htmx)
    assert_refused(response, REFUSED_AMOUNTS[typed][lang], typed, htmx)
    assert 'value="Övertid"' in response.get_data(as_text=True)
    assert len(lines_of(payslip_id)) == before


@pytest.mark.parametrize("htmx", [False, True])
def test_a_payslip_line_of_minus_zero_is_refused_with_the_way_to_subtract(as_admin, run, lang, htmx):
    response = as_admin.post(f"/payslips/{a_payslip(run).id}/lines",
                             {"kind": "addition", "description": "Övertid", "amount": "-0"}, htmx=htmx)
    assert_refused(response, {"sv": "Belopp", "en": "choose Deduction to subtract"}[lang], "-0", htmx)


@pytest.mark.parametrize("htmx", [False, True])
def test_a_payslip_line_takes_spaces_between_thousands_and_a_decimal_comma(as_admin, run, htmx):
    payslip_id = a_payslip(run).id
    as_admin.post(f"/payslips/{payslip_id}/lines",
                  {"kind": "addition", "description": "Övertid", "amount": "12 345,67"}, htmx=htmx)
    assert lines_of(payslip_id)[-1].amount_ore == 1_234_567


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("typed", REFUSED_AMOUNTS)
def test_the_monthly_salary_refuses_what_is_not_a_plain_amount(as_admin, lang, typed, htmx):
    response = as_admin.post("/employees/new", {**EMPLOYEE, "monthly_salary": typed}, htmx=htmx)
    assert_refused(response, REFUSED_AMOUNTS[typed][lang], typed, htmx)
    assert 'value="Björn Åkesson"' in response.get_data(as_text=True)
    assert employee_named("Björn Åkesson") is None


@pytest.mark.parametrize("htmx", [False, True])
def test_a_salary_of_minus_zero_is_refused(as_admin, lang, htmx):
    response = as_admin.post("/employees/new", {**EMPLOYEE, "monthly_salary": "-0"}, htmx=htmx)
    assert_refused(response, {"sv": "Lönen kan inte vara negativ", "en": "The salary cannot be negative"}[lang],
                   "-0", htmx)


@pytest.mark.both_databases
@pytest.mark.parametrize("typed, ore", [("12 345,67", 1_234_567), ("10 000 000", 1_000_000_000),
                                        ("10\u00a0000\u00a0000,00 kr", 1_000_000_000)])
def test_the_largest_salary_is_stored_and_read_back(as_admin, typed, ore):
    assert as_admin.post("/employees/new", {**EMPLOYEE, "monthly_salary": typed}).status_code == 303
    assert employee_named("Björn Åkesson").monthly_salary_ore == ore


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("typed", REFUSED_RATES)
def test_the_tax_rate_refuses_what_is_not_a_plain_per_cent(as_admin, lang, typed, htmx):
    response = as_admin.post("/employees/new", {**EMPLOYEE, "tax_rate": typed}, htmx=htmx)
    assert_refused(response, RATE[lang], typed, htmx)
    assert employee_named("Björn Åkesson") is None


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("typed", REFUSED_RATES)
def test_the_employer_contribution_rate_refuses_what_is_not_a_plain_per_cent(as_admin, company, lang, typed, htmx):
    response = as_admin.post("/company/settings", {**SETTINGS, "employer_contribution_rate": typed, "city": "Lund"},
                             htmx=htmx)
    assert_refused(response, RATE[lang], typed, htmx)
    db.session.expire_all()
    assert db.session.get(Company, company.id).employer_contribution_rate == Decimal("31.42")


# The parser itself


@pytest.mark.parametrize("typed, ore", [
    ("32 500", 3_250_000), ("32 500,50", 3_250_050), ("32500.5", 3_250_050), ("32\u00a0500,00 kr", 3_250_000),
    ("32\u202f500", 3_250_000), ("12 345,67", 1_234_567), ("0", 0), ("0,05", 5), (" 7 ", 700),
    ("10 000 000", 1_000_000_000),
])
def test_the_parser_reads_kronor_as_a_swede_types_them(typed, ore):
    assert money.parse_kronor(typed) == ore


@pytest.mark.parametrize("typed, reason", [
    ("99999999999999999", "range"), ("10 000 000,01", "range"), ("1e30", "format"), ("1e5", "format"),
    ("1E5", "format"), ("NaN", "format"), ("nan", "format"), ("Infinity", "format"), ("-Infinity", "format"),
    ("1,234.5", "format"), ("12,345", "format"), ("1.001", "format"), ("0x10", "format"), ("1_000", "format"),
    ("1 2 3", "format"), ("12 34", "format"), ("\u0661\u0662", "format"), ("", "format"), (None, "format"),
    ("abc", "format"), ("-0", "negative"), ("-5", "negative"), ("\u22125", "negative"), ("+5", "format"),
    ("9" * 5000, "format"),
])
def test_the_parser_refuses_anything_else_with_the_reason(typed, reason):
    with pytest.raises(money.NumberError) as refused:
        money.parse_kronor(typed)
    assert refused.value.reason == reason


def test_the_parser_takes_a_minus_where_one_is_wanted():
    assert money.parse_plain_decimal("-1 234,5", 2, negative=True) == Decimal("-1234.5")
    assert money.parse_plain_decimal("-0", 2, negative=True) == 0


@pytest.mark.parametrize("typed, rate", [("31,42", "31.42"), ("31,42 %", "31.42"), ("100", "100"), ("0", "0")])
def test_a_per_cent_is_a_plain_decimal_from_0_to_100(typed, rate):
    assert money.parse_percent(typed) == Decimal(rate)


@pytest.mark.parametrize("typed", REFUSED_RATES)
def test_a_per_cent_refuses_anything_else(typed):
    with pytest.raises(money.NumberError):
        money.parse_percent(typed)
