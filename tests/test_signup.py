"""Sign-up (/registrera) as a new customer meets it, in Swedish and English, page and htmx: every mistake said next to
its field with what was typed kept; a taken org.nr or address refused; the POST throttled; the confirmation e-mail
arriving at a real SMTP server (kivra.mailbox) with a PUBLIC_URL link that works once; no payslip sent before the
address is confirmed; Kivra from the first send for a company that signed up after the cut-over, the prompt before it;
a sole trader refused for Kivra, with the reason, and sent to Min lön without a call to Kivra."""
import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from kivra import agreement
from kivra.accounts import signup
from kivra.accounts.models import Company, User, UserAction, UserChange
from kivra.agreement import onboarding
from kivra.agreement.models import KivraAgreement
from kivra.clock import now as utcnow
from kivra.dispatch import service as dispatch, tasks
from kivra.dispatch.models import Dispatch, PayslipSend
from kivra.extensions import db
from kivra.mail import delivery
from kivra.mail.models import MailKind, OutboundEmail
from kivra.mailbox import start_in_thread as start_mailbox
from kivra.payroll import service
from tests.conftest import CSRF_INPUT, make_company, make_employee, text
from tests.kivra_jobs import run_kivra_jobs

PUBLIC = "https://lon.example.se"
LINK = re.compile(re.escape(PUBLIC) + r"(/registrera/bekrafta/[\w.-]+)")
PASSWORD = "ett långt lösenord"
WORDS = {
    "sv": {"signup": "Registrera företag", "confirm_page": "Bekräfta din e-postadress",
           "banner": "Din e-postadress är inte bekräftad än", "taken": "Organisationsnumret har redan ett konto",
           "email_taken": "E-postadressen har redan ett konto", "format": "Skriv organisationsnumret med 10 siffror",
           "checksum": "fel kontrollsiffra", "name": "Ange företagets namn.", "your_name": "Ange ditt namn.",
           "email": "Ange en giltig e-postadress.", "short": "Lösenordet måste vara minst 10 tecken långt.",
           "mismatch": "Lösenorden stämmer inte överens.", "wait": "För många registreringar från din adress",
           "confirmed": "Din e-postadress är bekräftad", "used": "Länken har redan använts",
           "expired": "Länken har gått ut", "invalid": "Länken är inte hel", "new_link": "Skicka en ny länk",
           "cannot_send": "Lönebesked kan inte skickas förrän din e-postadress är bekräftad",
           "send_again": "Skicka bekräftelsen igen", "too_soon": "Vänta en minut",
           "on_its_way": "är på väg", "prompt": "Aktivera Kivra?", "sole_trader": "Kivra tar inte emot lönebesked "
           "från enskilda firmor", "sole_note": "Enskilda firmor är välkomna", "subject": "Bekräfta din e-postadress"},
    "en": {"signup": "Sign up your company", "confirm_page": "Confirm your e-mail address",
           "banner": "Your e-mail address is not confirmed yet", "taken": "This organisation number already has an "
           "account", "email_taken": "This e-mail address already has an account",
           "format": "Write the organisation number as 10 digits", "checksum": "check digit error",
           "name": "Enter the company's name.", "your_name": "Enter your name.",
           "email": "Enter a valid e-mail address.", "short": "The password must be at least 10 characters long.",
           "mismatch": "The passwords do not match.", "wait": "Too many sign-ups from your address",
           "confirmed": "Your e-mail address is confirmed", "used": "The link has already been used",
           "expired": "The link has expired", "invalid": "The link is not complete", "new_link": "Send a new link",
           "cannot_send": "Payslips cannot be sent until your e-mail address is confirmed",
           "send_again": "Send the confirmation again", "too_soon": "Wait a minute", "on_its_way": "is on its way",
           "prompt": "Activate Kivra?", "sole_trader": "Kivra does not accept payslips from sole traders",
           "sole_note": "Sole traders (enskild firma) are welcome", "subject": "Confirm your e-mail address"},
}
FORM = {"company_name": "Nya Bolaget AB", "orgnr": "556036-0793", "name": "Nora Nilsson",
        "email": "nora@nyabolaget.se", "password": PASSWORD, "confirm": PASSWORD}


@pytest.fixture
def words(lang):
    return WORDS[lang]


@pytest.fixture
def mailbox(app):
    """A real SMTP server; the app sends through it and writes its links on PUBLIC."""
    with start_mailbox() as mailbox:
        app.config.update(SMTP_URL=mailbox.smtp_url, PUBLIC_URL=PUBLIC)
        yield mailbox


