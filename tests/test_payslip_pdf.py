"""What the payslip PDF tells the employee: the employer's address and contact, the period and payout date, the bank
account masked, and the year to date; all frozen with the version."""
import io
from datetime import date

import pytest
from flask_migrate import downgrade, upgrade
from pypdf import PdfReader
from sqlalchemy import inspect

from kivra.extensions import db
from kivra.payroll import service
from kivra.payroll.models import PayslipLine
from kivra.payroll.printable import UnprintableText
from tests.conftest import make_employee
from tests.test_postgres import migrated_app, pg_app  # noqa: F401 - fixtures

pytestmark = pytest.mark.both_databases


@pytest.fixture
def astrid(company):
    company.street_address, company.postal_code, company.city = "Storgatan 1", "111 22", "Stockholm"
    company.email, company.phone = "lon@demo.se", "08-123 456 00"
    db.session.commit()
    return make_employee(company, bank_account="8327-9 123 456 789", monthly_salary_ore=3_000_000)


def calculated(company, period: date, payout: date):
    run = service.create_run(company, period, payout)
    service.calculate_run(run)
    return run


def version_of(run, employee):
    return next(p for p in run.payslips if p.employee_id == employee.id).current_version


def ytd(version) -> tuple:
    return version.ytd_gross_ore, version.ytd_tax_ore, version.ytd_net_ore


def pdf_text(version) -> str:
    content = service.render_pdf(version, False)
    pages = PdfReader(io.BytesIO(content)).pages
    return "\n".join(page.extract_text() for page in pages).replace("\xa0", " ")


def test_year_to_date_adds_the_earlier_months_of_the_year_and_this_one(company, astrid):
    january = calculated(company, date(2026, 1, 1), date(2026, 1, 25))
    february = calculated(company, date(2026, 2, 1), date(2026, 2, 25))
    one = version_of(january, astrid)
    two = version_of(february, astrid)
    assert ytd(one) == (one.gross_ore, one.tax_ore, one.net_ore)
    assert ytd(two) == (2 * one.gross_ore, 2 * one.tax_ore, 2 * one.net_ore)


def test_year_goes_by_payout_date_and_leaves_out_another_year_and_another_company(company, other_company, astrid):
    calculated(company, date(2025, 11, 1), date(2025, 11, 25))  # another year
    make_employee(other_company, bank_account="1234")  # the same person, employed by another company too
    calculated(other_company, date(2026, 1, 1), date(2026, 1, 25))
    december = calculated(company, date(2025, 12, 1), date(2026, 1, 5))  # December's salary, paid in January
    january = calculated(company, date(2026, 1, 1), date(2026, 1, 25))
    first, second = version_of(december, astrid), version_of(january, astrid)
    assert ytd(first) == (first.gross_ore, first.tax_ore, first.net_ore)
    assert ytd(second) == (first.gross_ore + second.gross_ore, first.tax_ore + second.tax_ore,
                           first.net_ore + second.net_ore)


def test_a_correction_counts_in_later_versions_and_never_changes_a_frozen_one(company, astrid):
    january = calculated(company, date(2026, 1, 1), date(2026, 1, 25))
    february = calculated(company, date(2026, 2, 1), date(2026, 2, 25))
    frozen = ytd(version_of(february, astrid))
    payslip = next(p for p in january.payslips if p.employee_id == astrid.id)
    payslip.lines.append(PayslipLine(kind="addition", description="Övertid", amount_ore=100_000))
    corrected = service.correct(payslip)
    assert corrected.number == 2 and ytd(corrected)[0] == corrected.gross_ore
    assert ytd(version_of(february, astrid)) == frozen  # February's version 1 keeps its figures
    february_payslip = next(p for p in february.payslips if p.employee_id == astrid.id)
    february_payslip.lines.append(PayslipLine(kind="addition", description="OB", amount_ore=10_000))
    again = service.correct(february_payslip)
    assert ytd(again)[0] == corrected.gross_ore + again.gross_ore  # January's latest version, February's new one


