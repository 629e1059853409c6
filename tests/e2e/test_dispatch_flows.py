"""Sending payslips in a real browser, in Swedish and in English: the progress that follows the worker to a summary,
a send scheduled for the payout date and called off, a time that has passed, and resending what failed."""
import re
from datetime import date

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from kivra.dispatch.models import Dispatch
from kivra.extensions import db

SCREENSHOTS = "test-artifacts"

MORE = {
    "sv": {
        "summary": "Sammanfattning", "delivered": "Levererat till Kivra", "published": "Publicerat i Min lön",
        "failed": "Misslyckades", "not_user": "Använder inte Kivra, eller har tackat nej till lönebesked från företaget",
        "id_not_accepted": "ID-numret godtas inte av Kivra (t.ex. samordningsnummer)",
        "sending": re.compile(r"\b\d{1,2} av 25 skickade"), "on_payout_date": re.compile("^På utbetalningsdagen"),
        "time": "Tid", "scheduled": "Schemalagt: lönebeskeden skickas", "cancel": "Avbryt schemalagt utskick",
        "cancelled": "Det schemalagda utskicket är avbrutet. Inget skickades.",
        "ready": "25 lönebesked är klara att skicka.",
        "passed": "Den tiden har redan passerat. Skicka nu, eller välj en senare tid.",
        "all_failed": "0 av 25 skickade, 25 misslyckades", "resend": "Skicka misslyckade igen",
        "resending": "25 misslyckade lönebesked skickas igen.",
        "past_resend": "25 misslyckade lönebesked kan inte längre skickas igen: det som skickades sparas inte så länge. "
                       "De anställda läser dem i Min lön.",
        "listed_sent": re.compile(r"Skickad \d+ [a-zåäö]+\.?: 20 Kivra, 5 Min lön"),
        "listed_scheduled": re.compile(r"Schemalagd \d+ [a-zåäö]+\.? 08:00"),
    },
    "en": {
        "summary": "Summary", "delivered": "Delivered to Kivra", "published": "Published in Min lön",
        "failed": "Failed", "not_user": "Not a Kivra user, or has declined payslips from the company",
        "id_not_accepted": "ID number not accepted by Kivra (e.g. samordningsnummer)",
        "sending": re.compile(r"\b\d{1,2} of 25 sent"), "on_payout_date": re.compile("^On the payout date"),
        "time": "Time", "scheduled": "Scheduled: the payslips are sent", "cancel": "Cancel scheduled send",
        "cancelled": "The scheduled send is cancelled. Nothing was sent.",
        "ready": "25 payslips are ready to send.",
        "passed": "That time has already passed. Send now, or choose a later time.",
        "all_failed": "0 of 25 sent, 25 failed", "resend": "Resend failed",
        "resending": "25 failed payslips are being sent again.",
        "past_resend": "25 failed payslips can no longer be sent again: what was sent is not kept that long. "
                       "The employees read them in Min lön.",
        "listed_sent": re.compile(r"Sent \d+ [A-Z][a-z]+: 20 Kivra, 5 Min lön"),
        "listed_scheduled": re.compile(r"Scheduled \d+ [A-Z][a-z]+ 08:00"),
    },
}


@pytest.fixture
def say(words, lang):
    return {**words, **MORE[lang]}


def faults(sandbox, **settings):
    httpx.post(f"{sandbox.url}/_sandbox/faults", json=settings).raise_for_status()


def ledger(sandbox) -> dict:
    return httpx.get(f"{sandbox.url}/_sandbox/ledger").json()


def mark_page(page):
    """A flag a full page load would wipe out: proof that htmx swapped the progress in place."""
    page.evaluate("window.__still_this_page = true")


def assert_same_page(page):
    assert page.evaluate("window.__still_this_page === true"), "expected an htmx swap, got a page load"


def outcome(area, label):
    """The count shown next to an outcome (or a Min lön reason) in the summary."""
    return area.get_by_role("term").get_by_text(label, exact=True).locator("xpath=following-sibling::dd[1]")


def open_step_page(page, words, month_name=None):
    """From the runs list to a run's "Send and Post to Voucher" step (the newest run unless a month is named)."""
    page.get_by_role("navigation").get_by_role("link", name=words["runs"]).click()
    page.get_by_role("link", name=month_name or re.compile(r"\d{4}")).first.click()
    page.get_by_role("link", name=f"2. {words['send_and_post']}").click()
    page.wait_for_url(re.compile(r"/runs/\d+/send-and-post$"))
    return page.locator("#send_payslips")


