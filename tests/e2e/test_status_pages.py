"""The status pages in a browser, in Swedish and English: an administrator sends the demo run through Kivra with a few
failures, reads the month on the Kivra status page, resends the failed, and looks at Min lön and Kivra side by side
and at the chart."""
import re

import httpx
import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from kivra import status
from tests.e2e.test_agreement_feedback import approve_on_the_card
from tests.e2e.test_dispatch_flows import create_calculated_run
from tests.e2e.test_kivra_flows import (
    SCREENSHOTS,
    assert_same_page,
    mark_page,
    open_agreement_from_prompt,
    open_step_page,
)

STATUS_WORDS = {
    "sv": {"month": "Månad", "outcome": "Utfall", "search": "Sök på namn", "delivered": "Levererat till Kivra",
           "published": "Publicerat i Min lön", "failed": "Misslyckades", "resend": "Skicka misslyckade igen",
           "resent": "3 misslyckade lönebesked skickas igen", "sent_failed": "3 misslyckades",
           "per_employee": "Min lön och Kivra per anställd", "chart": "Utfall per månad", "table": "Siffrorna som tabell",
           "not_user": "Använder inte Kivra", "id": "ID-numret godtas inte av Kivra", "code": "Kivras kod 42900",
           "overview": "Min lön och Kivra", "no_match": "Inga lönebesked matchar.",
           "chart_name": "Lönebesked per månad efter utfall", "nearest": "Närmaste månad med utskick:",
           "last_month": "Förra månadens utskick", "run": "Lönekörning"},
    "en": {"month": "Month", "outcome": "Outcome", "search": "Search by name", "delivered": "Delivered to Kivra",
           "published": "Published in Min lön", "failed": "Failed", "resend": "Resend failed",
           "resent": "3 failed payslips are being sent again", "sent_failed": "3 failed",
           "per_employee": "Min lön and Kivra per employee", "chart": "Outcomes per month", "table": "The figures as a table",
           "not_user": "Not a Kivra user", "id": "ID number not accepted by Kivra", "code": "Kivra's code 42900",
           "overview": "Min lön and Kivra", "no_match": "No payslips match.",
           "chart_name": "Payslips per month by outcome", "nearest": "The nearest month with sends:",
           "last_month": "Last month's sends", "run": "Payroll run"},
}


@pytest.fixture
def one_attempt(live_app, sandbox):
    """Three of the twenty Kivra payslips fail: one attempt each, and the sandbox answers content requests 18–20
    with 429. Set before the first request, when the app makes its Kivra client."""
    live_app[0].config.update(DISPATCH_MAX_ATTEMPTS=1, KIVRA_MAX_ATTEMPTS=1, DISPATCH_RETRY_SECONDS=0.0,
                              DISPATCH_RETRY_CAP_SECONDS=0.0)
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"burst_429_every": 17, "burst_429_length": 3}).raise_for_status()


def month_name(month, lang: str) -> str:
    """`december 2026` / `December 2026`, as the pages write a month."""
    return format_date(month, "LLLL yyyy", locale={"sv": "sv", "en": "en_GB"}[lang])


def total(page, outcome: str):
    return page.locator(f"#dispatch_month .total.outcome-{outcome} .count")


