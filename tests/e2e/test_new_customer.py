"""A new customer's journey in a real browser, in Swedish and in English, as the issue asks: a company that signs up
after the cut-over confirms its address in the dev mailbox, fills in its settings, adds three employees and sends its
first run straight to Kivra with no prompt, led by the "Get started" checklist until the send; one that signed up
before the cut-over is asked about Kivra on its first send."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from kivra import clock
from kivra.identity import luhn_valid
from kivra.sandbox.config import DEMO_EMPLOYEES
from tests.e2e.test_company_settings_flow import TEXT as SETTINGS
from tests.e2e.test_dispatch_flows import create_calculated_run, ledger, months_from_today, outcome
from tests.e2e.test_mail_flows import open_mail, wait_for_mail
from tests.e2e.test_payroll_flows import add_employee

pytestmark = pytest.mark.e2e
SCREENSHOTS = "test-artifacts"
PASSWORD = "ett-eget-lösenord-16"
KIVRA_USERS = [number for number, status in DEMO_EMPLOYEES.items() if status == "user"][:3]
SAY = {
    "sv": {
        "sign_up_link": "Registrera företag", "company_name": "Företagets namn", "orgnr": "Organisationsnummer",
        "your_name": "Ditt namn", "your_email": "Din e-postadress", "choose": "Välj ett lösenord",
        "repeat": "Upprepa lösenordet", "sign_up": "Registrera", "confirm_title": "Bekräfta din e-postadress",
        "confirm_button": "Bekräfta adressen", "confirmed": "Din e-postadress är bekräftad",
        "get_started": "Kom igång", "details_step": "Fyll i företagets uppgifter",
        "first_run_step": "Skapa den första lönekörningen", "delivered": "Levererat till Kivra",
        "sent": "{n} av {n} skickade",
    },
    "en": {
        "sign_up_link": "Sign up your company", "company_name": "Company name", "orgnr": "Organisation number",
        "your_name": "Your name", "your_email": "Your e-mail address", "choose": "Choose a password",
        "repeat": "Repeat the password", "sign_up": "Sign up", "confirm_title": "Confirm your e-mail address",
        "confirm_button": "Confirm the address", "confirmed": "Your e-mail address is confirmed",
        "get_started": "Get started", "details_step": "Fill in the company's details",
        "first_run_step": "Create the first payroll run", "delivered": "Delivered to Kivra",
        "sent": "{n} of {n} sent",
    },
}


def orgnr(nine: str) -> str:
    """A valid organisation number (the Luhn digit added), used by no other test."""
    return next(nine + digit for digit in "0123456789" if luhn_valid(nine + digit))


def formatted(personnummer: str) -> str:
    return f"{personnummer[:8]}-{personnummer[8:]}"


def checklist(page, say):
    return page.get_by_role("region", name=say["get_started"])


def current_step(page, say):
    return checklist(page, say).locator('li[aria-current="step"]')


def sign_up(page, live_url, lang, say, company, number, email):
    """From the login page's link, the sign-up form filled in: the confirm-your-address page opens."""
    page.goto(f"{live_url}/login")
    if lang == "en":
        page.get_by_role("button", name="English").click()
    page.get_by_role("link", name=say["sign_up_link"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say["sign_up_link"])
    page.get_by_label(say["company_name"]).fill(company)
    page.get_by_label(say["orgnr"]).fill(f"{number[:6]}-{number[6:]}")
    page.get_by_label(say["your_name"]).fill("Nora Ny")
    page.get_by_label(say["your_email"]).fill(email)
    page.get_by_label(say["choose"]).fill(PASSWORD)
    page.get_by_label(say["repeat"]).fill(PASSWORD)


def confirm_in_mailbox(page, mailbox, say, email):
    """The confirmation e-mail read in the dev mailbox, its link followed and the button pressed."""
    (mail,) = wait_for_mail(mailbox, email, 1)
    assert mail.subject == say["confirm_title"]  # in the language the admin signed up in
    open_mail(page, mailbox, say["confirm_title"])
    page.get_by_role("link", name=re.compile(r"\/registrera\/bekrafta\/")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say["confirm_title"])
    page.get_by_role("button", name=say["confirm_button"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say["confirmed"])


def fill_company_settings(page, lang):
    """On the settings page: the address, e-mail, phone and bankgiro saved."""
    text = SETTINGS[lang]
    expect(page.get_by_role("heading", name=text["settings"])).to_be_visible()
    page.get_by_label(text["street"]).fill("Nygatan 16")
    page.get_by_label(text["postal"]).fill("11122")
    page.get_by_label(text["city"]).fill("Stockholm")
    page.get_by_label(text["email"]).fill("lon@nyforetag.se")
    page.get_by_label(text["phone"]).fill("08-123 456 78")
    page.get_by_label(text["bankgiro"], exact=True).fill("5050-1055")
    page.get_by_role("button", name=text["save"]).click()
    expect(page.get_by_text(text["saved"])).to_be_visible()


def add_employees(page, words, numbers):
    for index, number in enumerate(numbers):
        add_employee(page, words, f"Anställd {index + 1}", formatted(number))
        expect(page.get_by_text(words["saved"])).to_be_visible()


def signed_up_and_set_up(page, live_app, mailbox, lang, words, say, company, number, employees, shots=False):
    """Sign-up to a calculated first run, through the checklist: the step page's send area."""
    live_url = live_app[1]
    email = f"nora@{number}.se"
    sign_up(page, live_url, lang, say, company, number, email)
    if shots:
        page.screenshot(path=f"{SCREENSHOTS}/signup-{lang}.png", full_page=True)
    page.get_by_role("button", name=say["sign_up"], exact=True).click()
    expect(page).to_have_url(f"{live_url}/registrera/bekrafta")
    expect(page.get_by_role("heading", level=1)).to_have_text(say["confirm_title"])
    expect(page.get_by_text(email).first).to_be_visible()
    if shots:
        page.screenshot(path=f"{SCREENSHOTS}/signup-pending-{lang}.png", full_page=True)

    page.get_by_role("navigation").get_by_role("link", name=words["runs"]).click()
    expect(current_step(page, say)).to_contain_text(say["confirm_title"])
    if shots:
        page.screenshot(path=f"{SCREENSHOTS}/getting-started-first-step-{lang}.png", full_page=True)

    confirm_in_mailbox(page, mailbox, say, email)
    expect(page.get_by_role("link", name=say["details_step"])).to_be_visible()  # what comes next, details first
    if shots:
        page.screenshot(path=f"{SCREENSHOTS}/signup-confirmed-{lang}.png", full_page=True)

    page.goto(f"{live_url}/runs")
    expect(current_step(page, say)).to_contain_text(say["details_step"])
    checklist(page, say).get_by_role("link", name=say["details_step"]).click()
    fill_company_settings(page, lang)
    if shots:
        page.screenshot(path=f"{SCREENSHOTS}/signup-company-settings-saved-{lang}.png", full_page=True)

    add_employees(page, words, employees)
    page.get_by_role("navigation").get_by_role("link", name=words["runs"]).click()
    expect(current_step(page, say)).to_contain_text(say["first_run_step"])
    if shots:
        page.screenshot(path=f"{SCREENSHOTS}/getting-started-first-run-{lang}.png", full_page=True)
    return create_calculated_run(page, words, months_from_today(1))


def test_a_company_that_signs_up_after_the_cut_over_sends_straight_to_kivra(page, live_app, mailbox, sandbox, words,
                                                                          lang):
    app, say = live_app[0], SAY[lang]
    app.config["KIVRA_NEW_CUSTOMERS_SINCE"] = clock.today_in_sweden()
    number = orgnr({"sv": "559301420", "en": "559301421"}[lang])
    send_area = signed_up_and_set_up(page, live_app, mailbox, lang, words, say, f"Nytt Företag {lang} AB", number,
                                     KIVRA_USERS, shots=True)

    send_area.get_by_role("button", name=words["send"]).click()
    expect(send_area.get_by_text(say["sent"].format(n=3), exact=True)).to_be_visible(timeout=30_000)
    expect(page.get_by_role("dialog", name=words["activate_prompt"])).to_have_count(0)
    expect(page.get_by_role("button", name=words["not_now"])).to_have_count(0)
    expect(outcome(send_area, say["delivered"])).to_have_text("3")
    page.screenshot(path=f"{SCREENSHOTS}/new-customer-sent-{lang}.png", full_page=True)

    contents = ledger(sandbox)["contents"]
    assert sorted(entry["recipient"] for entry in contents) == sorted(KIVRA_USERS)
    assert {entry["delivered_count"] for entry in contents} == {1}
    (tenant_key,) = {entry["tenant_key"] for entry in contents}
    assert sandbox.state.tenants[tenant_key].name == f"Nytt Företag {lang} AB"

    page.get_by_role("navigation").get_by_role("link", name=words["runs"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["runs"])
    expect(checklist(page, say)).to_have_count(0)


def test_a_company_that_signed_up_before_the_cut_over_is_asked_about_kivra(page, live_app, mailbox, sandbox, words,
                                                                         lang):
    app, say = live_app[0], SAY[lang]
    app.config["KIVRA_NEW_CUSTOMERS_SINCE"] = clock.today_in_sweden() + timedelta(days=1)
    number = orgnr({"sv": "559301422", "en": "559301423"}[lang])
    send_area = signed_up_and_set_up(page, live_app, mailbox, lang, words, say, f"Gammalt Företag {lang} AB", number,
                                     KIVRA_USERS[:1])

    send_area.get_by_role("button", name=words["send"]).click()
    prompt = page.get_by_role("dialog", name=words["activate_prompt"])
    expect(prompt).to_be_visible()
    expect(prompt.get_by_role("link", name=words["activate"])).to_be_visible()
    expect(prompt.get_by_role("button", name=words["not_now"])).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/old-customer-prompt-{lang}.png", full_page=True)
    assert ledger(sandbox)["contents"] == []  # nothing went before the answer
