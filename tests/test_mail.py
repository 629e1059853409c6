"""E-mail that leaves, against a real SMTP server (kivra.mailbox, aiosmtpd on a free loopback port): the invitation
arrives with a link from PUBLIC_URL that works, a 421 is tried again and goes once, a 550 fails with its text and
*Skicka igen*, "Du har ett nytt lönebesked" once per send, and MAIL_DISABLED said honestly. The test plays the worker
by calling kivra.mail.delivery.drain."""
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from kivra.clock import now as utcnow
from kivra.dispatch import engine, notices, resends, tasks
from kivra.dispatch.models import Dispatch, PayslipSend
from kivra.employees.portal_account import PortalAccount
from kivra.extensions import db
from kivra.mail import delivery
from kivra.mail.outbox import queue as queue_mail
from kivra.mail.models import MailKind, MailState, OutboundEmail
from kivra.mailbox import start_in_thread as start_mailbox
from kivra.payroll import service
from kivra.payroll.models import PayslipLine
from tests.conftest import Client, make_company, make_employee, make_user, text
from tests.test_portal import Employee, calculated_run, send_to_min_lon

PUBLIC = "https://lon.example.se"
LINK = re.compile(re.escape(PUBLIC) + r"(/min-lon/invitation/[\w.-]+)")
PERSONNUMMER = re.compile(r"(19)?121212\D?1212")  # Astrid's, in any form
WORDS = {
    "sv": {"queued_flash": "ligger i kö", "queued": "Köat", "sent": "Skickad", "retrying": "I kö, nytt försök",
           "failed": "Misslyckades", "send_again": "Skicka igen", "notice": "Du har ett nytt lönebesked",
           "notice_kind": "Nytt lönebesked", "again": "ligger i kö igen", "disabled": "E-post är avstängd",
           "off": "Sparat: du får inga mejl om nya lönebesked.", "on_label": "Mejla mig när jag har ett nytt lönebesked",
           "nothing": "inget att skicka igen", "hello": "Hej Astrid Lindqvist"},
    "en": {"queued_flash": "is queued", "queued": "Queued", "sent": "Sent", "retrying": "Queued, trying again",
           "failed": "Failed", "send_again": "Send again", "notice": "You have a new payslip",
           "notice_kind": "New payslip notice", "again": "is queued again", "disabled": "E-mail is turned off",
           "off": "Saved: you get no e-mail about new payslips.", "on_label": "E-mail me when I have a new payslip",
           "nothing": "nothing to send again", "hello": "Hello Astrid Lindqvist"},
}


@pytest.fixture
def words(lang):
    return WORDS[lang]


@pytest.fixture
def mailbox(app):
    """A real SMTP server for this test; the app sends through it and writes its links on PUBLIC."""
    with start_mailbox() as mailbox:
        app.config.update(SMTP_URL=mailbox.smtp_url, PUBLIC_URL=PUBLIC, MAIL_RETRY_SECONDS=0.05,
                          MAIL_RETRY_CAP_SECONDS=0.2)
        yield mailbox


@pytest.fixture
def astrid(company):
    return make_employee(company)


@pytest.fixture
def bjorn(company):
    return make_employee(company, name="Björn Åkesson", personnummer="198112172385", email="bjorn@example.se")


def deliver(app) -> int:
    """One round of the worker, in its own app context (and database session)."""
    with app.app_context():
        return delivery.drain()


def outbox(kind: MailKind | None = None) -> list[OutboundEmail]:
    db.session.expire_all()
    query = select(OutboundEmail).order_by(OutboundEmail.id)
    return db.session.scalars(query if kind is None else query.where(OutboundEmail.kind == kind)).all()


def invite(as_user, employee, **kwargs) -> str:
    """Invite from the register; the link's path as the queued e-mail carries it."""
    response = as_user.post(f"/employees/{employee.id}/min-lon-invitation", **kwargs)
    assert response.status_code in (204, 303), response.status_code
    return LINK.search(outbox(MailKind.INVITATION)[-1].body).group(1)