class Visitor:
    """Someone not signed in, in their language, from one address, with the page's CSRF token."""

    def __init__(self, app, lang, address="203.0.113.9"):
        self.raw, self.environ = app.test_client(), {"REMOTE_ADDR": address}
        self.raw.post("/language", data={"locale": lang, "csrf_token": self.token("/login"), "next": "/login"},
                      environ_base=self.environ)

    def token(self, url="/registrera") -> str:
        return CSRF_INPUT.search(self.get(url).get_data(as_text=True)).group(1)

    def get(self, url, htmx=False):
        return self.raw.get(url, headers={"HX-Request": "true"} if htmx else {}, environ_base=self.environ)

    def post(self, url, data=None, htmx=False, token_from=None):
        data = {"csrf_token": self.token(token_from or url), **(data or {})}
        return self.raw.post(url, data=data, headers={"HX-Request": "true"} if htmx else {},
                             environ_base=self.environ)

    def sign_up(self, htmx=False, **fields):
        return self.post("/registrera", {**FORM, **fields}, htmx=htmx)


def field_value(response, name: str) -> str | None:
    found = re.search(r'<input[^>]*name="%s"[^>]*>' % name, response.get_data(as_text=True))
    assert found, f"no field {name}"
    value = re.search(r'value="([^"]*)"', found.group(0))
    return value.group(1) if value else None


def error_of(response, name: str) -> str:
    """The error written next to a field (its id-error paragraph)."""
    found = re.search(r'<p class="error" id="%s-error">([^<]*)</p>' % name, response.get_data(as_text=True))
    return found.group(1).replace("&#39;", "'") if found else ""


def companies() -> list[Company]:
    db.session.expire_all()
    return db.session.scalars(select(Company).order_by(Company.id)).all()


def signed_up(visitor, **fields) -> User:
    response = visitor.sign_up(**fields)
    assert response.status_code == 303 and response.location == "/registrera/bekrafta", response.status_code
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == (fields.get("email") or FORM["email"]).lower()))


def deliver(app) -> int:
    with app.app_context():
        return delivery.drain()


def link_in(mailbox, to: str) -> str:
    [message] = mailbox.messages(to=to)[-1:]
    return urlsplit(LINK.search(message.body).group(0)).path


def a_run(company):
    make_employee(company)
    run = service.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    service.calculate_run(run)
    return run


def the_send(run) -> PayslipSend | None:
    db.session.expire_all()
    return db.session.scalar(select(PayslipSend).where(PayslipSend.run_id == run.id))


# --- the form ------------------------------------------------------------------------------------------------------

def test_the_login_page_leads_to_sign_up_and_it_tells_sole_traders_about_min_lon(app, lang, words):
    visitor = Visitor(app, lang)
    login = visitor.get("/login")
    assert words["signup"] in text(login) and 'href="/registrera"' in login.get_data(as_text=True)
    page = visitor.get("/registrera")
    assert page.status_code == 200 and words["signup"] in text(page) and words["sole_note"] in text(page)
    assert visitor.get("/registrera", htmx=True).get_data(as_text=True).lstrip().startswith('<form id="signup_form"')


@pytest.mark.parametrize("htmx", [False, True])
def test_every_mistake_is_said_next_to_its_field_and_what_was_typed_is_kept(app, lang, words, htmx):
    visitor = Visitor(app, lang)
    response = visitor.sign_up(htmx=htmx, company_name=" ", name="", email="nora@", password="kort",
                               confirm="annat", orgnr="556036-0793")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert ("<html" in body) is not htmx and 'id="signup_form"' in body
    assert error_of(response, "company_name") == words["name"]
    assert error_of(response, "name") == words["your_name"]
    assert error_of(response, "email") == words["email"]
    assert error_of(response, "password") == words["short"]
    assert error_of(response, "confirm") == words["mismatch"]
    assert error_of(response, "orgnr") == ""  # a good org.nr has no error
    assert field_value(response, "email") == "nora@" and field_value(response, "orgnr") == "556036-0793"
    assert not field_value(response, "password") and not field_value(response, "confirm")  # never echoed
    assert "kort" not in body and "annat" not in body
    assert companies() == []


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("orgnr, problem", [("55603-0793", "format"), ("5560360794", "checksum"),
                                            ("556036-07931", "format"), ("", None)])
