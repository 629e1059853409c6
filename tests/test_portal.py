"""Min lön: invitation by e-mail, a password, and each employee's own payslips, apart from the company's pages."""
import io
import re
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from kivra.accounts.models import utcnow
from kivra.dispatch import resends, service as dispatch, tasks
from kivra.dispatch.models import Dispatch, PayslipSend
from kivra.employees.portal_account import PortalAccount
from kivra.extensions import db
from kivra.mail import links
from kivra.mail.models import OutboundEmail
from kivra.payroll import service
from kivra.payroll.models import PayslipLine
from kivra.portal import invitations
from kivra.web.accounts.routes import load_user
from tests.conftest import Client, make_employee, text

pytestmark = pytest.mark.both_databases

NEW_PASSWORD = "lönebesked-2026"
LINK = re.compile(r"http://localhost(/min-lon/invitation/[\w.-]+)")
WORDS = {
    "sv": {"choose": "Välj lösenord", "mine": "Mina lönebesked", "kivra": "Skickat till din Kivra", "minlon": "I Min lön",
           "not_delivered": "Kunde inte levereras till Kivra", "used": "redan använts", "expired": "har gått ut",
           "wrong": "Fel e-postadress eller lösenord.", "login": "Logga in i Min lön", "short": "minst 10 tecken",
           "mismatch": "Lösenorden stämmer inte överens.",
           "queued": "ligger i kö", "invited": "Inbjudan till Min lön för",
           "no_email": "har ingen e-postadress", "correction": "Rättelse, version 2", "nov": "Lönebesked november 2026",
           "oct": "Lönebesked oktober 2026", "net": "22 750,00 kr", "payout": "25 november 2026"},
    "en": {"choose": "Choose password", "mine": "My payslips", "kivra": "Sent to your Kivra", "minlon": "In Min lön",
           "not_delivered": "Could not be delivered to Kivra", "used": "already been used", "expired": "has expired",
           "wrong": "Wrong e-mail address or password.", "login": "Log in to Min lön", "short": "at least 10 characters",
           "mismatch": "The passwords do not match.",
           "queued": "is queued", "invited": "The invitation to Min lön for",
           "no_email": "has no e-mail address", "correction": "Correction, version 2", "nov": "Payslip November 2026",
           "oct": "Payslip October 2026", "net": "SEK 22,750.00", "payout": "25 November 2026"},
}


@pytest.fixture
def words(lang):
    return WORDS[lang]


@pytest.fixture
def astrid(company):
    return make_employee(company)


@pytest.fixture
def bjorn(company):
    return make_employee(company, name="Björn Åkesson", personnummer="198112172385", email="bjorn@example.se")


def calculated_run(company, month: int):
    run = service.create_run(company, date(2026, month, 1), date(2026, month, 25))
    service.calculate_run(run)
    return run


def send_to_min_lon(run, user):
    """What Send payslips → Not now does: every payslip of the run published in Min lön."""
    dispatch.request_send(run, user, min_lon_only=True)
    tasks.drain()


def send_to_kivra(run, user, state="delivered"):
    """A send Kivra has answered, as the engine leaves it (no Kivra needed)."""
    send = PayslipSend(company_id=run.company_id, run_id=run.id, channel="kivra", state="queued",
                       requested_by_id=user.id)
    db.session.add(send)
    db.session.flush()
    for payslip in run.payslips:
        version = payslip.current_version
        db.session.add(Dispatch(company_id=run.company_id, send_id=send.id, run_id=run.id, payslip_id=payslip.id,
                                version_id=version.id, employee_id=payslip.employee_id, channel="kivra",
                                state=state, routed=True, finished_at=None if state == "queued" else utcnow()))
    db.session.commit()


@pytest.fixture
def sent(company, admin, astrid, bjorn):
    """October published in Min lön, November delivered to Kivra, for both employees."""
    send_to_min_lon(calculated_run(company, 10), admin)
    send_to_kivra(calculated_run(company, 11), admin)


