"""A new company's first steps on the run list: what is done, what comes next with its link, gone after the first
send; in Swedish and English, on the page a company user lands on."""
import re
from datetime import date

import pytest

from kivra.dispatch import service as dispatch
from kivra.extensions import db
from kivra.payroll import service as payroll
from tests.conftest import make_employee, text

STEPS = {
    "sv": ["Bekräfta din e-postadress", "Fyll i företagets uppgifter", "Lägg till dina anställda",
           "Skapa den första lönekörningen", "Beräkna och skicka lönebeskeden"],
    "en": ["Confirm your e-mail address", "Fill in the company's details", "Add your employees",
           "Create the first payroll run", "Calculate and send the payslips"],
}
TITLE = {"sv": "Kom igång", "en": "Get started"}


def next_step(html: str) -> str:
    """The text of the step marked as the current one."""
    found = re.search(r'aria-current="step">.*?(?:<a href="[^"]*">|<span class="step-title">)([^<]+)<', html, re.S)
    return found.group(1) if found else ""


def done_steps(html: str) -> list[str]:
    return re.findall(r'<li class="done">.*?<span class="step-title">([^<]+)</span>', html, re.S)


@pytest.fixture
def new_company(company):
    company.confirmed_at = None  # signed up a moment ago, the address not confirmed yet
    db.session.commit()
    return company


def test_a_new_company_is_led_step_by_step_to_its_first_send(as_admin, new_company, admin, lang):
    steps = STEPS[lang]
    page = as_admin.get("/runs").get_data(as_text=True)
    assert TITLE[lang] in page and all(step in page for step in steps)
    assert next_step(page) == steps[0] and done_steps(page) == []
    assert '<a href="/company/settings">' in page  # the settings step, for an admin
    assert '<a href="/registrera/bekrafta">' in page  # where the confirmation is sent again

    new_company.confirmed_at = new_company.created_at
    new_company.street_address, new_company.postal_code, new_company.city = "Storgatan 1", "11122", "Stockholm"
    new_company.email, new_company.phone = "lon@demo.se", "08-123 45 67"
    db.session.commit()
    page = as_admin.get("/runs").get_data(as_text=True)
    assert done_steps(page) == steps[:2] and next_step(page) == steps[2]
    assert '<a href="/employees/new">' in page  # the next step's link

    make_employee(new_company)
    page = as_admin.get("/runs").get_data(as_text=True)
    assert next_step(page) == steps[3] and 'href="#run_form"' in page

    run = payroll.create_run(new_company, date(2026, 11, 1), date(2026, 11, 25))
    page = as_admin.get("/runs").get_data(as_text=True)
    assert next_step(page) == steps[4] and f'<a href="/runs/{run.id}">' in page

    payroll.calculate_run(run)
    dispatch.request_send(run, admin, min_lon_only=True)
    assert TITLE[lang] not in text(as_admin.get("/runs"))  # sent: the list has done its job


def test_a_company_that_has_sent_before_sees_no_first_steps(as_admin, company, admin, lang):
    make_employee(company)
    run = payroll.create_run(company, date(2026, 10, 1), date(2026, 10, 25))
    payroll.calculate_run(run)
    dispatch.request_send(run, admin, min_lon_only=True)
    assert TITLE[lang] not in text(as_admin.get("/runs"))


def test_the_run_form_fragment_carries_no_first_steps(as_admin, new_company, lang):
    """htmx swaps the run form only: a refused form does not repeat the list inside it."""
    response = as_admin.post("/runs", {"period": "", "payout_date": ""}, htmx=True)
    assert response.status_code in (400, 422) and TITLE[lang] not in text(response)
