"""A payslip version as Kivra content: Swedish subject without personal data, schema-valid, the same bytes twice."""
import base64
import json
from datetime import date

import pytest
from jsonschema import Draft6Validator, FormatChecker

from kivra.contract import salaryslip_schema
from kivra.payroll import kivra_payload, service
from kivra.payroll.models import PayslipLine
from kivra.sender_api.content import PayloadError
from tests.conftest import make_employee


@pytest.fixture
def version(app, company):
    company.street_address, company.postal_code, company.city = "Storgatan 1", "111 22", "Stockholm"
    company.email, company.phone = "lon@demo.se", "08-123 456 00"
    make_employee(company, name="Astrid Lindqvist", bank_account="8327-9 123 456 789-0")
    run = service.create_run(company, date(2026, 9, 1), date(2026, 9, 25))
    run.payslips[0].lines.append(PayslipLine(kind="addition", description="Övertid", amount_ore=250_050))
    run.payslips[0].lines.append(PayslipLine(kind="deduction", description="Sjukavdrag", amount_ore=100_000))
    service.calculate_run(run)
    return run.payslips[0].versions[0]


def build(version, company, correction=False, **kwargs):
    """As the dispatch worker will: in an app context, with no request."""
    return kivra_payload.payslip_content(version, company, correction, **kwargs)


def test_content_is_a_valid_salaryslip_in_swedish(version, company):
    body = json.loads(build(version, company))
    assert body["subject"] == "Lönebesked september 2026"
    assert not list(Draft6Validator(salaryslip_schema(), format_checker=FormatChecker()).iter_errors(body["salaryslip"]))
    period = body["salaryslip"]["pay_period"]
    assert period["gross_pay"] == {"monetary_amount": "34000.50", "currency": "SEK"}
    assert period["net_pay"]["monetary_amount"] == "23800.50"
    assert period["additional_payments"] == [
        {"type": "Övertid", "monetary_amount": "2500.50", "currency": "SEK"},
        {"type": "Sjukavdrag", "monetary_amount": "-1000", "currency": "SEK"},
    ]
    assert (period["start_date"], period["end_date"], period["payout_date"]) == ("2026-09-01", "2026-09-30", "2026-09-25")
    employer = body["salaryslip"]["employment"]["employer"]
    assert employer["legal_identifiers"] == {"vat_number": "SE556840226601", "org_number": "556840-2266"}


def test_subject_never_carries_personal_data(version, company):
    subject = json.loads(build(version, company))["subject"]
    assert len(subject) <= 35 and "Astrid" not in subject and "1212" not in subject


def test_parts_are_the_stored_pdf_and_a_script_free_html(version, company):
    part = json.loads(build(version, company))["parts"][0]
    assert base64.b64decode(part["data"]) == version.pdf
    html = base64.b64decode(part["responsive_part"]["data"]).decode().replace("\xa0", " ")
    assert "<script" not in html and "23 800,50 kr" in html and "Nettolön / Net pay" in html


def test_the_same_version_gives_the_same_bytes(version, company):
    assert build(version, company) == build(version, company)


def test_a_correction_says_so_in_the_subject(version, company):
    payslip = version.payslip
    payslip.lines.append(PayslipLine(kind="addition", description="Bonus", amount_ore=100_00))
    corrected = service.correct(payslip)
    assert json.loads(build(corrected, company, correction=True))["subject"] == "Rättat lönebesked september 2026"


def test_a_later_version_for_someone_who_got_no_earlier_one_is_the_payslip(version, company):
    payslip = version.payslip
    payslip.lines.append(PayslipLine(kind="addition", description="Bonus", amount_ore=100_00))
    body = json.loads(build(service.correct(payslip), company, correction=False))
    assert body["subject"] == "Lönebesked september 2026"
    assert "Correction" not in base64.b64decode(body["parts"][0]["responsive_part"]["data"]).decode()


def test_retain_for_people_not_yet_in_kivra(version, company):
    body = json.loads(build(version, company, retain=True))
    assert body["retain"] is True and body["retention_time"] == "390"


def test_missing_employer_contact_details_are_named(version, company):
    company.phone = None
    with pytest.raises(PayloadError, match="phone"):
        build(version, company)
