"""A chosen password must not be easy to guess (issue 17, item 12): zxcvbn's score at least 3, with the person's
name, e-mail address, personnummer and company as words it knows. Every form that chooses a password — the Min lön
invitation, a colleague's invitation, a password reset on either side, the sign-up — refuses a guessable one in the
user's language, keeps the form (never echoing the password) and leaves the link usable."""
import re

import pytest
from sqlalchemy import select

from kivra.accounts import passwords as user_passwords
from kivra.accounts import users
from kivra.accounts.password_strength import MIN_SCORE, too_easy, words_about
from kivra.extensions import db
from kivra.mail.models import OutboundEmail
from kivra.portal import invitations
from kivra.portal import passwords as portal_passwords
from tests.conftest import PASSWORD, Client, make_employee, make_user, text

TOO_EASY = {"sv": "Lösenordet är för lätt att gissa", "en": "The password is too easy to guess"}
STRONG = "mina-egna-lönebesked-7"
PNR = "197701032380"
ECHOED = re.compile(r'<input[^>]*name="(?:password|confirm)"[^>]*value="[^"]')
WEAK = ["0701234567", "1234567890", PNR, PNR[2:], "lisa.persson", "lisapersson1977", "demoab2026!"]


@pytest.fixture
def lisa(company):
    return make_employee(company, name="Lisa Persson", personnummer=PNR, email="lisa.persson@example.se")


def visitor(app, lang, start: str) -> Client:
    browser = Client(app.test_client())
    browser.token = browser.csrf_from(browser.raw.get("/login"))
    browser.raw.post("/language", data={"locale": lang, "csrf_token": browser.token, "next": "/login"})
    browser.token = browser.csrf_from(browser.raw.get(start))
    return browser


def the_link(pattern: str) -> str:
    email = db.session.scalars(select(OutboundEmail).order_by(OutboundEmail.id.desc())).first()
    return re.search(r"http://localhost(" + pattern + r"[\w.-]+)", email.body).group(1)


def assert_refused(response, lang, typed: str, htmx: bool):
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert TOO_EASY[lang] in text(response)
    assert not ECHOED.search(body)  # a password is never sent back
    assert 'name="password"' in body and ("<html" in body) is not htmx


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("typed", WEAK)
def test_the_min_lon_invitation_refuses_a_guessable_password(app, company, admin, lisa, lang, typed, htmx):
    with app.test_request_context():
        link = invitations.invite(lisa, admin).link.removeprefix("http://localhost")
    browser = visitor(app, lang, link)
    assert_refused(browser.post(link, {"password": typed, "confirm": typed}, htmx=htmx), lang, typed, htmx)
    assert browser.post(link, {"password": STRONG, "confirm": STRONG}).status_code == 303  # the link still works


@pytest.mark.parametrize("htmx", [False, True])
def test_a_colleagues_invitation_refuses_a_guessable_password(app, company, admin, lang, htmx):
    with app.test_request_context():
        invited = users.invite(admin, "Greta Ny", "greta.ny@demo.se", "payroll")
    link = invited.link.removeprefix("http://localhost")
    browser = visitor(app, lang, link)
    for typed in ("0701234567", "gretany2026", "greta.ny@demo.se"):
        assert_refused(browser.post(link, {"password": typed, "confirm": typed}, htmx=htmx), lang, typed, htmx)
    assert browser.post(link, {"password": STRONG, "confirm": STRONG}).status_code == 303


@pytest.mark.parametrize("side", ["payroll", "portal"])
def test_a_password_reset_refuses_a_guessable_password(app, company, admin, lisa, lang, side):
    with app.test_request_context():
        if side == "payroll":
            user = make_user(company, "payroll", email="per.berg@demo.se")
            user.name = "Per Berg"
            db.session.commit()
            user_passwords.ask_for_reset(user.email)
            typed = "perberg1234"
        else:
            invitations.accept(invitations.invite(lisa, admin).link.rsplit("/", 1)[1], PASSWORD)
            portal_passwords.ask_for_reset(lisa.email)
            typed = PNR[2:8] + "-" + PNR[8:]
    link = the_link("/(?:min-lon/)?reset-password/")
    browser = visitor(app, lang, link)
    assert_refused(browser.post(link, {"password": typed, "confirm": typed}, htmx=True), lang, typed, True)
    assert browser.post(link, {"password": STRONG, "confirm": STRONG}).status_code == 303


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("typed", ["1234567890", "nyabolaget", "nora.nilsson@nyabolaget.se", "5560360793"])
def test_signing_up_refuses_a_guessable_password(app, lang, typed, htmx):
    browser = visitor(app, lang, "/registrera")
    fields = {"company_name": "Nya Bolaget AB", "orgnr": "556036-0793", "name": "Nora Nilsson",
              "email": "nora.nilsson@nyabolaget.se", "password": typed, "confirm": typed}
    response = browser.post("/registrera", fields, htmx=htmx)
    assert_refused(response, lang, typed, htmx)
    assert 'value="Nya Bolaget AB"' in response.get_data(as_text=True)  # the rest is kept
    assert browser.post("/registrera", {**fields, "password": STRONG, "confirm": STRONG}).status_code == 303


# The rule itself


@pytest.mark.parametrize("password", WEAK + ["hemligt", "password1", "lisapersson", "19770103"])
def test_guessable_passwords_are_too_easy(password):
    assert too_easy(password, words_about("Lisa Persson", "lisa.persson@example.se", "Demo AB", PNR))


@pytest.mark.parametrize("password", [PASSWORD, STRONG, "ett helt nytt lösenord", "x" * 60 + "Qz!9#mK2@vL" * 3])
def test_a_strong_password_is_taken(password):
    assert not too_easy(password, words_about("Lisa Persson", "lisa.persson@example.se", "Demo AB", PNR))


def test_the_words_about_a_person_are_the_parts_a_password_is_made_of():
    words = words_about("Lisa Persson", "lisa.persson@example.se", "Demo AB", PNR)
    assert {"lisa", "persson", "lisapersson", "lisa.persson", "demo", "demoab", PNR, PNR[2:], "19770103",
            "770103"} <= set(words)
    assert MIN_SCORE == 3