def settled(page) -> None:
    """Wait until htmx has finished the last swap: new content gets its listeners only as it settles, so an event a
    test fires a few milliseconds after the swap (faster than anyone types) would otherwise go unheard."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def test_the_admin_reads_the_month_and_resends_the_failed(one_attempt, signed_in, words, lang):
    page, say = signed_in, STATUS_WORDS[lang]
    agreement = open_agreement_from_prompt(page, words)
    agreement.get_by_role("button", name=words["approve"]).click()
    send_area = page.locator("#send_payslips")
    expect(send_area).to_contain_text(say["sent_failed"], timeout=30_000)

    send_area.get_by_role("link", name=words["status_link"]).click()
    expect(page.get_by_role("heading", level=1, name=words["status"])).to_be_visible()
    this_month, last_month = status.this_month(), status.previous_month()
    # Coming from the run, the page opens on the month its payslips went out: this one, not an empty last month.
    expect(page.get_by_role("combobox", name=say["month"])).to_have_value(f"{this_month:%Y-%m}")
    expect(total(page, "failed")).to_have_text("3")
    per_employee = page.get_by_role("link", name=say["per_employee"])
    expect(per_employee).to_have_attribute("href", re.compile(rf"month={this_month:%Y-%m}$"))

    # Last month (the help article's "förra månadens utskick") is one click away; it is empty and says where the
    # nearest month with sends is. htmx moves between them and the header's links follow the month shown.
    mark_page(page)
    settled(page)
    page.get_by_role("combobox", name=say["month"]).select_option(f"{last_month:%Y-%m}")
    nearest = page.get_by_role("link", name=f"{say['nearest']} {month_name(this_month, lang)}")
    expect(nearest).to_be_visible()
    expect(per_employee).to_have_attribute("href", re.compile(rf"month={last_month:%Y-%m}$"))
    page.screenshot(path=f"{SCREENSHOTS}/status-empty-month-{lang}.png", full_page=True)
    settled(page)
    nearest.click()
    expect(total(page, "failed")).to_have_text("3")
    assert_same_page(page)
    expect(page).to_have_url(re.compile(rf"month={this_month:%Y-%m}"))
    expect(per_employee).to_have_attribute("href", re.compile(rf"month={this_month:%Y-%m}$"))
    expect(page.get_by_role("link", name=say["last_month"])).to_have_attribute(
        "href", re.compile(rf"month={last_month:%Y-%m}$"))
    expect(total(page, "delivered")).to_have_text("17")
    expect(total(page, "published")).to_have_text("5")
    table = page.locator("table.dispatches")
    expect(table.get_by_role("row")).to_have_count(1 + 25)
    # Each row names its payroll run, so two runs sent in one month can be told apart.
    expect(table.get_by_role("columnheader", name=say["run"])).to_be_visible()
    expect(table.get_by_role("row").nth(1)).to_contain_text(month_name(this_month, lang).capitalize())
    expect(table).to_contain_text(say["id"])
    expect(table).to_contain_text(say["code"])
    expect(table).not_to_contain_text(re.compile(r"\d{8}-\d{4}"))  # masked: birth date and ****
    page.screenshot(path=f"{SCREENSHOTS}/status-month-{lang}.png", full_page=True)

    settled(page)
    page.get_by_role("combobox", name=say["outcome"]).select_option("failed")
    expect(table.get_by_role("row")).to_have_count(1 + 3)
    settled(page)
    page.get_by_label(say["search"]).fill("yusuf")
    expect(page.locator("#dispatch_month")).to_contain_text(say["no_match"])
    settled(page)
    page.get_by_role("combobox", name=say["outcome"]).select_option("")
    expect(page.locator("table.dispatches").get_by_role("row")).to_have_count(1 + 1)
    expect(page.locator("table.dispatches")).to_contain_text("Yusuf Berg")
    settled(page)
    page.get_by_label(say["search"]).fill("")
    expect(page.locator("table.dispatches").get_by_role("row")).to_have_count(1 + 25)

    page.get_by_role("button", name=say["resend"]).click()
    expect(page.locator("#dispatch_month")).to_contain_text(say["resent"])
    assert_same_page(page)
    for _ in range(40):  # the worker sends them within a moment; the page shows what the database says
        page.reload()
        if total(page, "failed").inner_text() == "0" and total(page, "delivered").inner_text() == "20":
            break
        page.wait_for_timeout(250)
    expect(total(page, "failed")).to_have_text("0")
    expect(total(page, "delivered")).to_have_text("20")
    expect(page.get_by_role("button", name=say["resend"])).to_have_count(0)
    page.screenshot(path=f"{SCREENSHOTS}/status-month-resent-{lang}.png", full_page=True)

    page.get_by_role("link", name=say["per_employee"]).click()
    expect(page.get_by_role("heading", level=1, name=say["overview"])).to_be_visible()
    overview = page.locator("table.side-by-side")
    row = overview.get_by_role("row").filter(has_text="Sven Jönsson")
    expect(row.get_by_role("cell").nth(3)).to_contain_text(say["published"])
    expect(row.get_by_role("cell").nth(2)).to_have_text("—")
    row = overview.get_by_role("row").filter(has_text="Astrid Lindqvist")
    expect(row.get_by_role("cell").nth(2)).to_contain_text(say["delivered"])
    expect(page.locator("#overview_chart").get_by_role("img", name=re.compile(say["chart_name"]))).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/status-per-employee-{lang}.png", full_page=True)

    page.get_by_role("link", name=say["chart"]).first.click()
    expect(page.get_by_role("heading", level=1, name=say["chart"])).to_be_visible()
    chart = page.get_by_role("img", name=re.compile(say["chart_name"]))
    expect(chart).to_be_visible()
    page.get_by_text(say["table"]).click()
    last_row = page.locator(".chart-table tbody tr").last
    expect(last_row.get_by_role("cell").last).to_have_text("25")
    page.screenshot(path=f"{SCREENSHOTS}/status-chart-{lang}.png", full_page=True)


def test_two_runs_sent_in_one_month_are_told_apart_and_filtered(signed_in, words, lang):
    page, say = signed_in, STATUS_WORDS[lang]
    approve_on_the_card(page, words)
    page.get_by_role("navigation").get_by_role("link", name=words["runs"]).click()
    send_area = open_step_page(page, words)  # the demo's run, this month's
    send_area.get_by_role("button", name=words["send"]).click()
    expect(send_area).to_contain_text(words["all_sent"], timeout=30_000)
    last_month = status.previous_month()  # a late run for last month, sent now: the same month's sends
    send_area = create_calculated_run(page, words, last_month.replace(day=25))
    send_area.get_by_role("button", name=words["send"]).click()
    expect(send_area).to_contain_text(words["all_sent"], timeout=30_000)

    send_area.get_by_role("link", name=words["status_link"]).click()
    table = page.locator("table.dispatches")
    expect(table.get_by_role("row")).to_have_count(1 + 50)
    late = month_name(last_month, lang).capitalize()
    expect(table.get_by_role("row").filter(has_text=late)).to_have_count(25)
    mark_page(page)
    settled(page)
    page.get_by_role("combobox", name=say["run"]).select_option(label=late)
    expect(table.get_by_role("row")).to_have_count(1 + 25)
    expect(total(page, "delivered")).to_have_text("20")
    assert_same_page(page)
    page.screenshot(path=f"{SCREENSHOTS}/status-two-runs-{lang}.png", full_page=True)


REGISTER_WORDS = {
    "sv": {"check": "Kontrollera mot Kivra nu", "asking": "Frågar Kivra vilka anställda som använder Kivra",
           "registered": "Företaget är registrerat som avsändare hos Kivra.",
           "answered": "Kivra har svarat: 20 av 25 anställda är Kivra-användare.",
           "user": "Kivra-användare", "not_checked": "Inte kontrollerad än", "not_active": "Kivra är inte aktivt"},
    "en": {"check": "Check Kivra now", "asking": "Asking Kivra which employees are Kivra users",
           "registered": "Registered with Kivra as a sender.", "answered": "Kivra has answered: 20 of 25 employees are Kivra users.",
           "user": "Kivra user", "not_checked": "Not checked yet", "not_active": "Kivra is not active"},
}


def test_the_register_asks_kivra_who_uses_it(signed_in, worker_held, words, lang):
    page, say = signed_in, REGISTER_WORDS[lang]
    page.get_by_role("link", name=words["employees"]).click()
    page.get_by_role("button", name=say["check"]).click()
    expect(page.get_by_text(say["not_active"])).to_be_visible()  # nothing to ask before Kivra is activated

    page.get_by_role("link", name=words["more"]).click()
    page.get_by_role("article", name="Kivra").get_by_role("button", name=words["activate_approve"]).click()
    expect(page.get_by_role("heading", level=1, name=words["status"])).to_be_visible()
    expect(page.locator("#kivra_access")).to_contain_text(say["registered"], timeout=10_000)  # by the worker
    page.get_by_role("link", name=words["employees"]).click()
    row = page.get_by_role("row").filter(has_text="Astrid Lindqvist")
    expect(row).to_contain_text(say["not_checked"])
    worker_held.set()
    page.evaluate("window.__still_this_page = true")
    page.get_by_role("button", name=say["check"]).click()
    expect(page.locator("#kivra_check")).to_contain_text(say["asking"])  # a worker asks Kivra, not the request
    expect(row).to_contain_text(say["not_checked"])
    page.screenshot(path=f"{SCREENSHOTS}/register-kivra-asking-{lang}.png", full_page=True)
    worker_held.clear()
    expect(page.get_by_text(say["answered"])).to_be_visible(timeout=10_000)  # the check polls until answered
    expect(row).to_contain_text(say["user"])  # and the register's Kivra column follows, in the same page
    assert page.evaluate("window.__still_this_page === true"), "expected htmx swaps, got a page load"
    expect(page.get_by_role("row").filter(has_text="Yusuf Berg")).to_contain_text(STATUS_WORDS[lang]["id"])
    page.screenshot(path=f"{SCREENSHOTS}/register-kivra-{lang}.png", full_page=True)