def invite(as_user, employee) -> str:
    """Invite from the employee register; the link as the e-mail in the outbox gives it."""
    response = as_user.post(f"/employees/{employee.id}/min-lon-invitation")
    assert response.status_code == 303 and response.location == "/employees"
    email = db.session.scalars(select(OutboundEmail).order_by(OutboundEmail.id.desc())).first()
    assert email.to_address == employee.email
    return LINK.search(email.body).group(1)


class Employee(Client):
    """An employee's browser: language chosen first, then the invitation link or Min lön's login."""

    def __init__(self, flask_client, lang):
        super().__init__(flask_client)
        self.token = self.csrf_from(self.raw.get("/min-lon/login"))
        self.raw.post("/language", data={"locale": lang, "csrf_token": self.token, "next": "/min-lon/login"})

    def accept(self, link, password=NEW_PASSWORD):
        self.token = self.csrf_from(self.raw.get(link))
        return self._signed_in(self.post(link, {"password": password, "confirm": password}))

    def sign_in(self, email, password=NEW_PASSWORD):
        return self._signed_in(self.post("/min-lon/login", {"email": email, "password": password}))

    def _signed_in(self, response):
        """Signing in starts a fresh session with a new CSRF token: the next form carries that one."""
        if response.status_code == 303:
            self.token = self.csrf_from(self.raw.get("/min-lon/settings"))
        return response


@pytest.fixture
def employee_browser(app, lang):
    return lambda: Employee(app.test_client(), lang)


@pytest.fixture
def as_astrid(as_admin, astrid, employee_browser, sent):
    browser = employee_browser()
    assert browser.accept(invite(as_admin, astrid)).status_code == 303
    return browser


def test_invitation_to_password_to_own_payslips_and_pdf(as_admin, astrid, sent, employee_browser, words, lang):
    response = as_admin.post(f"/employees/{astrid.id}/min-lon-invitation")
    assert response.status_code == 303
    page = text(as_admin.get("/employees"))
    assert f"{words['invited']} astrid@example.se" in page and words["queued"] in page  # not "sent": it is not, yet
    email = db.session.scalars(select(OutboundEmail)).one()
    assert email.to_address == "astrid@example.se"
    assert "Min lön" in email.subject and "Demo AB" in email.body
    assert not re.search(r"1212\D?1212", email.subject + email.body)  # no personnummer, in any form
    link = LINK.search(email.body).group(1)
    _valid, claims = invitations.LINKS._serializer().loads_unsafe(link.rsplit("/", 1)[1])
    assert set(claims) == {"employee", "nonce"} and claims["employee"] == astrid.id  # nothing else in the link

    browser = employee_browser()
    page = browser.raw.get(link)
    assert page.status_code == 200 and words["choose"] in text(page)
    assert f'<html lang="{lang}">' in page.get_data(as_text=True)
    response = browser.accept(link)
    assert response.status_code == 303 and response.location == "/min-lon/"

    listing = browser.get("/min-lon/")
    assert listing.status_code == 200
    body = text(listing)
    assert words["mine"] in body and "Astrid Lindqvist" in body
    assert body.index(words["nov"]) < body.index(words["oct"])  # newest first
    november, october = body.split(words["oct"])
    assert words["kivra"] in november and words["payout"] in november and words["net"] in november
    assert words["minlon"] in october
    assert "Björn" not in body

    links = re.findall(r'href="(/min-lon/payslips/\d+/v1\.pdf)"', listing.get_data(as_text=True))
    assert len(links) == 2
    pdf = browser.get(links[0])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    disposition = pdf.headers["Content-Disposition"]
    assert disposition.startswith("inline;") and "2026-11" in disposition and "1212" not in disposition
    reader = PdfReader(io.BytesIO(pdf.data))
    assert "Astrid Lindqvist" in reader.pages[0].extract_text()


def test_the_list_is_a_fragment_for_htmx(as_astrid, words):
    response = as_astrid.get("/min-lon/", htmx=True)
    assert response.status_code == 200
    assert "<html" not in response.get_data(as_text=True)
    assert 'id="payslips"' in response.get_data(as_text=True) and words["nov"] in text(response)


