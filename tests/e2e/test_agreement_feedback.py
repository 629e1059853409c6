"""The agreement says what happened, in a real browser in Swedish and English (issue 18.2, 18.8, 18.9, 18.10): the terms
scroll with the keyboard, a scope change says the new scope, an empty scope is refused beside the boxes, the run says
when and by whom Kivra was ended, re-activation from a run already sent offers the scope before and says approving
changes nothing for that run, and a new run proposes a month without one."""
import re

from playwright.sync_api import expect

from kivra import status
from tests.e2e.test_kivra_flows import SCREENSHOTS, open_step_page

SAY = {
    "sv": {"read": "Läs avtalet", "terms": "Avtalstext", "change": "Ändra omfattning",
           "both": "Avtalet omfattar nu lönebesked och fakturor.",
           "choose": "Välj vad Kivra får användas till: lönebesked, fakturor eller båda.",
           "ended": re.compile(r"Kivra avslutades \d{1,2} [a-zåäö]+\.? \d{4} av Anna Admin\."),
           "again": "Aktivera Kivra igen", "already_sent": "redan skickade, så ett godkännande ändrar inget",
           "back": re.compile(r"^Tillbaka till lönekörningen för "), "approved": "Avtalet med Kivra är godkänt.",
           "use_for": "Använd Kivra för"},
    "en": {"read": "Read the agreement", "terms": "Agreement text", "change": "Change scope",
           "both": "The agreement now covers payslips and invoices.",
           "choose": "Choose what Kivra may be used for: payslips, invoices or both.",
           "ended": re.compile(r"Kivra was discontinued on \d{1,2} [A-Z][a-z]+ \d{4} by Anna Admin\."),
           "again": "Activate Kivra again", "already_sent": "already been sent, so approving changes nothing",
           "back": re.compile(r"^Back to the payroll run for "), "approved": "The Kivra agreement is approved.",
           "use_for": "Use Kivra for"},
}


def approve_on_the_card(page, words):
    page.get_by_role("link", name=words["more"]).first.click()
    page.get_by_role("article", name="Kivra").get_by_role("button", name=words["activate_approve"]).click()
    expect(page.get_by_role("heading", level=1, name=words["status"])).to_be_visible()


def test_the_terms_scroll_and_a_scope_change_says_the_new_scope(signed_in, words, lang):
    page, say = signed_in, SAY[lang]
    approve_on_the_card(page, words)
    page.get_by_role("link", name=say["read"]).click()
    agreement = page.get_by_role("region", name=words["agreement"])
    terms = agreement.get_by_role("region", name=say["terms"])
    terms.focus()  # reachable and scrollable with the keyboard alone
    page.keyboard.press("PageDown")
    page.wait_for_function("el => el.scrollTop > 0", arg=terms.element_handle())

    agreement.get_by_role("checkbox", name=words["invoices"]).check()
    agreement.get_by_role("button", name=say["change"]).click()
    expect(page.get_by_text(say["both"])).to_be_visible()
    expect(page.get_by_text(say["approved"])).to_have_count(0)
    page.screenshot(path=f"{SCREENSHOTS}/agreement-scope-changed-{lang}.png", full_page=True)

    page.get_by_role("link", name=say["read"]).click()
    agreement = page.get_by_role("region", name=words["agreement"])
    agreement.get_by_role("checkbox", name=words["payslips"]).uncheck()
    agreement.get_by_role("checkbox", name=words["invoices"]).uncheck()
    agreement.get_by_role("button", name=say["change"]).click()
    group = agreement.get_by_role("group", name=say["use_for"])
    expect(group.get_by_role("alert")).to_have_text(say["choose"])  # beside the boxes, not at the top of the page
    expect(group.get_by_role("checkbox", name=words["payslips"])).not_to_be_checked()  # as they were sent
    expect(group.get_by_role("checkbox", name=words["invoices"])).not_to_be_checked()
    page.screenshot(path=f"{SCREENSHOTS}/agreement-empty-scope-{lang}.png", full_page=True)


def test_after_discontinuing_the_run_says_who_ended_kivra_and_the_agreement_from_it_says_it_changes_nothing(
        signed_in, words, lang, live_url):
    page, say = signed_in, SAY[lang]
    approve_on_the_card(page, words)
    page.get_by_role("navigation").get_by_role("link", name=words["runs"]).click()
    send_area = open_step_page(page, words)
    send_area.get_by_role("button", name=words["send"]).click()
    expect(send_area).to_contain_text(words["all_sent"], timeout=30_000)
    step_url = page.url

    page.get_by_role("link", name=words["more"]).first.click()
    page.get_by_role("article", name="Kivra").get_by_role("link", name=words["status_link"]).click()
    page.get_by_role("link", name=words["discontinue"]).click()
    page.get_by_role("button", name=words["discontinue_yes"]).click()
    expect(page.get_by_text(words["discontinued"])).to_be_visible()

    page.goto(step_url)
    kivra = page.locator("#kivra_entry")
    expect(kivra.get_by_text(say["ended"])).to_be_visible()  # not "not approved"
    page.screenshot(path=f"{SCREENSHOTS}/run-after-discontinue-{lang}.png", full_page=True)

    kivra.get_by_role("link", name=words["status_link"]).click()
    page.get_by_role("link", name=say["again"]).click()
    agreement = page.get_by_role("region", name=words["agreement"])
    expect(agreement.get_by_role("checkbox", name=words["payslips"])).to_be_checked()  # the scope before
    expect(agreement.get_by_role("checkbox", name=words["invoices"])).not_to_be_checked()
    expect(agreement).to_contain_text(say["already_sent"])
    expect(agreement.get_by_role("button", name=words["not_now"])).to_have_count(0)
    page.screenshot(path=f"{SCREENSHOTS}/agreement-from-sent-run-{lang}.png", full_page=True)
    agreement.get_by_role("link", name=say["back"]).click()
    expect(page).to_have_url(step_url)


def test_a_new_run_proposes_the_first_month_without_one(signed_in, words):
    page = signed_in
    page.get_by_role("navigation").get_by_role("link", name=words["runs"]).click()
    following = status.add_months(status.this_month(), 1)  # Demo AB has this month's run
    expect(page.get_by_label(words["month"])).to_have_value(f"{following:%Y-%m}")


def test_dates_are_written_as_in_sweden_and_the_tab_has_an_icon(signed_in, words, lang):
    page = signed_in
    open_step_page(page, words)
    # 25 december 2026 / 25 December 2026 (the British order used in Sweden's English), never "December 25, 2026".
    payout = {"sv": r"Utbetalningsdag: \d{1,2} [a-zåäö]+ \d{4}", "en": r"Payout date: \d{1,2} [A-Z][a-z]+ \d{4}"}[lang]
    expect(page.get_by_text(re.compile(payout))).to_be_visible()
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    answer = page.request.get(page.url.split("/runs/")[0] + icon)
    assert answer.ok and answer.headers["content-type"].startswith("image/svg+xml")
