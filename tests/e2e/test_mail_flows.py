"""E-mail that leaves, in a real browser and a real SMTP server, in Swedish and in English: the invitation read in the
dev mailbox, "Du har ett nytt lönebesked" followed to the payslip and turned off, a company user's forgotten password,
and the e-mail list in the employee register with a failure sent again."""
import io
import re
import time

from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import func, select

from kivra.extensions import db
from kivra.mail.models import MailState, OutboundEmail
from tests.e2e.test_dispatch_flows import create_calculated_run, months_from_today, open_step_page
from tests.e2e.test_portal import PORTAL

SCREENSHOTS = "test-artifacts"
PASSWORD = "mina-lönebesked-1"
NEW_PASSWORD = "ett-nytt-lösenord-9"
MAIL = {
    "sv": {
        "invited": "Inbjudan till Min lön för astrid@demo.se ligger i kö",
        "invitation": "Din inbjudan till Min lön / Your invitation to Min lön",
        "notice": "Du har ett nytt lönebesked",
        "settings": "Inställningar", "notify": "Mejla mig när jag har ett nytt lönebesked",
        "notify_off": "Sparat: du får inga mejl om nya lönebesked. De finns här ändå.",
        "forgot": "Glömt lösenordet?", "send_link": "Skicka länk", "reset_subject": "Återställ ditt lösenord",
        "choose": "Välj ett nytt lösenord", "reset_done": "Ditt nya lösenord är sparat och du är inloggad.",
        "mail_to": "E-post till {}", "invitation_kind": "Inbjudan", "sent": "Skickad", "failed": "Misslyckades",
        "queued": "Köat", "send_again": "Skicka igen", "send_again_name": "Skicka igen {}",
        "bjorn_invited": "Inbjudan till Min lön för bjorn@demo.se ligger i kö",
    },
    "en": {
        "invited": "The invitation to Min lön for astrid@demo.se is queued",
        "invitation": "Din inbjudan till Min lön / Your invitation to Min lön", "notice": "You have a new payslip",
        "settings": "Settings", "notify": "E-mail me when I have a new payslip",
        "notify_off": "Saved: you get no e-mail about new payslips. They are here all the same.",
        "forgot": "Forgot your password?", "send_link": "Send link", "reset_subject": "Reset your password",
        "choose": "Choose a new password", "reset_done": "Your new password is saved, and you are logged in.",
        "mail_to": "E-mail to {}", "invitation_kind": "Invitation", "sent": "Sent", "failed": "Failed",
        "queued": "Queued", "send_again": "Send again", "send_again_name": "Send again {}",
        "bjorn_invited": "The invitation to Min lön for bjorn@demo.se is queued",
    },
}


def wait_for_mail(mailbox, to: str, count: int, timeout: float = 20) -> list:
    """What arrived for `to` once there are `count` messages."""
    deadline = time.monotonic() + timeout
    while len(found := mailbox.messages(to=to)) < count:
        assert time.monotonic() < deadline, f"expected {count} e-mail(s) to {to}, got {[m.subject for m in found]}"
        time.sleep(0.1)
    return found


def wait_for_idle_outbox(app, timeout: float = 20) -> None:
    """Nothing queued or being sent: what is in the mailbox now is all that will arrive."""
    deadline = time.monotonic() + timeout
    with app.app_context():
        while db.session.scalar(select(func.count(OutboundEmail.id))
                                .where(OutboundEmail.state.in_([MailState.QUEUED, MailState.SENDING]))):
            assert time.monotonic() < deadline, "the outbox was not sent"
            time.sleep(0.1)
            db.session.rollback()
        db.session.remove()


def open_mail(page, mailbox, subject: str) -> None:
    """The dev mailbox in the browser, and the newest e-mail with this subject opened."""
    page.goto(mailbox.web_url)
    page.get_by_role("link", name=subject, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)


def reload_until(page, locator, timeout: float = 20) -> None:
    """Reload the page until `locator` is on it (the register does not poll)."""
    deadline = time.monotonic() + timeout
    while not locator.count():
        assert time.monotonic() < deadline, f"not on the page after {timeout} s: {locator}"
        time.sleep(0.2)
        page.reload()