def mail_row(page, name: str) -> str:
    """What the register lists of the e-mails to one employee, as text."""
    found = re.search(r'<ul class="mail-list" aria-label="[^"]*%s">(.*?)</ul>' % re.escape(name),
                      page.get_data(as_text=True), re.S)
    assert found, f"no e-mail listed for {name}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def min_lon_user(app, as_admin, employee, lang):
    """An employee with a Min lön password, who came in another language and switched to `lang` signed in."""
    other = "en" if lang == "sv" else "sv"
    browser = Employee(app.test_client(), other)
    assert browser.accept(invite(as_admin, employee)).status_code == 303
    assert browser.post("/language", {"locale": lang, "next": "/min-lon/"}).status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(PortalAccount.locale).where(PortalAccount.employee_id == employee.id)) == lang
    return browser


def settle(app, mailbox):
    """The setup's e-mails (invitations) sent and out of the way."""
    deliver(app)
    mailbox.clear()


# --- the invitation -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
def test_the_invitation_arrives_with_a_link_from_public_url_that_works(app, mailbox, as_admin, astrid, words, lang,
                                                                       htmx):
    # The admin's browser reaches the app under a Host someone chose: the link must not follow it.
    cookie = as_admin.raw.get_cookie("session")
    as_admin.raw.set_cookie("session", cookie.value, domain="evil.example")
    evil = {"base_url": "http://evil.example"}
    response = as_admin.post(f"/employees/{astrid.id}/min-lon-invitation", htmx=htmx, **evil)
    if htmx:
        assert response.status_code == 204 and response.headers["HX-Redirect"] == "/employees"
    else:
        assert response.status_code == 303 and response.location == "/employees"
    page = as_admin.get("/employees", **evil)
    assert words["queued_flash"] in text(page)
    assert mail_row(page, astrid.name).endswith(words["queued"]) and words["sent"] not in mail_row(page, astrid.name)
    assert mailbox.messages() == []  # queued is queued: nothing has left yet

    assert deliver(app) == 1
    [message] = mailbox.messages()
    assert message.to == ("astrid@example.se",) and "Min lön" in message.subject
    assert message.links and all(link.startswith(PUBLIC + "/min-lon/") for link in message.links)
    assert "evil.example" not in message.body + repr(message.headers)
    assert not PERSONNUMMER.search(message.subject + message.body + repr(message.headers))
    [email] = outbox()
    assert (email.state, email.attempts, email.last_error) == (MailState.SENT, 1, None)
    assert message.message_id == f"<outbox-{email.id}@lon.example.se>"

    employee = Employee(app.test_client(), lang)
    assert employee.accept(urlsplit(LINK.search(message.body).group(0)).path).status_code == 303
    assert employee.get("/min-lon/").status_code == 200
    assert mail_row(as_admin.get("/employees"), astrid.name).startswith(
        {"sv": "Inbjudan Skickad", "en": "Invitation Sent"}[lang])


def test_a_421_is_tried_again_later_and_the_message_goes_once(app, mailbox, as_admin, astrid, words, monkeypatch):
    app.config["MAIL_RETRY_SECONDS"] = 60  # the next try is 30-60 s away: not in the next round
    mailbox.fail_next("421 4.3.2 Try again later")
    invite(as_admin, astrid)
    assert deliver(app) == 0
    [email] = outbox()
    assert (email.state, email.attempts, email.last_error) == (MailState.QUEUED, 1, "421 4.3.2 Try again later")
    row = mail_row(as_admin.get("/employees"), astrid.name)
    assert words["retrying"] in row and "421 4.3.2 Try again later" in row
    assert deliver(app) == 0 and mailbox.messages() == []  # not due yet

    later = utcnow() + timedelta(minutes=2)
    monkeypatch.setattr(delivery, "utcnow", lambda: later)
    assert deliver(app) == 1
    assert deliver(app) == 0
    assert len(mailbox.messages(to=astrid.email)) == 1
    [email] = outbox()
    assert (email.state, email.attempts, email.last_error) == (MailState.SENT, 2, None)
    row = mail_row(as_admin.get("/employees"), astrid.name)
    assert words["sent"] in row and "421" not in row