def approve_from_more_solutions(page, words):
    page.get_by_role("link", name=words["more"]).click()
    page.get_by_role("article", name="Kivra").get_by_role("button", name=words["activate_approve"]).click()
    expect(page.get_by_role("heading", level=1, name=words["status"])).to_be_visible()


def create_calculated_run(page, words, payout: date):
    """A new run through the runs page, calculated: the step page opens."""
    page.get_by_role("navigation").get_by_role("link", name=words["runs"]).click()
    page.get_by_label(words["month"]).fill(payout.strftime("%Y-%m"))
    page.get_by_label(words["payout"]).fill(payout.isoformat())
    page.get_by_role("button", name=words["create_run"]).click()
    page.wait_for_url(re.compile(r"/runs/\d+$"))
    page.get_by_role("button", name=words["calculate"]).click()
    page.wait_for_url(re.compile(r"/send-and-post$"))
    return page.locator("#send_payslips")


def months_from_today(months: int) -> date:
    """The 25th of a month `months` away from today's: entirely in the future (or the past), whatever today is."""
    today = date.today()
    index = today.year * 12 + today.month - 1 + months
    return date(index // 12, index % 12 + 1, 25)


def test_admin_approves_kivra_and_watches_the_send_end_in_a_summary(signed_in, sandbox, say, lang):
    page = signed_in
    faults(sandbox, latency_ms=150)  # slow enough to see the send under way
    send_area = open_step_page(page, say)
    send_area.get_by_role("button", name=say["send"]).click()
    page.get_by_role("dialog", name=say["activate_prompt"]).get_by_role("link", name=say["activate"]).click()
    page.get_by_role("region", name=say["agreement"]).get_by_role("button", name=say["approve"]).click()

    # No second click: the step page shows the send under way, and htmx polls it until it is done.
    expect(send_area.get_by_role("status").filter(has_text=say["sending"])).to_be_visible(timeout=10_000)
    expect(send_area.get_by_role("heading", name=say["summary"])).to_have_count(0)
    mark_page(page)
    page.screenshot(path=f"{SCREENSHOTS}/dispatch-in-progress-{lang}.png", full_page=True)

    expect(send_area.get_by_role("heading", name=say["summary"])).to_be_visible(timeout=30_000)
    assert_same_page(page)
    expect(send_area.get_by_text(say["all_sent"], exact=True)).to_be_visible()
    expect(outcome(send_area, say["delivered"])).to_have_text("20")
    expect(outcome(send_area, say["published"])).to_have_text("5")
    expect(outcome(send_area, say["not_user"])).to_have_text("4")
    expect(outcome(send_area, say["id_not_accepted"])).to_have_text("1")
    expect(send_area.get_by_role("button", name=say["resend"])).to_have_count(0)
    page.screenshot(path=f"{SCREENSHOTS}/dispatch-summary-{lang}.png", full_page=True)
    assert set(ledger(sandbox)["deliveries_per_recipient"].values()) == {1}

    # The run list says where the payslips went, not only "Calculated".
    page.get_by_role("navigation").get_by_role("link", name=say["runs"]).click()
    expect(page.get_by_role("row").filter(has_text=say["listed_sent"])).to_have_count(1)
    page.screenshot(path=f"{SCREENSHOTS}/run-list-sent-{lang}.png", full_page=True)


def test_schedule_a_send_on_the_payout_date_then_cancel_it(signed_in, sandbox, say, lang):
    page = signed_in
    approve_from_more_solutions(page, say)
    payout = months_from_today(2)
    send_area = create_calculated_run(page, say, payout)
    send_area.get_by_role("radio", name=say["on_payout_date"]).check()
    send_area.get_by_label(say["time"], exact=True).fill("08:00")
    mark_page(page)
    send_area.get_by_role("button", name=say["send"]).click()

    expect(send_area).to_contain_text(f"{say['scheduled']} {payout.isoformat()} 08:00.")
    cancel = send_area.get_by_role("button", name=say["cancel"])
    expect(cancel).to_be_visible()
    expect(send_area.get_by_role("button", name=say["send"])).to_have_count(0)
    assert_same_page(page)
    page.screenshot(path=f"{SCREENSHOTS}/dispatch-scheduled-{lang}.png", full_page=True)
    page.get_by_role("navigation").get_by_role("link", name=say["runs"]).click()
    expect(page.get_by_role("row").filter(has_text=say["listed_scheduled"])).to_have_count(1)
    page.screenshot(path=f"{SCREENSHOTS}/run-list-scheduled-{lang}.png", full_page=True)
    page.go_back()
    mark_page(page)

    page.once("dialog", lambda dialog: dialog.accept())  # "Cancel the scheduled send?"
    cancel.click()
    expect(send_area).to_contain_text(say["cancelled"])
    expect(send_area).to_contain_text(say["ready"])
    expect(send_area.get_by_role("button", name=say["send"])).to_be_enabled()
    assert_same_page(page)
    page.screenshot(path=f"{SCREENSHOTS}/dispatch-schedule-cancelled-{lang}.png", full_page=True)
    page.reload()
    expect(page.locator("#send_payslips").get_by_role("button", name=say["send"])).to_be_visible()
    assert ledger(sandbox)["contents"] == []


def test_a_time_that_has_passed_is_refused_with_a_clear_message(signed_in, say, lang):
    page = signed_in
    payout = months_from_today(-1)  # a late run: its payout date is behind us
    send_area = create_calculated_run(page, say, payout)
    send_area.get_by_role("radio", name=say["on_payout_date"]).check()
    send_area.get_by_label(say["time"], exact=True).fill("08:00")
    send_area.get_by_role("button", name=say["send"]).click()

    expect(send_area.get_by_text(say["passed"])).to_be_visible()
    expect(send_area.get_by_role("button", name=say["send"])).to_be_enabled()  # choose again
    expect(page.get_by_role("dialog", name=say["activate_prompt"])).to_have_count(0)
    page.screenshot(path=f"{SCREENSHOTS}/dispatch-time-passed-{lang}.png", full_page=True)


@pytest.fixture
def failing_fast(live_app):
    """One attempt per payslip, no waiting between tries: set before the app makes its Kivra client."""
    live_app[0].config.update(DISPATCH_MAX_ATTEMPTS=1, KIVRA_MAX_ATTEMPTS=1, DISPATCH_RETRY_SECONDS=0.0,
                              DISPATCH_RETRY_CAP_SECONDS=0.0)


def test_payslips_that_failed_are_sent_again(failing_fast, signed_in, sandbox, say, lang):
    page = signed_in
    approve_from_more_solutions(page, say)
    faults(sandbox, error_rate=1.0)  # Kivra answers every call with a server error
    send_area = open_step_page(page, say)
    send_area.get_by_role("button", name=say["send"]).click()

    expect(send_area.get_by_role("heading", name=say["summary"])).to_be_visible(timeout=30_000)
    expect(send_area.get_by_text(say["all_failed"], exact=True)).to_be_visible()
    expect(outcome(send_area, say["failed"])).to_have_text("25")
    resend = send_area.get_by_role("button", name=say["resend"])
    expect(resend).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/dispatch-failed-{lang}.png", full_page=True)

    faults(sandbox)  # Kivra is back
    mark_page(page)
    resend.click()
    expect(send_area).to_contain_text(say["resending"])
    expect(send_area.get_by_text(say["all_sent"], exact=True)).to_be_visible(timeout=30_000)
    assert_same_page(page)
    expect(outcome(send_area, say["delivered"])).to_have_text("20")
    expect(outcome(send_area, say["published"])).to_have_text("5")
    expect(send_area.get_by_role("button", name=say["resend"])).to_have_count(0)
    page.screenshot(path=f"{SCREENSHOTS}/dispatch-resent-{lang}.png", full_page=True)
    deliveries = ledger(sandbox)["deliveries_per_recipient"]
    assert len(deliveries) == 20 and set(deliveries.values()) == {1}


def test_failed_payslips_whose_stored_content_was_dropped_stay_failed_and_the_page_says_why(
        failing_fast, live_app, signed_in, sandbox, say, lang):
    page = signed_in
    approve_from_more_solutions(page, say)
    faults(sandbox, error_rate=1.0)
    send_area = open_step_page(page, say)
    send_area.get_by_role("button", name=say["send"]).click()
    expect(send_area.get_by_text(say["all_failed"], exact=True)).to_be_visible(timeout=30_000)
    with live_app[0].app_context():
        # Kivra failed them before any payload was built; as if one had been sent and later dropped (what `flask
        # dispatch prune` does after DISPATCH_FAILED_PAYLOAD_DAYS): a checksum and no bytes.
        db.session.execute(update(Dispatch).where(Dispatch.state == "failed").values(payload_sha256="0" * 64))
        db.session.commit()
        db.session.remove()

    faults(sandbox)
    send_area.get_by_role("button", name=say["resend"]).click()
    expect(send_area).to_contain_text(say["past_resend"])
    expect(outcome(send_area, say["failed"])).to_have_text("25")
    page.screenshot(path=f"{SCREENSHOTS}/dispatch-past-resend-{lang}.png", full_page=True)
    assert ledger(sandbox)["contents"] == []
