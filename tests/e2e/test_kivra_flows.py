"""Activating Kivra, "Not now", the agreement, discontinuing, and the VLA notice, in Swedish and in English."""
import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from kivra.agreement import vla
from kivra.demo import DEMO_ORGNR
from kivra.extensions import db

SCREENSHOTS = "test-artifacts"
# While the worker registers the company with Kivra, and once it has (no web request waits for Kivra).
REGISTERING = {"sv": "Registrerar företaget hos Kivra", "en": "Registering the company with Kivra"}
REGISTERED = {"sv": "Företaget är registrerat som avsändare hos Kivra.", "en": "Registered with Kivra as a sender."}


def open_step_page(page, words):
    """From the runs list to the demo run's "Send and Post to Voucher" step."""
    page.get_by_role("link", name=re.compile(r"\d{4}")).first.click()
    page.get_by_role("link", name=f"2. {words['send_and_post']}").click()
    page.wait_for_url(re.compile(r"/runs/\d+/send-and-post$"))
    return page.locator("#send_payslips")


def mark_page(page):
    """A flag on `window` that a full page load would wipe out: proof that htmx swapped in place."""
    page.evaluate("window.__still_this_page = true")


def assert_same_page(page):
    assert page.evaluate("window.__still_this_page === true"), "expected an htmx swap, got a page load"


def open_activation_prompt(page, words):
    send_area = open_step_page(page, words)
    mark_page(page)
    send_area.get_by_role("button", name=words["send"]).click()
    prompt = page.get_by_role("dialog", name=words["activate_prompt"])
    expect(prompt).to_be_visible()
    assert_same_page(page)
    return prompt


def open_agreement_from_prompt(page, words):
    prompt = open_activation_prompt(page, words)
    prompt.get_by_role("link", name=words["activate"]).click()
    agreement = page.get_by_role("region", name=words["agreement"])
    expect(agreement).to_contain_text("2026.1")
    expect(prompt).to_have_count(0)
    assert_same_page(page)
    expect(page).to_have_url(re.compile(r"/send-and-post$"))
    return agreement


def test_first_send_activates_kivra_and_queues_the_run(signed_in, worker_held, words, lang):
    page = signed_in
    agreement = open_agreement_from_prompt(page, words)
    expect(agreement.get_by_role("checkbox", name=words["payslips"])).to_be_checked()
    page.screenshot(path=f"{SCREENSHOTS}/kivra-agreement-from-run-{lang}.png", full_page=True)

    worker_held.set()
    agreement.get_by_role("button", name=words["approve"]).click()
    expect(page.locator("#send_payslips")).to_contain_text(REGISTERING[lang])  # the worker has not got to it yet
    page.screenshot(path=f"{SCREENSHOTS}/kivra-registering-from-run-{lang}.png", full_page=True)
    mark_page(page)
    worker_held.clear()
    # The worker registers the company, then sends them; the area follows by itself and ends in the summary.
    expect(page.locator("#send_payslips")).to_contain_text(words["queued_kivra"], timeout=20_000)
    assert_same_page(page)
    expect(page.locator("#send_payslips")).to_contain_text(words["all_sent"])
    expect(page).to_have_url(re.compile(r"/runs/\d+/send-and-post$"))
    expect(page.get_by_role("button", name=words["send"])).to_have_count(0)  # no second click needed, or possible
    page.screenshot(path=f"{SCREENSHOTS}/kivra-queued-{lang}.png", full_page=True)


def test_not_now_queues_the_run_for_min_lon(signed_in, words, lang):
    page = signed_in
    prompt = open_activation_prompt(page, words)
    # A button named in running text is quoted, as Swedish and English typography quote it.
    expect(prompt).to_contain_text({"sv": "Väljer du ”Inte nu” skickas lönebeskeden",
                                    "en": "“Not now” sends this run's payslips"}[lang])
    page.screenshot(path=f"{SCREENSHOTS}/kivra-prompt-{lang}.png", full_page=True)

    prompt.get_by_role("button", name=words["not_now"]).click()
    send_area = page.locator("#send_payslips")
    expect(send_area).to_contain_text(words["queued_min_lon"], timeout=20_000)
    expect(send_area).to_contain_text(words["all_sent"])
    expect(prompt).to_have_count(0)
    expect(send_area.get_by_role("button", name=words["send"])).to_have_count(0)
    assert_same_page(page)
    page.screenshot(path=f"{SCREENSHOTS}/min-lon-queued-{lang}.png", full_page=True)