def test_a_bad_organisation_number_is_refused_with_the_reason(app, lang, words, htmx, orgnr, problem):
    response = Visitor(app, lang).sign_up(htmx=htmx, orgnr=orgnr)
    assert response.status_code == 422
    expected = words[problem] if problem else {"sv": "Ange organisationsnumret.",
                                               "en": "Enter the organisation number."}[lang]
    assert expected in error_of(response, "orgnr")
    assert field_value(response, "orgnr") == orgnr and field_value(response, "name") == FORM["name"]
    assert companies() == []


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("typed", ["556036-0793", "5560360793", "16556036-0793"])
def test_an_organisation_number_with_an_account_is_refused_and_nothing_more_is_said(app, lang, words, htmx, typed):
    make_company("Hemliga Namnet AB", "5560360793")
    response = Visitor(app, lang).sign_up(htmx=htmx, orgnr=typed)
    assert response.status_code == 422
    assert error_of(response, "orgnr").startswith(words["taken"])
    assert "Hemliga Namnet" not in response.get_data(as_text=True)  # whose it is stays unsaid
    assert field_value(response, "orgnr") == typed and field_value(response, "email") == FORM["email"]
    assert len(companies()) == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_an_email_address_with_an_account_is_refused_whatever_its_case(app, lang, words, htmx):
    Visitor(app, lang).sign_up()
    response = Visitor(app, lang).sign_up(htmx=htmx, orgnr="556840-2266", email="Nora@NyaBolaget.se")
    assert response.status_code == 422 and error_of(response, "email").startswith(words["email_taken"])
    assert field_value(response, "orgnr") == "556840-2266"
    assert [company.orgnr for company in companies()] == ["5560360793"]


@pytest.mark.parametrize("htmx", [False, True])
def test_the_eleventh_sign_up_from_an_address_waits(app, lang, words, htmx):
    visitor = Visitor(app, lang)
    for _ in range(10):
        assert visitor.sign_up(orgnr="bad").status_code == 422  # every POST counts, refused or not
    response = visitor.sign_up(htmx=htmx)
    assert response.status_code == 429 and words["wait"] in text(response)
    assert ("<html" in response.get_data(as_text=True)) is not htmx
    assert field_value(response, "email") == FORM["email"] and not field_value(response, "password")
    assert companies() == []
    assert Visitor(app, lang, address="198.51.100.1").sign_up().status_code == 303  # another address is free


# --- signing up and confirming -------------------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
def test_signing_up_makes_an_unconfirmed_company_and_its_admin_signed_in(app, lang, words, htmx):
    visitor = Visitor(app, lang)
    response = visitor.sign_up(htmx=htmx, orgnr="16556036-0793", email=" Nora@NyaBolaget.se ")
    if htmx:
        assert response.status_code == 204 and response.headers["HX-Redirect"] == "/registrera/bekrafta"
    else:
        assert response.status_code == 303 and response.location == "/registrera/bekrafta"
    [company] = companies()
    assert (company.name, company.orgnr, company.orgnr_formatted) == ("Nya Bolaget AB", "5560360793", "556036-0793")
    assert company.confirmed_at is None
    assert company.employer_contribution_rate == app.config["EMPLOYER_CONTRIBUTION_RATE"]
    [user] = company.users
    assert (user.email, user.role, user.name, user.locale) == ("nora@nyabolaget.se", "admin", "Nora Nilsson", lang)
    assert user.email_confirmed_at is None and user.check_password(PASSWORD)
    [change] = db.session.scalars(select(UserChange)).all()
    assert (change.action, change.actor_id, change.actor_name, change.user_id) == (
        UserAction.SIGNED_UP, None, "Nora Nilsson", user.id)
    [email] = db.session.scalars(select(OutboundEmail)).all()
    assert (email.kind, email.to_address, email.user_id) == (MailKind.SIGNUP_CONFIRMATION, user.email, user.id)

    pending = visitor.get("/registrera/bekrafta")
    assert pending.status_code == 200 and words["confirm_page"] in text(pending) and user.email in text(pending)
    runs = visitor.get("/runs")
    assert runs.status_code == 200 and words["banner"] in text(runs)  # signed in, and told what is missing