def test_a_link_works_once(as_admin, astrid, employee_browser, words):
    link = invite(as_admin, astrid)
    browser = employee_browser()
    assert browser.accept(link).status_code == 303
    again = employee_browser()
    page = again.raw.get(link)
    assert page.status_code == 410 and words["used"] in text(page)
    token = again.csrf_from(again.raw.get("/min-lon/login"))
    response = again.raw.post(link, data={"password": "someone-else-123", "confirm": "someone-else-123",
                                          "csrf_token": token})
    assert response.status_code == 410
    assert again.sign_in(astrid.email, "someone-else-123").status_code == 422
    assert again.sign_in(astrid.email).status_code == 303


def test_an_expired_link_is_refused_with_a_message(as_admin, astrid, employee_browser, words, monkeypatch):
    link = invite(as_admin, astrid)
    issued = links.clock()
    monkeypatch.setattr(links, "clock", lambda: issued + timedelta(days=7).total_seconds() - 60)
    assert employee_browser().raw.get(link).status_code == 200  # a minute to spare
    monkeypatch.setattr(links, "clock", lambda: issued + timedelta(days=7, seconds=1).total_seconds())
    browser = employee_browser()
    page = browser.raw.get(link)
    assert page.status_code == 410 and words["expired"] in text(page)
    response = browser.post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 410
    assert db.session.scalar(select(PortalAccount.password_hash)) is None


def test_a_new_invitation_replaces_the_earlier_link(as_admin, astrid, employee_browser, words):
    first = invite(as_admin, astrid)
    second = invite(as_admin, astrid)
    assert first != second
    browser = employee_browser()
    assert browser.raw.get(first).status_code == 410
    assert browser.accept(second).status_code == 303


def test_a_tampered_link_is_refused(as_admin, astrid, employee_browser):
    link = invite(as_admin, astrid)
    assert employee_browser().raw.get(link[:-2] + ("AA" if not link.endswith("AA") else "BB")).status_code == 410
    assert employee_browser().raw.get("/min-lon/invitation/nonsense").status_code == 410


def test_an_employee_without_e_mail_cannot_be_invited(as_admin, company, words):
    nobody = make_employee(company, name="Utan Post", personnummer="198112172385", email=None)
    page = as_admin.get("/employees")
    assert f"/employees/{nobody.id}/min-lon-invitation" not in page.get_data(as_text=True)
    response = as_admin.post(f"/employees/{nobody.id}/min-lon-invitation")
    assert response.status_code == 303
    assert f"Utan Post {words['no_email']}" in text(as_admin.get("/employees"))
    assert db.session.scalar(select(OutboundEmail)) is None


def test_a_payroll_user_may_invite_and_the_register_shows_the_state(as_payroll, astrid, employee_browser, lang):
    invited = {"sv": "Inbjuden", "en": "Invited"}[lang]
    active = {"sv": "Aktiv", "en": "Active"}[lang]
    link = invite(as_payroll, astrid)
    assert invited in text(as_payroll.get("/employees"))
    employee_browser().accept(link)
    assert active in text(as_payroll.get("/employees"))


def test_another_companys_employee_cannot_be_invited(as_admin, other_company):
    theirs = make_employee(other_company, name="Hemlig Person", email="hemlig@example.se")
    assert as_admin.post(f"/employees/{theirs.id}/min-lon-invitation").status_code == 404
    assert db.session.scalar(select(OutboundEmail)) is None


def test_the_invitation_is_logged_without_address_or_personnummer(app, as_admin, astrid, capsys):
    """Development reads its e-mail in the mailbox (tests/test_mail.py); the log says only that one was queued."""
    invite(as_admin, astrid)
    printed = capsys.readouterr().err
    assert "e-mail invitation queued" in printed
    assert "astrid@example.se" not in printed and "191212" not in printed and "/min-lon/invitation/" not in printed