def test_payroll_user_sees_a_read_only_agreement_naming_the_admin(signed_in_payroll, words, lang):
    page = signed_in_payroll
    agreement = open_agreement_from_prompt(page, words)
    expect(agreement.get_by_role("note")).to_contain_text(words["ask_admin"])
    expect(agreement.get_by_role("button", name=words["approve"])).to_have_count(0)
    expect(agreement.get_by_role("checkbox")).to_have_count(0)
    page.screenshot(path=f"{SCREENSHOTS}/kivra-agreement-read-only-{lang}.png", full_page=True)


def test_activate_from_more_solutions_then_discontinue(signed_in, worker_held, words, lang):
    page = signed_in
    page.get_by_role("link", name=words["more"]).click()
    card = page.get_by_role("article", name="Kivra")
    expect(card.get_by_text(words["not_active"], exact=True)).to_be_visible()
    card.get_by_role("checkbox", name=words["invoices"]).check()
    expect(card.get_by_role("checkbox", name=words["payslips"])).to_be_checked()
    worker_held.set()
    card.get_by_role("button", name=words["activate_approve"]).click()
    expect(page.get_by_role("heading", level=1, name=words["status"])).to_be_visible()
    access = page.locator("#kivra_access")
    expect(access).to_contain_text(REGISTERING[lang])
    page.screenshot(path=f"{SCREENSHOTS}/kivra-approved-registering-{lang}.png", full_page=True)
    mark_page(page)
    worker_held.clear()
    expect(access).to_contain_text(REGISTERED[lang], timeout=10_000)  # the region polls until the worker is done
    assert_same_page(page)
    page.screenshot(path=f"{SCREENSHOTS}/kivra-approved-{lang}.png", full_page=True)

    page.get_by_role("link", name=words["more"]).first.click()
    expect(card.get_by_text(words["active"], exact=True)).to_be_visible()
    expect(card).to_contain_text(words["for_both"])
    expect(card.get_by_text(words["not_active"], exact=True)).to_have_count(0)
    page.screenshot(path=f"{SCREENSHOTS}/kivra-card-active-{lang}.png", full_page=True)

    card.get_by_role("link", name=words["status_link"]).click()
    expect(page.get_by_role("heading", level=1, name=words["status"])).to_be_visible()
    approved_by = page.get_by_role("term").get_by_text(words["approved_by"], exact=True)
    expect(approved_by.locator("xpath=following-sibling::dd[1]")).to_have_text("Anna Admin")
    page.screenshot(path=f"{SCREENSHOTS}/kivra-status-{lang}.png", full_page=True)

    page.get_by_role("link", name=words["discontinue"]).click()
    expect(page.get_by_role("heading", name=words["discontinue_q"])).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/kivra-discontinue-{lang}.png", full_page=True)
    page.get_by_role("button", name=words["discontinue_yes"]).click()
    expect(page).to_have_url(re.compile(r"/solutions$"))
    expect(page.get_by_text(words["discontinued"])).to_be_visible()
    expect(card.get_by_text(words["not_active"], exact=True)).to_be_visible()
    expect(card.get_by_role("button", name=words["activate_approve"])).to_be_visible()

    expect(card.get_by_text(re.compile(HISTORY[lang]["ended"]))).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/kivra-card-discontinued-{lang}.png", full_page=True)

    page.get_by_role("navigation").get_by_role("link", name=words["runs"]).click()
    send_area = open_step_page(page, words)
    send_area.get_by_role("link", name=words["status_link"]).click()  # the history stays, Kivra is offered again
    expect(page.get_by_role("heading", level=1, name=words["status"])).to_be_visible()
    page.get_by_role("link", name=HISTORY[lang]["again"]).click()
    agreement = page.get_by_role("region", name=words["agreement"])
    expect(agreement).to_contain_text("2026.1")
    expect(agreement.get_by_role("button", name=words["approve"])).to_be_enabled()
    page.screenshot(path=f"{SCREENSHOTS}/kivra-agreement-again-{lang}.png", full_page=True)