def test_the_confirmation_email_arrives_with_a_public_link_that_works_once(app, mailbox, lang, words):
    visitor = Visitor(app, lang)
    user = signed_up(visitor)
    assert deliver(app) == 1
    [message] = mailbox.messages(to=user.email)
    assert message.subject == words["subject"]
    assert message.links and all(link.startswith(PUBLIC + "/registrera/bekrafta/") for link in message.links)
    assert "5560360793" not in message.body and "556036-0793" not in message.body
    path = link_in(mailbox, user.email)

    stranger = Visitor(app, lang, address="198.51.100.2")  # the link works in a browser that is not signed in
    page = stranger.get(path)
    assert page.status_code == 200 and user.email in text(page)
    assert companies()[0].confirmed_at is None  # opening the link changes nothing: the button does
    done = stranger.post(path)
    assert done.status_code == 303 and done.location == "/registrera/bekraftad"
    assert words["confirmed"] in text(stranger.get(done.location))
    company = companies()[0]
    assert company.confirmed_at is not None and company.users[0].email_confirmed_at is not None

    again = stranger.get(path)
    assert again.status_code == 410 and words["used"] in text(again)
    assert stranger.post(path, token_from="/login").status_code == 410
    assert words["banner"] not in text(visitor.get("/runs"))


def test_once_confirmed_the_admin_is_led_to_the_company_details_first(app, mailbox, lang):
    visitor = Visitor(app, lang)
    user = signed_up(visitor)
    deliver(app)
    done = visitor.post(link_in(mailbox, user.email))
    page = visitor.get(done.location)
    steps = re.findall(r'<li><a href="([^"]+)">', page.get_data(as_text=True).split('class="next-steps"')[1])
    # Kivra needs the address, e-mail and phone before it takes a payslip: the details come before the employees.
    assert steps == ["/company/settings", "/employees", "/runs"]
    assert {"sv": "Fyll i företagets uppgifter", "en": "Fill in the company's details"}[lang] in text(page)


@pytest.mark.parametrize("htmx", [False, True])
def test_send_the_email_again_at_most_once_a_minute(app, mailbox, lang, words, htmx, monkeypatch):
    visitor = Visitor(app, lang)
    user = signed_up(visitor)
    too_soon = visitor.post("/registrera/bekrafta/skicka-igen", htmx=htmx, token_from="/registrera/bekrafta")
    assert too_soon.status_code == 429 and words["too_soon"] in text(too_soon)
    assert ("<html" in too_soon.get_data(as_text=True)) is not htmx
    later = utcnow() + timedelta(minutes=2)
    monkeypatch.setattr(signup, "utcnow", lambda: later)
    sent = visitor.post("/registrera/bekrafta/skicka-igen", htmx=htmx, token_from="/registrera/bekrafta")
    assert sent.status_code == (204 if htmx else 303)
    assert words["on_its_way"] in text(visitor.get("/registrera/bekrafta"))
    assert deliver(app) == 2 and len(mailbox.messages(to=user.email)) == 2
    stranger = Visitor(app, lang, address="198.51.100.3")
    newest = link_in(mailbox, user.email)
    assert stranger.post(newest).status_code == 303
    assert companies()[0].confirmed_at is not None


@pytest.mark.parametrize("what", ["expired", "invalid"])
def test_a_link_that_cannot_be_used_is_a_410_with_a_way_to_a_new_one(app, mailbox, lang, words, what, monkeypatch):
    visitor = Visitor(app, lang)
    user = signed_up(visitor)
    deliver(app)
    path = link_in(mailbox, user.email)
    if what == "expired":
        from kivra.mail import links
        real = links.clock()
        monkeypatch.setattr(links, "clock", lambda: real + timedelta(days=3, minutes=1).total_seconds())
    else:
        path = path[:-5]
    page = visitor.get(path)
    assert page.status_code == 410 and words[what] in text(page) and words["new_link"] in text(page)
    assert 'href="/registrera/bekrafta"' in page.get_data(as_text=True)
    assert companies()[0].confirmed_at is None


# --- sending --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
def test_an_unconfirmed_company_cannot_send_and_can_once_confirmed(app, mailbox, lang, words, htmx):
    visitor = Visitor(app, lang)
    user = signed_up(visitor)
    run = a_run(user.company)  # employees and calculation work before confirming
    with pytest.raises(dispatch.NotConfirmed):  # the domain refuses, whatever a page shows
        dispatch.request_send(run, user, min_lon_only=True)
    step = visitor.get(f"/runs/{run.id}/send-and-post")
    assert words["cannot_send"] in text(step) and words["send_again"] in text(step)
    for url in (f"/runs/{run.id}/send", f"/runs/{run.id}/send/min-lon", f"/runs/{run.id}/send/when-approved"):
        refused = visitor.post(url, htmx=htmx, token_from=f"/runs/{run.id}/send-and-post")
        assert refused.status_code == 409 and words["cannot_send"] in text(refused)
        assert 'href="/registrera/bekrafta"' in refused.get_data(as_text=True)
        assert words["prompt"] not in text(refused)
    assert the_send(run) is None and agreement.history(user.company_id) == []

    deliver(app)
    Visitor(app, lang, address="198.51.100.4").post(link_in(mailbox, user.email))
    sent = visitor.post(f"/runs/{run.id}/send/min-lon", htmx=htmx, token_from=f"/runs/{run.id}/send-and-post")
    assert sent.status_code in (200, 303) and the_send(run).channel == "minlon"