def test_invited_employee_reads_the_notice_opens_the_payslip_and_turns_notices_off(
        signed_in, browser, live_app, mailbox, words, lang):
    app, live_url = live_app
    text, say = PORTAL[lang], MAIL[lang]
    admin = signed_in
    admin.get_by_role("link", name=words["employees"], exact=True).click()
    admin.get_by_role("button", name=text["invite"]).click()
    expect(admin.get_by_text(say["invited"])).to_be_visible()

    # The invitation arrives in the dev mailbox; the employee reads it there and follows its link.
    wait_for_mail(mailbox, "astrid@demo.se", 1)
    employee = browser.new_context(locale="sv-SE").new_page()
    open_mail(employee, mailbox, say["invitation"])
    employee.get_by_role("link", name=re.compile(r"\/min-lon\/invitation\/")).first.click()
    expect(employee).to_have_url(re.compile(rf"^{re.escape(live_url)}/min-lon/invitation/"))
    if lang == "en":
        employee.get_by_role("button", name="English").click()
    employee.get_by_label(text["new"]).fill(PASSWORD)
    employee.get_by_label(text["repeat"]).fill(PASSWORD)
    employee.get_by_role("button", name=text["save"]).click()
    expect(employee).to_have_url(f"{live_url}/min-lon/")
    expect(employee.get_by_text(text["welcome"])).to_be_visible()

    # The admin sends the run; without Kivra it is published in Min lön, and the notice goes out.
    send_area = open_step_page(admin, words)
    send_area.get_by_role("button", name=words["send"]).click()
    admin.get_by_role("dialog", name=words["activate_prompt"]).get_by_role("button", name=words["not_now"]).click()
    expect(send_area).to_contain_text(words["queued_min_lon"], timeout=20_000)
    expect(send_area).to_contain_text(words["all_sent"], timeout=20_000)

    invitation, notice = wait_for_mail(mailbox, "astrid@demo.se", 2)
    assert notice.subject == say["notice"]  # in the language Astrid last used in Min lön
    assert notice.links == [f"{live_url}/min-lon/"]
    assert "Astrid Lindqvist" in notice.body and "Demo AB" in notice.body
    assert not re.search(r"\d{6}|\bkr\b|SEK", notice.body)  # no personnummer, no amount
    assert notice.headers["Content-Type"].startswith("text/plain")  # no attachment

    # Another day, another browser: from the notice to Min lön's login, then the payslip.
    later = browser.new_context(locale="sv-SE").new_page()
    open_mail(later, mailbox, say["notice"])
    later.screenshot(path=f"{SCREENSHOTS}/mailbox-notice-{lang}.png", full_page=True)
    later.get_by_role("link", name=f"{live_url}/min-lon/").click()
    expect(later).to_have_url(re.compile(r"/min-lon/login"))
    if lang == "en":  # a new browser: Min lön does not know the language yet
        later.get_by_role("button", name="English").click()
    expect(later.get_by_role("heading", level=1)).to_have_text(text["login_title"])
    later.get_by_label(words["email"]).fill("astrid@demo.se")
    later.get_by_label(words["password"]).fill(PASSWORD)
    later.get_by_role("button", name=text["login"], exact=True).click()
    expect(later).to_have_url(f"{live_url}/min-lon/")
    items = later.get_by_role("listitem")
    expect(items).to_have_count(1)
    expect(items.nth(0)).to_contain_text(text["minlon"])
    href = items.nth(0).get_by_role("link", name=text["pdf"]).get_attribute("href")
    response = later.request.get(f"{live_url}{href}")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "Astrid Lindqvist" in PdfReader(io.BytesIO(response.body())).pages[0].extract_text()

    # Notices off in Settings: the next send is published without one.
    later.get_by_role("navigation").get_by_role("link", name=say["settings"]).click()
    notify = later.get_by_role("checkbox", name=say["notify"])
    expect(notify).to_be_checked()
    notify.uncheck()
    later.get_by_role("button", name=words["save"]).click()
    expect(later.get_by_text(say["notify_off"])).to_be_visible()
    later.screenshot(path=f"{SCREENSHOTS}/min-lon-settings-{lang}.png", full_page=True)
    later.reload()
    expect(later.get_by_role("checkbox", name=say["notify"])).not_to_be_checked()

    send_area = create_calculated_run(admin, words, months_from_today(-1))
    send_area.get_by_role("button", name=words["send"]).click()
    expect(send_area).to_contain_text(words["all_sent"], timeout=20_000)
    wait_for_idle_outbox(app)
    assert [m.subject for m in mailbox.messages()] == [invitation.subject, say["notice"]]  # one per send, then none
    later.get_by_role("navigation").get_by_role("link", name=words["payslips"]).click()
    expect(later.get_by_role("listitem")).to_have_count(2)  # published all the same
    employee.context.close()
    later.context.close()


