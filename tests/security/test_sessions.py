"""Sessions end when they should (issue 17, item 2): logging out, a new password and a new invitation end every
session of that person, a copied cookie included; a session ends after SESSION_IDLE_MINUTES without a request and
SESSION_MAX_HOURS after signing in; signing in starts a fresh session with a fresh CSRF token."""
import re
from datetime import datetime, timedelta, timezone

import pytest

from kivra import clock
from kivra.accounts.models import utcnow
from kivra.employees.portal_account import PortalAccount
from kivra.extensions import db
from kivra.mail.models import OutboundEmail
from tests.conftest import CSRF_INPUT, PASSWORD, PASSWORD_HASH, Client, make_employee, text

START = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
IDLE = {"sv": "Du loggades ut efter 30 minuter utan aktivitet. Logga in igen.",
        "en": "You were logged out after 30 minutes without activity. Log in again."}
TOO_LONG = {"sv": "Du loggades ut efter 12 timmar. Logga in igen.", "en": "You were logged out after 12 hours. Log in again."}


class Clock:
    """kivra.clock.now, moved by the test."""

    def __init__(self, monkeypatch):
        self.at = START
        monkeypatch.setattr(clock, "now", lambda: self.at)

    def forward(self, **delta):
        self.at += timedelta(**delta)


