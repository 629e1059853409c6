"""Glömt lösenordet?, on both sides (a company user at /forgot-password, an employee at /min-lon/forgot-password),
against a real SMTP server: the same answer whether or not the address has an account, a link from PUBLIC_URL that
works once for an hour, a reset that signs the person in here and out everywhere else, and no mail bombs."""
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from kivra.accounts import passwords
from kivra.clock import now as utcnow
from kivra.extensions import db
from kivra.mail import links, resets
from kivra.mail.models import MailKind
from tests.conftest import Client, make_user, text
from tests.test_mail import (  # noqa: F401 - fixtures
    PERSONNUMMER, PUBLIC, astrid, deliver, invite, mailbox, min_lon_user, outbox, settle,
)

NEW_PASSWORD = "ett helt nytt lösenord"
PAGES = {"payroll": {"forgot": "/forgot-password", "home": "/runs", "login": "/login"},
         "portal": {"forgot": "/min-lon/forgot-password", "home": "/min-lon/", "login": "/min-lon/login"}}
WORDS = {
    "sv": {"answer": "hör till ett konto är ett mejl med en länk", "choose": "Välj ett nytt lösenord",
           "saved": "Ditt nya lösenord är sparat och du är inloggad.", "used": "Länken har redan använts",
           "expired": "Länken har gått ut", "empty": "Ange din e-postadress.", "invalid": "Ange en giltig e-postadress.",
           "throttled": "För många förfrågningar. Vänta 15 minuter och försök igen.",
           "disabled": "Den här installationen skickar ingen e-post",
           "subject": {"payroll": "Återställ ditt lösenord", "portal": "Återställ ditt lösenord till Min lön"}},
    "en": {"answer": "belongs to an account, an e-mail with a link", "choose": "Choose a new password",
           "saved": "Your new password is saved, and you are logged in.", "used": "The link has already been used",
           "expired": "The link has expired", "empty": "Enter your e-mail address.",
           "invalid": "Enter a valid e-mail address.",
           "throttled": "Too many requests. Wait 15 minutes and try again.",
           "disabled": "This installation sends no e-mail",
           "subject": {"payroll": "Reset your password", "portal": "Reset your Min lön password"}},
}
RESET_LINK = re.compile(re.escape(PUBLIC) + r"(/(?:min-lon/)?reset-password/[\w.-]+)")
TOKENS = re.compile(r'[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}')  # CSRF tokens, different in every session


@pytest.fixture
def words(lang):
    return WORDS[lang]


@dataclass
class Person:
    side: str
    email: str
    earlier: Client  # a browser the person signed in with before the reset
    forgot: str
    home: str
    login: str


@pytest.fixture(params=["payroll", "portal"])
def person(request, app, mailbox, admin, as_admin, astrid, lang) -> Person:
    if request.param == "payroll":
        return Person("payroll", admin.email, as_admin, **PAGES["payroll"])
    browser = min_lon_user(app, as_admin, astrid, lang)
    settle(app, mailbox)
    return Person("portal", astrid.email, browser, **PAGES["portal"])


class Visitor(Client):
    """Someone not signed in, at a forgot-password page, in their language."""

    def __init__(self, app, lang, page):
        super().__init__(app.test_client())
        self.page = page
        self.token = self.csrf_from(self.raw.get(page))
        self.raw.post("/language", data={"locale": lang, "csrf_token": self.token, "next": page})

    def ask(self, email, htmx=False):
        return self.post(self.page, {"email": email}, htmx=htmx)


@pytest.fixture
def visitor(app, lang, person):
    return lambda: Visitor(app, lang, person.forgot)


def reset_links() -> list[str]:
    return [RESET_LINK.search(email.body).group(1) for email in outbox(MailKind.PASSWORD_RESET)]


@pytest.mark.parametrize("htmx", [False, True])
def test_a_known_and_an_unknown_address_get_the_same_answer(app, mailbox, person, visitor, words, htmx):
    known = visitor().ask(person.email, htmx=htmx)
    unknown = visitor().ask("nobody@example.se", htmx=htmx)
    assert known.status_code == unknown.status_code == 200
    assert words["answer"] in text(known)
    assert ("<html" in known.get_data(as_text=True)) is not htmx
    same = [TOKENS.sub("", response.get_data(as_text=True).replace(address, "ADDRESS"))
            for response, address in ((known, person.email), (unknown, "nobody@example.se"))]
    assert same[0] == same[1]
    assert deliver(app) == 1
    assert [m.to for m in mailbox.messages()] == [(person.email,)]