def test_pdf_has_employer_address_orgnr_masked_account_period_payout_ytd_and_footer(company, astrid):
    january = calculated(company, date(2026, 1, 1), date(2026, 1, 25))
    version = version_of(january, astrid)
    content = pdf_text(version)
    assert "Storgatan 1, 111 22 Stockholm" in content
    assert "Org.nr / Org. no. 556840-2266" in content
    assert "**** 6789" in content and "123 456 789" not in content
    assert "januari 2026" in content and "2026-01-25" in content
    assert "Hittills i år / Year to date" in content
    assert "Bruttolön hittills i år / Gross pay, year to date" not in content  # one YTD table, not labels per line
    assert content.count("21 000,00 kr") >= 2  # net pay, and the year to date of the year's first payslip
    assert "lon@demo.se" in content and "08-123 456 00" in content
    assert "191212121212" not in content  # the full personnummer only hyphenated, as before
    assert len(PdfReader(io.BytesIO(service.render_pdf(version, False))).pages) == 1


def test_the_version_keeps_the_address_it_was_made_with(company, astrid):
    version = version_of(calculated(company, date(2026, 1, 1), date(2026, 1, 25)), astrid)
    company.street_address, company.email = "Nygatan 9", "ny@demo.se"
    db.session.commit()
    content = pdf_text(version)
    assert "Storgatan 1" in content and "lon@demo.se" in content
    assert "Nygatan" not in content and "ny@demo.se" not in content


def test_a_version_made_before_these_fields_still_renders_the_same_bytes(company, astrid):
    version = version_of(calculated(company, date(2026, 1, 1), date(2026, 1, 25)), astrid)
    for column in ("employer_street_address", "employer_postal_code", "employer_city", "employer_email",
                   "employer_phone", "ytd_gross_ore", "ytd_tax_ore", "ytd_net_ore"):
        setattr(version, column, None)
    db.session.commit()
    content = pdf_text(version)
    assert "Year to date" not in content and "Storgatan" not in content and "556840-2266" in content
    assert service.render_pdf(version, False) == service.render_pdf(version, False)


def test_a_company_without_an_address_leaves_it_out(company):
    employee = make_employee(company)
    content = pdf_text(version_of(calculated(company, date(2026, 1, 1), date(2026, 1, 25)), employee))
    assert "None" not in content and "556840-2266" in content and "Hittills i år / Year to date" in content


def test_a_long_payslip_continues_on_a_second_page_as_before(company, astrid):
    run = service.create_run(company, date(2026, 1, 1), date(2026, 1, 25))
    payslip = run.payslips[0]
    payslip.lines.extend(PayslipLine(kind="addition", description=f"Rad {n}", amount_ore=100) for n in range(40))
    db.session.commit()
    service.calculate_run(run)
    content = service.render_pdf(payslip.current_version, False)
    pages = PdfReader(io.BytesIO(content)).pages
    assert len(pages) == 2 and "Rad 39" in pages[1].extract_text()
    assert all("lon@demo.se" in page.extract_text() for page in pages)  # the footer on every page


def test_an_address_typed_before_the_form_refused_it_stops_the_calculation(company, astrid):
    company.city = "Stockholm 😀"
    db.session.commit()
    run = service.create_run(company, date(2026, 1, 1), date(2026, 1, 25))
    with pytest.raises(UnprintableText, match="the company.s city"):
        service.calculate_run(run)
    assert run.payslips[0].versions == []


LETTERHEAD_COLUMNS = {"employer_street_address", "employer_postal_code", "employer_city", "employer_email",
                      "employer_phone", "ytd_gross_ore", "ytd_tax_ore", "ytd_net_ore"}


def test_0017_adds_the_frozen_letterhead_and_year_to_date_and_goes_down(migrated_app):  # noqa: F811 - fixture
    upgrade(revision="0016_export_audit")
    assert not LETTERHEAD_COLUMNS & version_columns()
    upgrade(revision="0017_payslip_letterhead")
    assert LETTERHEAD_COLUMNS <= version_columns()
    downgrade(revision="0016_export_audit")
    assert not LETTERHEAD_COLUMNS & version_columns()
    upgrade()


def version_columns() -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns("payslip_version")}