@pytest.fixture
def time(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def employee(company, lang):
    person = make_employee(company)
    db.session.add(PortalAccount(employee_id=person.id, password_hash=PASSWORD_HASH, password_set_at=utcnow(),
                                 locale=lang))
    db.session.commit()
    return person


@pytest.fixture(params=["company", "min-lon"])
def side(request, admin, employee):
    """Each side: its sign-in page, who signs in there, a page that needs a session, the logout."""
    if request.param == "company":
        return {"login": "/login", "email": admin.email, "home": "/runs", "logout": "/logout"}
    return {"login": "/min-lon/login", "email": employee.email, "home": "/min-lon/", "logout": "/min-lon/logout"}


def signed_in(app, side, lang) -> Client:
    browser = Client(app.test_client())
    browser.token = browser.csrf_from(browser.raw.get(side["login"]))
    browser.post("/language", {"locale": lang, "next": side["login"]})
    response = browser.post(side["login"], {"email": side["email"], "password": PASSWORD})
    assert response.status_code == 303, response.status_code
    browser.token = browser.csrf_from(browser.get(side["home"]))
    return browser


def copy_of(app, browser: Client) -> Client:
    """Another browser with the same session cookie: what someone who copied it has."""
    thief = Client(app.test_client())
    thief.raw.set_cookie("session", browser.raw.get_cookie("session").value)
    thief.token = browser.token
    return thief


def is_signed_out(browser: Client, side) -> bool:
    response = browser.get(side["home"])
    return response.status_code == 302 and response.location.startswith(side["login"])


def test_logout_ends_a_copied_session_too(app, side, lang):
    browser = signed_in(app, side, lang)
    thief = copy_of(app, browser)
    assert thief.get(side["home"]).status_code == 200
    assert browser.post(side["logout"]).status_code == 303
    assert is_signed_out(thief, side) and is_signed_out(browser, side)


def test_logout_ends_the_persons_other_browsers_and_signing_in_again_works(app, side, lang):
    first, second = signed_in(app, side, lang), signed_in(app, side, lang)
    assert first.post(side["logout"]).status_code == 303
    assert is_signed_out(second, side)
    assert signed_in(app, side, lang).get(side["home"]).status_code == 200


def last_link(path: str) -> str:
    body = db.session.query(OutboundEmail).order_by(OutboundEmail.id.desc()).first().body
    return re.search(r"http://localhost(" + path + r"\S+)", body).group(1)


def choose_password(browser: Client, link: str):
    browser.token = browser.csrf_from(browser.raw.get(link))
    return browser.post(link, {"password": "a brand new password", "confirm": "a brand new password"})


def test_a_new_password_from_a_reset_link_ends_a_copied_session_and_keeps_the_changing_browser_in(app, side, lang):
    browser = signed_in(app, side, lang)
    thief = copy_of(app, browser)
    forgot = side["login"].replace("login", "forgot-password")
    browser.token = browser.csrf_from(browser.get(forgot))
    assert browser.post(forgot, {"email": side["email"]}).status_code == 200
    assert choose_password(browser, last_link(side["login"].replace("login", "reset-password/"))).status_code == 303
    assert browser.get(side["home"]).status_code == 200
    assert is_signed_out(thief, side)


MIN_LON = {"login": "/min-lon/login", "home": "/min-lon/"}


def test_a_new_min_lon_invitation_ends_the_employees_sessions(app, as_admin, employee, lang):
    side = {**MIN_LON, "email": employee.email}
    browser = signed_in(app, side, lang)
    thief = copy_of(app, browser)
    assert as_admin.post(f"/employees/{employee.id}/min-lon-invitation").status_code == 303
    assert is_signed_out(thief, side) and is_signed_out(browser, side)


def test_choosing_a_password_from_a_new_invitation_ends_other_sessions_and_keeps_that_browser_in(
        app, as_admin, employee, lang):
    side = {**MIN_LON, "email": employee.email}
    assert as_admin.post(f"/employees/{employee.id}/min-lon-invitation").status_code == 303
    browser = signed_in(app, side, lang)  # with the old password, after the invitation went out
    chooser = Client(app.test_client())
    assert choose_password(chooser, last_link("/min-lon/invitation/")).status_code == 303
    assert chooser.get("/min-lon/").status_code == 200
    assert is_signed_out(browser, side)


@pytest.mark.parametrize("htmx", [False, True])
def test_thirty_minutes_without_a_request_end_the_session_with_a_message(app, side, lang, time, htmx):
    browser = signed_in(app, side, lang)
    time.forward(minutes=29)
    assert browser.get(side["home"]).status_code == 200
    time.forward(minutes=31)
    response = browser.get(side["home"], htmx=htmx)
    if htmx:
        assert response.status_code == 401 and response.headers["HX-Redirect"].startswith(side["login"])
    else:
        assert response.status_code == 302 and response.location.startswith(side["login"])
    page = browser.get(response.headers.get("HX-Redirect") or response.location)
    assert IDLE[lang] in text(page)
    time.forward(minutes=1)
    assert is_signed_out(browser, side)


def test_a_session_ends_twelve_hours_after_signing_in_however_busy(app, side, lang, time):
    browser = signed_in(app, side, lang)
    for _ in range(35):  # a request every 20 minutes: 11 h 40 min
        time.forward(minutes=20)
        assert browser.get(side["home"]).status_code == 200, time.at
    time.forward(minutes=20)  # 12 h
    response = browser.get(side["home"])
    assert response.status_code == 302 and response.location.startswith(side["login"])
    assert TOO_LONG[lang] in text(browser.get(response.location))


def test_the_cookie_itself_expires_after_the_longest_session(app):
    assert app.permanent_session_lifetime == timedelta(hours=12)
    assert app.config["SESSION_IDLE_MINUTES"] == 30 and app.config["SESSION_MAX_HOURS"] == 12


def test_signing_in_gives_a_new_csrf_token_and_the_old_one_is_refused(app, side, lang):
    browser = Client(app.test_client())
    before = browser.csrf_from(browser.raw.get(side["login"]))
    browser.token = before
    browser.raw.post("/language", data={"locale": lang, "next": side["login"], "csrf_token": before})
    assert browser.post(side["login"], {"email": side["email"], "password": PASSWORD}).status_code == 303
    after = browser.csrf_from(browser.get(side["home"]))
    with app.test_request_context():
        from itsdangerous import URLSafeTimedSerializer

        raw = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
        assert raw.loads(before) != raw.loads(after)
    response = browser.post("/language", {"locale": lang, "next": side["home"], "csrf_token": before})
    assert response.status_code == 400
    assert browser.post("/language", {"locale": lang, "next": side["home"], "csrf_token": after}).status_code == 303


def test_signing_in_keeps_nothing_of_the_session_before_but_the_language(app, side, lang):
    browser = Client(app.test_client())
    browser.token = browser.csrf_from(browser.raw.get(side["login"]))
    browser.post("/language", {"locale": lang, "next": side["login"]})
    with browser.raw.session_transaction() as session:
        session["planted"] = "by someone before"
    assert browser.post(side["login"], {"email": side["email"], "password": PASSWORD}).status_code == 303
    with browser.raw.session_transaction() as session:
        assert "planted" not in session and session["locale"] == lang
    assert CSRF_INPUT.search(browser.get(side["home"]).get_data(as_text=True))


CHANGED = {"sv": "Ditt nya lösenord är sparat. Dina andra sessioner har avslutats.",
           "en": "Your new password is saved. Your other sessions have ended."}
WRONG_CURRENT = {"sv": "Det nuvarande lösenordet är fel.", "en": "The current password is wrong."}


@pytest.mark.parametrize("htmx", [False, True])
def test_a_min_lon_password_change_ends_other_sessions_and_keeps_this_one(app, employee, lang, htmx):
    side = {**MIN_LON, "email": employee.email}
    browser = signed_in(app, side, lang)
    thief, other = copy_of(app, browser), signed_in(app, side, lang)
    new = {"current": PASSWORD, "password": "a brand new password", "confirm": "a brand new password"}
    response = browser.post("/min-lon/settings/password", new, htmx=htmx)
    assert response.status_code in (204, 303)
    page = browser.get("/min-lon/settings")
    assert page.status_code == 200 and CHANGED[lang] in text(page)
    assert is_signed_out(thief, side) and is_signed_out(other, side)
    again = Client(app.test_client())
    again.token = again.csrf_from(again.raw.get("/min-lon/login"))
    assert again.post("/min-lon/login", {"email": employee.email, "password": "a brand new password"}).status_code == 303


@pytest.mark.parametrize("htmx", [False, True])
def test_a_wrong_current_password_changes_nothing_and_keeps_what_was_typed(app, employee, lang, htmx):
    side = {**MIN_LON, "email": employee.email}
    browser = signed_in(app, side, lang)
    other = signed_in(app, side, lang)
    new = {"current": "not my password", "password": "a brand new password", "confirm": "a brand new password"}
    response = browser.post("/min-lon/settings/password", new, htmx=htmx)
    assert response.status_code == 422 and WRONG_CURRENT[lang] in text(response)
    assert other.get("/min-lon/").status_code == 200
    assert db.session.query(PortalAccount).one().session_version == 0


TOO_MANY = {"sv": "För många misslyckade försök. Vänta 15 minuter och försök igen.",
            "en": "Too many failed attempts. Wait 15 minutes and try again."}


@pytest.mark.parametrize("htmx", [False, True])
def test_guessing_the_current_password_from_a_min_lon_session_waits_after_ten_tries(app, employee, lang, htmx):
    """Whoever holds a session (a computer left signed in) cannot guess the password it was opened with: the
    eleventh try waits, even with the right password, and nothing changes."""
    side = {**MIN_LON, "email": employee.email}
    browser = signed_in(app, side, lang)
    other = signed_in(app, side, lang)
    for n in range(10):
        guess = {"current": f"guess {n}", "password": "a brand new password", "confirm": "a brand new password"}
        response = browser.post("/min-lon/settings/password", guess, htmx=htmx)
        assert response.status_code == 422 and WRONG_CURRENT[lang] in text(response)
    right = {"current": PASSWORD, "password": "a brand new password", "confirm": "a brand new password"}
    response = browser.post("/min-lon/settings/password", right, htmx=htmx)
    assert response.status_code == 429 and TOO_MANY[lang] in text(response)
    assert int(response.headers["Retry-After"]) > 0
    assert ("<html" in response.get_data(as_text=True)) is not htmx  # the form alone for htmx, else the page
    assert 'name="current"' in response.get_data(as_text=True)  # the form is still there, to try again later
    assert db.session.query(PortalAccount).one().session_version == 0
    assert other.get("/min-lon/").status_code == 200  # no session ended, no password changed
    again = Client(app.test_client())
    again.token = again.csrf_from(again.raw.get("/min-lon/login"))
    assert again.post("/min-lon/login", {"email": employee.email, "password": PASSWORD}).status_code == 303


def test_a_password_change_after_nine_wrong_tries_goes_through_and_other_accounts_are_not_held(app, company, employee,
                                                                                              lang):
    side = {**MIN_LON, "email": employee.email}
    browser = signed_in(app, side, lang)
    for n in range(9):
        guess = {"current": f"guess {n}", "password": "a brand new password", "confirm": "a brand new password"}
        assert browser.post("/min-lon/settings/password", guess).status_code == 422
    right = {"current": PASSWORD, "password": "a brand new password", "confirm": "a brand new password"}
    assert browser.post("/min-lon/settings/password", right).status_code == 303
    colleague = make_employee(company, name="Lena Lind", personnummer="198112172385", email="lena@example.se")
    db.session.add(PortalAccount(employee_id=colleague.id, password_hash=PASSWORD_HASH, password_set_at=utcnow(),
                                 locale=lang))
    db.session.commit()
    theirs = signed_in(app, {**MIN_LON, "email": colleague.email}, lang)
    response = theirs.post("/min-lon/settings/password", {**right, "password": "another new password",
                                                          "confirm": "another new password"})
    assert response.status_code == 303