def test_a_server_that_cannot_be_reached_is_tried_again(app, mailbox, as_admin, astrid, words):
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{mailbox.smtp_port}"
    mailbox.stop()  # nobody listens there any more
    invite(as_admin, astrid)
    assert deliver(app) == 0
    [email] = outbox()
    assert email.state == MailState.QUEUED and email.attempts == 1 and "not reachable" in email.last_error
    assert words["retrying"] in mail_row(as_admin.get("/employees"), astrid.name)


@pytest.mark.parametrize("htmx", [False, True])
def test_a_550_fails_with_its_text_and_send_again_makes_a_new_invitation(app, mailbox, as_admin, astrid, words, lang,
                                                                         htmx):
    mailbox.fail_next("550 5.1.1 No such mailbox here", stage="rcpt")
    old_link = invite(as_admin, astrid)
    assert deliver(app) == 0 and mailbox.messages() == []
    [failed] = outbox()
    assert (failed.state, failed.last_error) == (MailState.FAILED, "550 5.1.1 No such mailbox here")
    page = as_admin.get("/employees")
    row = mail_row(page, astrid.name)
    assert f"{words['failed']} 550 5.1.1 No such mailbox here {words['send_again']}" in row
    url = f"/employees/{astrid.id}/emails/{failed.id}/send-again"
    assert f'action="{url}"' in page.get_data(as_text=True)

    assert as_admin.post(url, csrf=False).status_code == 400
    response = as_admin.post(url, htmx=htmx)
    assert response.status_code == (204 if htmx else 303)
    assert words["queued_flash"] in text(as_admin.get("/employees"))
    failed_again, new = outbox()
    assert failed_again.state == MailState.FAILED and new.state == MailState.QUEUED and new.kind == MailKind.INVITATION
    assert deliver(app) == 1
    [message] = mailbox.messages()
    new_link = urlsplit(LINK.search(message.body).group(0)).path
    assert new_link != old_link
    employee = Employee(app.test_client(), lang)
    assert employee.raw.get(old_link).status_code == 410  # the old link stopped working
    assert employee.accept(new_link).status_code == 303


def test_send_again_is_for_the_companys_own_and_failed_e_mail(app, mailbox, company, as_admin, astrid, words, lang):
    mailbox.fail_next("550 5.1.1 No such mailbox here", stage="rcpt")
    invite(as_admin, astrid)
    deliver(app)
    [failed] = outbox()
    url = f"/employees/{astrid.id}/emails/{failed.id}/send-again"
    theirs = make_user(make_company("Annat AB", "5560360793"), "admin", email="admin@annat.se")
    assert Client(app.test_client()).login(theirs).post(url).status_code == 404
    assert as_admin.post(f"/employees/{astrid.id}/emails/{failed.id + 1}/send-again").status_code == 404
    assert len(outbox()) == 1
    # A payroll user may invite (kivra/web/employees/routes.py), so may send an invitation again.
    colleague = make_user(company, "payroll", email="lon@demo.se", locale=lang)
    assert Client(app.test_client()).login(colleague).post(url).status_code == 303
    assert [email.state for email in outbox()] == [MailState.FAILED, MailState.QUEUED]
    deliver(app)
    sent = outbox()[-1]
    response = as_admin.post(f"/employees/{astrid.id}/emails/{sent.id}/send-again")
    assert response.status_code == 303 and words["nothing"] in text(as_admin.get("/employees"))
    assert len(outbox()) == 2 and len(mailbox.messages()) == 1


# --- "Du har ett nytt lönebesked" ---------------------------------------------------------------------------------