def test_company_user_resets_a_forgotten_password(signed_in_payroll, browser, live_app, mailbox, words, lang):
    app, live_url = live_app
    text, say = PORTAL[lang], MAIL[lang]
    earlier = signed_in_payroll  # a session from before the reset, in another browser
    page = browser.new_context(locale="sv-SE").new_page()
    page.goto(f"{live_url}/login")
    if lang == "en":
        page.get_by_role("button", name="English").click()
    page.get_by_role("link", name=say["forgot"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say["forgot"])
    page.screenshot(path=f"{SCREENSHOTS}/forgot-password-{lang}.png", full_page=True)

    answers = []
    for address in ("nobody@demo.se", "lon@demo.se"):  # an unknown address, then the user's
        page.goto(f"{live_url}/forgot-password")
        page.get_by_label(words["email"]).fill(address)
        page.get_by_role("button", name=say["send_link"]).click()
        answer = page.locator("#forgot_form")
        expect(answer.get_by_role("status")).to_contain_text(address)
        answers.append(answer.inner_text().replace(address, "…"))
    assert answers[0] == answers[1]
    page.screenshot(path=f"{SCREENSHOTS}/forgot-password-sent-{lang}.png", full_page=True)

    (reset,) = wait_for_mail(mailbox, "lon@demo.se", 1)
    wait_for_idle_outbox(app)
    assert mailbox.messages(to="nobody@demo.se") == []
    assert reset.subject == say["reset_subject"]  # in the language the user last signed in with
    open_mail(page, mailbox, say["reset_subject"])
    page.get_by_role("link", name=re.compile(r"\/reset-password\/")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say["choose"])
    page.screenshot(path=f"{SCREENSHOTS}/reset-password-{lang}.png", full_page=True)
    page.get_by_label(text["new"]).fill(NEW_PASSWORD)
    page.get_by_label(text["repeat"]).fill(NEW_PASSWORD)
    page.get_by_role("button", name=text["save"]).click()
    expect(page).to_have_url(f"{live_url}/runs")
    expect(page.get_by_text(say["reset_done"])).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["runs"])

    # The session from before the reset has ended; the old password no longer works, the new one does.
    earlier.reload()
    expect(earlier).to_have_url(re.compile(r"/login"))
    earlier.get_by_label(words["email"]).fill("lon@demo.se")
    earlier.get_by_label(words["password"]).fill("demo-lon")
    earlier.get_by_role("button", name=words["login"]).click()
    expect(earlier.get_by_text(words["wrong_password"])).to_be_visible()
    earlier.get_by_label(words["password"]).fill(NEW_PASSWORD)
    earlier.get_by_role("button", name=words["login"]).click()
    expect(earlier).to_have_url(f"{live_url}/runs")
    page.context.close()


def test_register_lists_the_emails_and_sends_a_failed_one_again(signed_in, live_app, mailbox, worker_held, words,
                                                                 lang):
    text, say = PORTAL[lang], MAIL[lang]
    page = signed_in
    mailbox.fail_next("550 5.1.1 No such mailbox", stage="rcpt", to="bjorn@demo.se")
    page.get_by_role("link", name=words["employees"], exact=True).click()
    page.get_by_role("button", name=text["invite"]).click()
    expect(page.get_by_text(say["invited"])).to_be_visible()
    page.get_by_role("button", name=text["invite"].replace("Astrid Lindqvist", "Björn Åkesson")).click()
    expect(page.get_by_text(say["bjorn_invited"])).to_be_visible()

    astrid = page.get_by_role("list", name=say["mail_to"].format("Astrid Lindqvist"))
    bjorn = page.get_by_role("list", name=say["mail_to"].format("Björn Åkesson"))
    reload_until(page, bjorn.get_by_text(say["failed"], exact=True))
    expect(astrid.get_by_role("listitem")).to_have_count(1)
    expect(astrid).to_contain_text(say["invitation_kind"])
    expect(astrid).to_contain_text(say["sent"])
    failed = bjorn.get_by_role("listitem")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text(say["invitation_kind"])
    expect(failed).to_contain_text("550 5.1.1 No such mailbox")
    again = failed.get_by_role("button", name=say["send_again_name"].format("Björn Åkesson"))
    expect(again).to_contain_text(say["send_again"])  # and the name, hidden, for a screen reader
    bjorn.scroll_into_view_if_needed()
    page.screenshot(path=f"{SCREENSHOTS}/register-emails-{lang}.png", full_page=True)
    assert mailbox.messages(to="bjorn@demo.se") == []

    worker_held.set()  # to see it queued before the worker sends it
    again.click()
    expect(page.get_by_text(say["bjorn_invited"])).to_be_visible()
    expect(bjorn.get_by_role("listitem").nth(0)).to_contain_text(say["queued"])
    page.screenshot(path=f"{SCREENSHOTS}/register-email-queued-again-{lang}.png", full_page=True)
    worker_held.clear()
    reload_until(page, bjorn.get_by_role("listitem").nth(0).get_by_text(say["sent"]))
    expect(bjorn.get_by_role("listitem")).to_have_count(2)  # the new one sent, the failed one kept below it
    expect(bjorn.get_by_role("button", name=say["send_again_name"].format("Björn Åkesson"))).to_have_count(0)
    (arrived,) = wait_for_mail(mailbox, "bjorn@demo.se", 1)
    assert arrived.subject == say["invitation"]
    assert any("/min-lon/invitation/" in link for link in arrived.links)