@pytest.mark.parametrize("htmx", [False, True])
def test_wrong_password_says_so(as_astrid, employee_browser, astrid, words, htmx):
    browser = employee_browser()
    response = browser.post("/min-lon/login", {"email": astrid.email, "password": "wrong-password"}, htmx=htmx)
    assert response.status_code == 422
    assert words["wrong"] in text(response)
    assert ("<html" in response.get_data(as_text=True)) is not htmx
    assert browser.get("/min-lon/").status_code == 302


def test_log_in_and_out(as_astrid, employee_browser, astrid, lang):
    browser = employee_browser()
    response = browser.sign_in(astrid.email.upper())
    assert response.status_code == 303 and response.location == "/min-lon/"
    page = browser.get("/min-lon/")
    assert page.status_code == 200 and f'<html lang="{lang}">' in page.get_data(as_text=True)
    assert browser.get("/min-lon/logout").status_code == 405
    assert browser.post("/min-lon/logout").status_code == 303
    response = browser.get("/min-lon/")
    assert response.status_code == 302 and response.location.startswith("/min-lon/login")


def test_login_follows_only_a_min_lon_next(as_astrid, employee_browser, astrid):
    browser = employee_browser()
    data = {"email": astrid.email, "password": NEW_PASSWORD}
    assert browser._signed_in(browser.post("/min-lon/login", {**data, "next": "/runs"})).location == "/min-lon/"
    assert browser.post("/min-lon/logout").status_code == 303
    browser.token = browser.csrf_from(browser.raw.get("/min-lon/login"))
    assert browser.post("/min-lon/login", {**data, "next": "//evil.example/min-lon/"}).location == "/min-lon/"


@pytest.mark.parametrize("password, confirm, message", [
    ("short", "short", "short"), ("long enough 1", "long enough 2", "mismatch"),
])
def test_the_password_is_checked(as_admin, astrid, employee_browser, words, password, confirm, message):
    link = invite(as_admin, astrid)
    browser = employee_browser()
    browser.token = browser.csrf_from(browser.raw.get(link))
    response = browser.post(link, {"password": password, "confirm": confirm})
    assert response.status_code == 422 and words[message] in text(response)
    assert browser.accept(link).status_code == 303  # the link still works


def test_an_employee_sees_only_their_own_payslips(as_admin, astrid, bjorn, sent, employee_browser):
    browser = employee_browser()
    browser.accept(invite(as_admin, astrid))
    theirs = db.session.scalars(select(Dispatch).where(Dispatch.employee_id == bjorn.id)).all()
    assert theirs
    for row in theirs:
        response = browser.get(f"/min-lon/payslips/{row.payslip_id}/v1.pdf")
        assert response.status_code == 404
        assert "Björn" not in response.get_data(as_text=True)
    assert browser.get(f"/min-lon/payslips/{theirs[0].payslip_id}/v2.pdf").status_code == 404


def test_a_company_user_cannot_use_min_lon(as_admin, sent):
    row = db.session.scalars(select(Dispatch)).first()
    for url in ("/min-lon/", f"/min-lon/payslips/{row.payslip_id}/v1.pdf"):
        response = as_admin.get(url)
        assert response.status_code == 302 and response.location.startswith("/min-lon/login"), url
    response = as_admin.get("/min-lon/", htmx=True)
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/min-lon/login"
    assert as_admin.get("/runs").status_code == 200  # still signed in to the company's pages


def test_an_employee_cannot_open_company_pages(as_astrid, company, astrid):
    run = db.session.scalars(select(Dispatch)).first()
    gets = ("/", "/runs", "/employees", "/solutions", f"/employees/{astrid.id}/edit", f"/runs/{run.run_id}",
            f"/payslips/{run.payslip_id}", f"/payslips/{run.payslip_id}/v1.pdf")
    for url in gets:
        response = as_astrid.get(url)
        assert response.status_code == 302 and response.location == "/min-lon/login", url
        assert as_astrid.get(url, htmx=True).headers["HX-Redirect"] == "/min-lon/login"
    for url in (f"/employees/{astrid.id}/min-lon-invitation", f"/runs/{run.run_id}/post", "/logout"):
        assert as_astrid.post(url).status_code == 302, url
    assert db.session.scalar(select(OutboundEmail.id).order_by(OutboundEmail.id.desc())) == 1
    # The company's login page is its own: it does not send the employee round in a circle.
    assert as_astrid.get("/login").status_code == 200
    assert as_astrid.get("/min-lon/login").location == "/min-lon/"