def confirmed_signup(app, lang, **fields) -> tuple[Visitor, User]:
    visitor = Visitor(app, lang)
    user = signed_up(visitor, **fields)
    signup.confirm(signup.LINKS.make(user.id)[0])
    db.session.expire_all()
    return visitor, db.session.get(User, user.id)


def test_a_company_that_signed_up_after_the_cut_over_sends_to_kivra_with_no_prompt(app, lang, words, kivra):
    app.config["KIVRA_NEW_CUSTOMERS_SINCE"] = date(2026, 1, 1)
    visitor, user = confirmed_signup(app, lang, orgnr="559100-0004")  # an org.nr Kivra has no sender for
    company = user.company
    company.street_address, company.postal_code, company.city = "Storgatan 1", "111 22", "Stockholm"
    company.email, company.phone = "lon@nyabolaget.se", "08-123 456"
    db.session.commit()
    run = a_run(company)
    response = visitor.post(f"/runs/{run.id}/send", token_from=f"/runs/{run.id}/send-and-post")
    assert response.status_code == 303 and words["prompt"] not in text(visitor.get(response.location))
    current = agreement.in_force(company.id)
    assert current.source == "signup" and current.covers_payslips
    run_kivra_jobs()  # the worker registers the new sender with Kivra, then the send goes
    tasks.drain()
    assert the_send(run).channel == "kivra"
    assert [row.state for row in db.session.scalars(select(Dispatch))] == ["delivered"]


def test_a_company_that_signed_up_before_the_cut_over_gets_the_prompt(app, lang, words):
    app.config["KIVRA_NEW_CUSTOMERS_SINCE"] = date.today() + timedelta(days=1)
    visitor, user = confirmed_signup(app, lang)
    run = a_run(user.company)
    response = visitor.post(f"/runs/{run.id}/send", htmx=True, token_from=f"/runs/{run.id}/send-and-post")
    assert response.status_code == 200 and words["prompt"] in text(response)
    assert the_send(run) is None and agreement.in_force(user.company_id) is None


class NoKivra:
    """A Kivra client that must not be used: any call is a test failure."""

    calls: list[str] = []

    def __getattr__(self, name):
        NoKivra.calls.append(name)
        raise AssertionError(f"Kivra was called ({name}) for a sole trader")


def test_a_sole_trader_signs_up_is_refused_for_kivra_and_sends_to_min_lon(app, lang, words):
    app.config["KIVRA_NEW_CUSTOMERS_SINCE"] = date(2026, 1, 1)  # a new customer: Kivra would be on from the start
    app.extensions["kivra_client"] = NoKivra.calls.clear() or NoKivra()
    visitor, user = confirmed_signup(app, lang, orgnr="19121212-1212", company_name="Astrids Snickeri")
    company = user.company
    assert company.orgnr == "1212121212" and agreement.is_sole_trader(company)

    more = visitor.get("/solutions")
    assert words["sole_trader"] in text(more) and 'action="/solutions/kivra/agreement"' not in more.get_data(
        as_text=True)
    approve = visitor.post("/solutions/kivra/agreement", {"payslips": "1"}, htmx=True, token_from="/solutions")
    assert approve.status_code == 422 and words["sole_trader"] in text(approve)
    with pytest.raises(agreement.SoleTraderRefused):
        agreement.approve(company, user)
    with pytest.raises(agreement.SoleTraderRefused):
        onboarding.register(company, NoKivra())
    assert agreement.activate_for_new_customer(company) is None

    run = a_run(company)
    response = visitor.post(f"/runs/{run.id}/send", token_from=f"/runs/{run.id}/send-and-post")
    assert response.status_code == 303
    step = visitor.get(response.location)
    assert words["prompt"] not in text(step) and words["sole_trader"] in text(step)
    run_kivra_jobs()
    tasks.drain()
    send = the_send(run)
    assert (send.channel, send.note) == ("minlon", "sole_trader")
    assert [(row.channel, row.state, row.reason) for row in db.session.scalars(select(Dispatch))] == [
        ("minlon", "published", "sole_trader")]
    assert db.session.scalars(select(KivraAgreement)).all() == [] and NoKivra.calls == []
    assert app.extensions["kivra_client"].__class__ is NoKivra
    app.extensions.pop("kivra_client")