@pytest.mark.both_databases
def test_a_payslip_in_min_lon_gets_one_notice_in_the_employees_language(app, mailbox, company, admin, as_admin, astrid,
                                                                        bjorn, words):
    browser = min_lon_user(app, as_admin, astrid, admin.locale)
    invite(as_admin, bjorn)  # invited, no password yet: no notice
    settle(app, mailbox)
    send_to_min_lon(calculated_run(company, 10), admin)
    assert deliver(app) == 1
    [message] = mailbox.messages()
    assert message.to == (astrid.email,) and message.subject == words["notice"]
    assert message.body.startswith(words["hello"]) and "Demo AB" in message.body
    assert message.links == [PUBLIC + "/min-lon/"]
    assert not re.search(r"\d", message.body)  # no amount, no personnummer, no date
    assert not PERSONNUMMER.search(message.subject + repr(message.headers))
    assert message.headers["Content-Type"].startswith("text/plain")  # no attachment
    assert browser.get(urlsplit(message.links[0]).path).status_code == 200

    # The same publish again, or the same event recorded again: nothing new.
    send = db.session.scalars(select(PayslipSend)).one()
    with app.app_context():
        assert engine.publish_due_min_lon(send.id) == 0
        published = db.session.execute(select(Dispatch.employee_id, Dispatch.version_id)).all()
        assert notices.payslips_published(send.id, [tuple(row) for row in published]) == 0
        db.session.commit()
    assert deliver(app) == 0 and len(mailbox.messages()) == 1
    assert [email.employee_id for email in outbox(MailKind.PAYSLIP_NOTICE)] == [astrid.id]


def test_a_correction_sends_a_new_notice(app, mailbox, company, admin, as_admin, astrid, words):
    min_lon_user(app, as_admin, astrid, admin.locale)
    settle(app, mailbox)
    run = calculated_run(company, 11)
    send_to_min_lon(run, admin)
    payslip = run.payslips[0]
    payslip.lines.append(PayslipLine(kind="addition", description="Bonus", amount_ore=100_000))
    db.session.commit()
    service.correct(payslip)
    assert resends.send_corrections(run) == 1
    tasks.drain()
    assert deliver(app) == 2
    assert [m.subject for m in mailbox.messages(to=astrid.email)] == [words["notice"]] * 2


def test_two_payslips_of_one_employee_in_one_send_make_one_notice(app, mailbox, company, admin, as_admin, astrid):
    min_lon_user(app, as_admin, astrid, admin.locale)
    settle(app, mailbox)
    run = calculated_run(company, 11)
    payslip = run.payslips[0]
    payslip.lines.append(PayslipLine(kind="addition", description="Bonus", amount_ore=100_000))
    db.session.commit()
    service.correct(payslip)
    send = PayslipSend(company_id=company.id, run_id=run.id, channel="minlon", state="queued", requested_by_id=admin.id)
    db.session.add(send)
    db.session.flush()
    for version in payslip.versions:
        db.session.add(Dispatch(company_id=company.id, send_id=send.id, run_id=run.id, payslip_id=payslip.id,
                                version_id=version.id, employee_id=astrid.id, channel="minlon", state="queued",
                                reason="not_now"))
    db.session.commit()
    with app.app_context():
        assert engine.publish_due_min_lon(send.id) == 2
    assert deliver(app) == 1 and len(mailbox.messages()) == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_an_employee_who_turned_notices_off_gets_none(app, mailbox, company, admin, as_admin, astrid, words, htmx):
    browser = min_lon_user(app, as_admin, astrid, admin.locale)
    settle(app, mailbox)
    page = browser.get("/min-lon/settings", htmx=htmx)
    assert page.status_code == 200 and words["on_label"] in text(page)
    assert re.search(r'<input[^>]*checked[^>]*name="notify_new_payslips"|<input[^>]*name="notify_new_payslips"'
                     r'[^>]*checked', page.get_data(as_text=True))
    assert ("<html" in page.get_data(as_text=True)) is not htmx
    assert browser.post("/min-lon/settings", {}, htmx=htmx, csrf=False).status_code == 400
    response = browser.post("/min-lon/settings", {}, htmx=htmx)
    if htmx:
        assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    else:
        assert response.status_code == 303 and response.location == "/min-lon/settings"
        response = browser.get("/min-lon/settings")
    assert words["off"] in text(response) and "checked" not in response.get_data(as_text=True)
    assert db.session.scalar(select(PortalAccount.notify_new_payslips)) is False

    send_to_min_lon(calculated_run(company, 10), admin)
    assert outbox(MailKind.PAYSLIP_NOTICE) == [] and deliver(app) == 0 and mailbox.messages() == []