def test_the_two_kinds_of_session_are_told_apart(app, admin, astrid, as_astrid):
    account = db.session.scalar(select(PortalAccount))
    version = account.session_version  # choosing the password counted it up once
    assert account.get_id() == f"employee:{astrid.id}:{version}" and admin.get_id() == f"user:{admin.id}:0"
    assert load_user(f"user:{admin.id}:0").principal == "user"
    assert load_user(f"employee:{astrid.id}:{version}").principal == "employee"
    assert load_user(f"user:{admin.id}").principal == "user"  # a session from before session versions
    assert load_user(f"user:{admin.id}:1") is None and load_user(f"employee:{astrid.id}:{version + 1}") is None
    assert load_user(f"employee:{admin.id + 100}") is None
    assert load_user(str(admin.id)).principal == "user"  # a session from before Min lön
    assert load_user("admin:1") is None and load_user("user:x") is None


def test_signing_in_to_one_side_signs_out_of_the_other(as_admin, admin, astrid, as_astrid):
    as_admin.token = as_admin.csrf_from(as_admin.raw.get("/min-lon/login"))
    assert as_admin.post("/min-lon/login", {"email": astrid.email, "password": NEW_PASSWORD}).status_code == 303
    assert as_admin.get("/min-lon/").status_code == 200
    assert as_admin.get("/runs").location == "/min-lon/login"


def test_portal_posts_need_the_csrf_token(as_admin, astrid, employee_browser, as_astrid):
    browser = employee_browser()
    assert as_astrid.post("/min-lon/logout", csrf=False).status_code == 400
    assert as_astrid.get("/min-lon/").status_code == 200
    link = invite(as_admin, astrid)  # a new invitation: Astrid's sessions end
    assert browser.post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, csrf=False).status_code == 400
    assert browser.post("/min-lon/login", {"email": astrid.email, "password": NEW_PASSWORD},
                        csrf=False).status_code == 400
    assert browser.accept(link).status_code == 303  # nothing was used up


def test_the_language_switch_works_in_min_lon(as_astrid, lang):
    other = "en" if lang == "sv" else "sv"
    response = as_astrid.post("/language", {"locale": other, "next": "/min-lon/"})
    assert response.status_code == 303 and response.location == "/min-lon/"
    assert f'<html lang="{other}">' in as_astrid.get("/min-lon/").get_data(as_text=True)
    assert db.session.scalar(select(PortalAccount.locale)) == other


def test_kivra_rejected_and_failed_payslips_are_readable(company, admin, astrid, as_admin, employee_browser, words):
    send_to_kivra(calculated_run(company, 9), admin, state="rejected")
    send_to_kivra(calculated_run(company, 8), admin, state="failed")
    browser = employee_browser()
    browser.accept(invite(as_admin, astrid))
    page = browser.get("/min-lon/")
    assert text(page).count(words["not_delivered"]) == 2
    for url in re.findall(r'href="(/min-lon/payslips/\d+/v1\.pdf)"', page.get_data(as_text=True)):
        assert browser.get(url).mimetype == "application/pdf"


def test_payslips_not_yet_gone_are_not_shown(company, admin, astrid, as_admin, employee_browser, words):
    dispatch.request_send(calculated_run(company, 11), admin, min_lon_only=True,
                          scheduled_for=utcnow() + timedelta(days=3))
    tasks.drain()
    send_to_kivra(calculated_run(company, 10), admin, state="queued")
    assert all(row.finished_at is None for row in db.session.scalars(select(Dispatch)))  # due in three days
    browser = employee_browser()
    browser.accept(invite(as_admin, astrid))
    page = browser.get("/min-lon/")
    assert words["nov"] not in text(page) and words["oct"] not in text(page)
    payslip_ids = db.session.scalars(select(Dispatch.payslip_id)).all()
    for payslip_id in payslip_ids:
        assert browser.get(f"/min-lon/payslips/{payslip_id}/v1.pdf").status_code == 404