def test_the_link_works_once_signs_in_and_ends_every_older_session(app, mailbox, person, visitor, words, lang):
    assert person.earlier.get(person.home).status_code == 200
    visitor().ask(person.email)
    deliver(app)
    [message] = mailbox.messages()
    assert message.subject == words["subject"][person.side]
    assert message.links == [RESET_LINK.search(message.body).group(0)]  # one link, on PUBLIC_URL
    assert not PERSONNUMMER.search(message.subject + message.body)
    path = urlsplit(message.links[0]).path

    browser = visitor()
    page = browser.get(path)
    assert page.status_code == 200 and words["choose"] in text(page)
    assert page.headers["Cache-Control"] == "no-store"
    browser.token = browser.csrf_from(page)
    response = browser.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 303 and response.location == person.home
    home = browser.get(person.home)
    assert home.status_code == 200 and words["saved"] in text(home)

    before = person.earlier.get(person.home)  # the session from before the reset
    assert before.status_code == 302 and before.location.startswith(person.login)
    again = visitor().get(path)
    assert again.status_code == 410 and words["used"] in text(again)
    signing_in = Visitor(app, lang, person.login)
    response = signing_in.post(person.login, {"email": person.email, "password": NEW_PASSWORD})
    assert response.status_code == 303


def test_the_link_expires_after_an_hour(app, mailbox, person, visitor, words, monkeypatch):
    issued = links.clock()
    visitor().ask(person.email)
    [path] = reset_links()
    monkeypatch.setattr(links, "clock", lambda: issued + timedelta(minutes=59).total_seconds())
    assert visitor().get(path).status_code == 200
    monkeypatch.setattr(links, "clock", lambda: issued + timedelta(hours=1, seconds=5).total_seconds())
    browser = visitor()
    page = browser.get(path)
    assert page.status_code == 410 and words["expired"] in text(page)
    assert browser.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 410
    assert person.earlier.get(person.home).status_code == 200  # nothing changed


@pytest.mark.both_databases
def test_a_second_request_within_a_minute_sends_nothing_and_a_newer_link_replaces_the_older(app, mailbox, person,
                                                                                            visitor, words,
                                                                                            monkeypatch):
    visitor().ask(person.email)
    visitor().ask(person.email)
    assert deliver(app) == 1 and len(reset_links()) == 1
    later = utcnow() + timedelta(minutes=2)
    monkeypatch.setattr(resets, "utcnow", lambda: later)
    visitor().ask(person.email)
    assert deliver(app) == 1 and len(mailbox.messages()) == 2
    older, newer = reset_links()
    page = visitor().get(older)
    assert page.status_code == 410 and words["used"] in text(page)
    assert visitor().get(newer).status_code == 200


@pytest.mark.parametrize("htmx", [False, True])
def test_bad_input_is_answered_in_the_persons_language_and_kept(app, mailbox, person, visitor, words, htmx):
    response = visitor().ask("", htmx=htmx)
    assert response.status_code == 422 and words["empty"] in text(response)
    response = visitor().ask("inte-en-adress", htmx=htmx)
    assert response.status_code == 422 and words["invalid"] in text(response)
    assert 'value="inte-en-adress"' in response.get_data(as_text=True)
    assert ("<html" in response.get_data(as_text=True)) is not htmx
    assert outbox(MailKind.PASSWORD_RESET) == []


@pytest.mark.parametrize("address", ["known", "unknown"])
def test_many_requests_wait_with_a_message(app, mailbox, person, visitor, words, address):
    email = person.email if address == "known" else "nobody@example.se"
    browser = visitor()
    for _ in range(5):
        assert browser.ask(email).status_code == 200
    for htmx in (False, True):
        response = browser.ask(email, htmx=htmx)
        assert response.status_code == 429 and words["throttled"] in text(response)
        assert ("<html" in response.get_data(as_text=True)) is not htmx
    assert len(outbox(MailKind.PASSWORD_RESET)) == (1 if address == "known" else 0)


def test_with_mail_disabled_the_pages_say_so_and_show_no_form(app, person, visitor, words):
    app.config["MAIL_DISABLED"] = True
    browser = visitor()
    for response in (browser.get(person.forgot), browser.ask(person.email)):
        assert response.status_code == 200 and words["disabled"] in text(response)
        assert 'name="email"' not in response.get_data(as_text=True)
    assert outbox(MailKind.PASSWORD_RESET) == []


def test_the_login_pages_offer_a_reset(app):
    assert 'href="/forgot-password"' in app.test_client().get("/login").get_data(as_text=True)
    assert 'href="/min-lon/forgot-password"' in app.test_client().get("/min-lon/login").get_data(as_text=True)


def test_an_invited_employee_who_never_chose_a_password_may_reset(app, mailbox, as_admin, astrid, lang):
    invite(as_admin, astrid)
    Visitor(app, lang, "/min-lon/forgot-password").ask(astrid.email)
    [path] = reset_links()
    browser = Visitor(app, lang, "/min-lon/forgot-password")
    browser.token = browser.csrf_from(browser.get(path))
    assert browser.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).location == "/min-lon/"
    assert browser.get("/min-lon/").status_code == 200


def test_an_invited_or_deactivated_company_user_gets_no_reset_link(app, mailbox, company, admin):
    """An invited user chooses the password from the invitation (which records that they joined); a deactivated one
    could not use it. The page answers as for anyone."""
    invited = make_user(company, role="payroll", email="ny@example.se")
    invited.password_hash = None
    gone = make_user(company, role="payroll", email="borta@example.se")
    gone.deactivated_at = utcnow()
    db.session.commit()
    passwords.ask_for_reset("ny@example.se")
    passwords.ask_for_reset("borta@example.se")
    assert outbox() == []