def test_min_lon_settings_are_an_employees_own(app, as_admin, mailbox):
    assert Client(app.test_client()).get("/min-lon/settings").location.startswith("/min-lon/login")
    assert as_admin.get("/min-lon/settings").location.startswith("/min-lon/login")


def test_a_failed_notice_is_sent_again_as_it_was(app, mailbox, company, admin, as_admin, astrid, words):
    min_lon_user(app, as_admin, astrid, admin.locale)
    settle(app, mailbox)
    mailbox.fail_next("550 5.1.1 No such mailbox here", stage="rcpt")
    send_to_min_lon(calculated_run(company, 10), admin)
    assert deliver(app) == 0
    [notice] = outbox(MailKind.PAYSLIP_NOTICE)
    assert notice.state == MailState.FAILED
    row = mail_row(as_admin.get("/employees"), astrid.name)
    assert row.startswith(f"{words['notice_kind']} {words['failed']} 550 5.1.1 No such mailbox here")
    response = as_admin.post(f"/employees/{astrid.id}/emails/{notice.id}/send-again")
    assert response.status_code == 303 and words["again"] in text(as_admin.get("/employees"))
    [again] = outbox(MailKind.PAYSLIP_NOTICE)
    assert (again.id, again.state, again.attempts) == (notice.id, MailState.QUEUED, 0)
    assert deliver(app) == 1
    [message] = mailbox.messages()
    assert message.subject == words["notice"] and message.message_id == f"<outbox-{notice.id}@lon.example.se>"


# --- MAIL_DISABLED ------------------------------------------------------------------------------------------------

def test_with_mail_disabled_the_page_gives_the_link_and_nothing_is_queued(app, company, admin, as_admin, astrid, words,
                                                                          lang):
    app.config.update(MAIL_DISABLED=True, PUBLIC_URL=PUBLIC)
    assert as_admin.post(f"/employees/{astrid.id}/min-lon-invitation").status_code == 303
    page = text(as_admin.get("/employees"))
    assert words["disabled"] in page and words["queued_flash"] not in page
    link = LINK.search(page)
    assert link, page
    assert Employee(app.test_client(), lang).accept(link.group(1)).status_code == 303
    send_to_min_lon(calculated_run(company, 10), admin)
    assert outbox() == []
    assert deliver(app) == 0


def test_a_round_that_meets_something_unforeseen_hands_back_what_it_had_not_tried(app, mailbox, company,
                                                                                 monkeypatch):
    """A bug or a lost database mid-round: the message in hand keeps its claim (it may have left); the ones after it
    are queued again at once, their attempt not counted, instead of waiting for the lease."""
    for number in range(3):
        queue_mail(MailKind.INVITATION, f"person{number}@example.se", "Inbjudan", "Hej", company_id=company.id)
    db.session.commit()
    build, built = delivery.message, []

    def breaking(email):
        built.append(email.id)
        if len(built) == 2:
            raise RuntimeError("a bug")
        return build(email)

    monkeypatch.setattr(delivery, "message", breaking)
    with pytest.raises(RuntimeError, match="a bug"):
        deliver(app)
    rows = outbox()
    assert [row.state for row in rows] == [MailState.SENT, MailState.SENDING, MailState.QUEUED]
    assert (rows[2].attempts, rows[2].claimed_by) == (0, None)
    assert [message.to for message in mailbox.messages()] == [("person0@example.se",)]