HISTORY = {
    "sv": {"ended": r"Kivra avslutades \d{4}-\d\d-\d\d \d\d:\d\d av Anna Admin\.", "again": "Aktivera Kivra igen",
           "history_link": "Status och historik för Kivra", "delivered": "Levererat till Kivra",
           "outcomes": "Varje lönebesked och hur det gick finns på status-sidan för Kivra.",
           "ended_before": "Kivra avslutades innan"},
    "en": {"ended": r"Kivra was discontinued on \d{4}-\d\d-\d\d \d\d:\d\d by Anna Admin\.",
           "again": "Activate Kivra again", "history_link": "Kivra status and history",
           "delivered": "Delivered to Kivra", "outcomes": "Each payslip's outcome is on the status page for Kivra.",
           "ended_before": "Kivra was discontinued before"},
}


def test_a_run_sent_through_kivra_stays_delivered_and_readable_after_discontinuing(signed_in, words, lang):
    page, said = signed_in, HISTORY[lang]
    open_agreement_from_prompt(page, words).get_by_role("button", name=words["approve"]).click()
    send_area = page.locator("#send_payslips")
    expect(send_area).to_contain_text(words["all_sent"], timeout=20_000)
    step_url = page.url

    page.get_by_role("link", name=words["more"]).first.click()
    card = page.get_by_role("article", name="Kivra")
    card.get_by_role("link", name=words["status_link"]).click()
    page.get_by_role("link", name=words["discontinue"]).click()
    page.get_by_role("button", name=words["discontinue_yes"]).click()
    expect(page).to_have_url(re.compile(r"/solutions$"))
    expect(card.get_by_role("link", name=said["history_link"])).to_be_visible()

    page.goto(step_url)  # what was delivered stays delivered
    expect(send_area).to_contain_text(words["queued_kivra"])
    expect(send_area).to_contain_text(words["all_sent"])
    expect(send_area).not_to_contain_text(said["ended_before"])
    page.screenshot(path=f"{SCREENSHOTS}/step-page-after-discontinue-{lang}.png", full_page=True)

    send_area.get_by_role("link", name=said["outcomes"]).click()  # the run's month on the status page
    expect(page.get_by_role("heading", level=1, name=words["status"])).to_be_visible()
    expect(page.locator("table.dispatches").get_by_text(said["delivered"]).first).to_be_visible()
    expect(page.get_by_text(re.compile(said["ended"]))).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/kivra-status-after-discontinue-{lang}.png", full_page=True)
    page.get_by_role("link", name=said["again"]).click()
    expect(page.get_by_role("region", name=words["agreement"]).get_by_role("button", name=words["approve"])).to_be_enabled()


@pytest.fixture
def vla_agreement(live_app):
    """Demo AB as a web payroll (VLA) customer whose Kivra agreement was imported."""
    app = live_app[0]
    with app.app_context():
        vla.import_vla(DEMO_ORGNR, "Vera VLA", datetime(2024, 5, 1), "payslips")
        db.session.remove()


def test_vla_moved_notice_can_be_dismissed_for_good(vla_agreement, signed_in, words, lang):
    page = signed_in
    notice = page.get_by_role("status").filter(has_text=words["vla_moved"])
    expect(notice).to_be_visible()  # where the user lands after signing in: the run list
    page.screenshot(path=f"{SCREENSHOTS}/vla-moved-runs-{lang}.png", full_page=True)
    page.get_by_role("link", name=words["more"]).click()
    expect(notice).to_be_visible()  # and Fler lösningar, where the agreement is
    page.screenshot(path=f"{SCREENSHOTS}/vla-moved-more-solutions-{lang}.png", full_page=True)
    page.get_by_role("navigation").get_by_role("link", name=words["runs"]).click()
    open_step_page(page, words)
    expect(notice).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/vla-moved-{lang}.png", full_page=True)

    mark_page(page)
    notice.get_by_role("button", name=words["dismiss"]).click()
    expect(notice).to_have_count(0)
    assert_same_page(page)

    page.reload()
    expect(page.get_by_role("heading", level=2, name=words["send"])).to_be_visible()
    expect(page.get_by_text(words["vla_moved"])).to_have_count(0)
    for place in (words["runs"], words["more"]):  # closed once, gone everywhere
        page.get_by_role("navigation").get_by_role("link", name=place).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.get_by_text(words["vla_moved"])).to_have_count(0)