def test_a_correction_shows_as_such_once(company, admin, astrid, as_admin, employee_browser, words, lang):
    run = calculated_run(company, 11)
    send_to_min_lon(run, admin)
    payslip = run.payslips[0]
    payslip.lines.append(PayslipLine(kind="addition", description="Bonus", amount_ore=100_000))
    db.session.commit()
    service.correct(payslip)
    assert resends.send_corrections(run) == 1
    tasks.drain()
    browser = employee_browser()
    browser.accept(invite(as_admin, astrid))
    page = browser.get("/min-lon/")
    body = text(page)
    assert body.count(words["nov"]) == 1 and words["correction"] in body
    html = page.get_data(as_text=True)
    assert f"/min-lon/payslips/{payslip.id}/v2.pdf" in html and f"/min-lon/payslips/{payslip.id}/v1.pdf" in html
    pdf = browser.get(f"/min-lon/payslips/{payslip.id}/v2.pdf")
    assert pdf.mimetype == "application/pdf"
    assert "Rättelse, version 2 / Correction, version 2" in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()


def test_a_superseded_version_that_never_went_is_not_shown(company, admin, astrid, as_admin, employee_browser, words):
    """A scheduled send corrected before its time: version 1 cancelled (superseded), version 2 published."""
    run = calculated_run(company, 11)
    payslip = run.payslips[0]
    payslip.lines.append(PayslipLine(kind="addition", description="Bonus", amount_ore=100_000))
    db.session.commit()
    service.correct(payslip)
    send = PayslipSend(company_id=company.id, run_id=run.id, channel="minlon", state="queued", requested_by_id=admin.id)
    db.session.add(send)
    db.session.flush()
    for version, state in zip(payslip.versions, ("cancelled", "published")):
        db.session.add(Dispatch(company_id=company.id, send_id=send.id, run_id=run.id, payslip_id=payslip.id,
                                version_id=version.id, employee_id=astrid.id, channel="minlon", state=state,
                                reason="superseded" if state == "cancelled" else "not_now", finished_at=utcnow()))
    db.session.commit()
    browser = employee_browser()
    browser.accept(invite(as_admin, astrid))
    page = browser.get("/min-lon/")
    html = page.get_data(as_text=True)
    assert f"/min-lon/payslips/{payslip.id}/v2.pdf" in html and f"/min-lon/payslips/{payslip.id}/v1.pdf" not in html
    # Version 1 never reached Astrid: version 2 is simply her payslip, in the list and in its PDF.
    assert text(page).count(words["nov"]) == 1 and words["correction"] not in text(page)
    pdf = PdfReader(io.BytesIO(browser.get(f"/min-lon/payslips/{payslip.id}/v2.pdf").data)).pages[0].extract_text()
    assert "Lönebesked / Payslip" in pdf and "Correction" not in pdf and "Rättelse" not in pdf
    assert browser.get(f"/min-lon/payslips/{payslip.id}/v1.pdf").status_code == 404


def test_no_payslips_yet(as_admin, astrid, employee_browser, lang):
    browser = employee_browser()
    browser.accept(invite(as_admin, astrid))
    empty = {"sv": "Inga lönebesked ännu", "en": "No payslips yet"}[lang]
    assert empty in text(browser.get("/min-lon/"))


def test_a_rotated_secret_key_keeps_sessions_and_links_made_with_the_old_one(app, as_admin, astrid, employee_browser):
    """Rotating SECRET_KEY with the old key in SECRET_KEY_FALLBACKS signs everyone out of nothing: a signed-in
    session and an invitation link made before the rotation still work after it."""
    link = invite(as_admin, astrid)
    app.config.update(SECRET_KEY_FALLBACKS=[app.config["SECRET_KEY"]], SECRET_KEY="the-new-key-after-rotation")
    app.secret_key = app.config["SECRET_KEY"]
    assert as_admin.get("/employees").status_code == 200
    assert employee_browser().accept(link).status_code == 303
