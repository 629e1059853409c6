"""Every business date is the date in Sweden: 23:30 UTC on 30 November is already 1 December in Stockholm."""
import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from kivra import clock, demo, identity
from kivra.dispatch.service import is_new_customer, needs_activation_prompt
from kivra.extensions import db
from kivra.payroll import service
from kivra.payroll.models import PayrollRun
from tests.conftest import make_company

LATE_EVENING = datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc)  # 00:30 on 1 December in Stockholm
CUT_OVER = date(2026, 12, 1)


@pytest.fixture
def late_evening(monkeypatch):
    """The clock at 23:30 UTC on 30 November: the server's own date is still November."""
    monkeypatch.setattr(clock, "now", lambda: LATE_EVENING)
    return LATE_EVENING


def test_the_swedish_date_of_an_instant():
    assert clock.swedish_date(LATE_EVENING) == date(2026, 12, 1)
    assert clock.swedish_date(LATE_EVENING.replace(tzinfo=None)) == date(2026, 12, 1)  # stored UTC, no zone
    assert clock.swedish_date(datetime(2026, 6, 30, 21, 59, tzinfo=timezone.utc)) == date(2026, 6, 30)  # summer time
    assert clock.swedish_date(datetime(2026, 6, 30, 22, 0, tzinfo=timezone.utc)) == date(2026, 7, 1)


def test_today_in_sweden_follows_the_clock(late_evening):
    assert clock.today_in_sweden() == date(2026, 12, 1)


def test_a_company_created_after_midnight_in_sweden_is_a_new_customer(app):
    company = make_company()
    company.created_at = LATE_EVENING.replace(tzinfo=None)  # as the database gives it back
    db.session.commit()
    assert is_new_customer(company, CUT_OVER)
    assert not needs_activation_prompt(company, CUT_OVER)


def test_a_company_created_before_midnight_in_sweden_is_not(app):
    company = make_company()
    company.created_at = datetime(2026, 11, 30, 22, 59)  # 23:59 in Stockholm
    db.session.commit()
    assert not is_new_customer(company, CUT_OVER)


def test_someone_born_today_in_sweden_is_a_newborn_not_a_centenarian(late_evening):
    newborn = identity.with_check_digit("20261201001")
    assert identity.parse_personnummer(newborn[2:8] + "-" + newborn[8:]).birth_date == date(2026, 12, 1)


def test_a_hundredth_birthday_in_sweden_takes_the_plus_sign(late_evening):
    born = identity.with_check_digit("19261201002")
    assert identity.parse_personnummer(born[2:8] + "+" + born[8:]).birth_date == date(1926, 12, 1)


def test_the_runs_page_proposes_the_swedish_month(as_admin, late_evening):
    page = as_admin.get("/runs").get_data(as_text=True)
    assert re.search(r'name="period"[^>]*value="2026-12"', page), re.findall(r'<input[^>]*name="period"[^>]*>', page)


def test_the_sie_file_is_dated_in_sweden(as_admin, company, admin, late_evening):
    from tests.conftest import make_employee

    make_employee(company)
    run = service.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    service.calculate_run(run)
    service.post_voucher(run, admin)
    body = as_admin.get(f"/runs/{run.id}/voucher.se").data.decode("cp437")
    assert "#GEN 20261201" in body, body.splitlines()[3]


def test_the_demo_run_is_for_the_swedish_month(app, late_evening):
    demo.seed()
    run = db.session.scalar(select(PayrollRun))
    assert (run.period, run.payout_date) == (date(2026, 12, 1), date(2026, 12, 25))


def test_kivra_content_is_dated_the_swedish_day_its_version_was_made(company):
    import json

    from kivra.payroll import kivra_payload
    from tests.conftest import make_employee

    company.street_address, company.postal_code, company.city = "Storgatan 1", "111 22", "Stockholm"
    company.email, company.phone = "lon@demo.se", "08-123 456 00"
    make_employee(company)
    run = service.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    service.calculate_run(run)
    version = run.payslips[0].versions[0]
    version.created_at = LATE_EVENING.replace(tzinfo=None)
    db.session.commit()
    body = json.loads(kivra_payload.payslip_content(version, company, correction=False))
    assert body["generated_at"] == "2026-12-01"
