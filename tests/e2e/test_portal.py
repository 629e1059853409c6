"""Min lön in a real browser, in Swedish and in English: invited from the register, a password, the payslips."""
import io
import re
import time
from datetime import timedelta

from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from kivra.accounts.models import Company, User, utcnow
from kivra.dispatch import service as dispatch
from kivra.dispatch.models import Dispatch, PayslipSend
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.mail.models import OutboundEmail
from kivra.payroll import service
from kivra.payroll.models import PayrollRun

SCREENSHOTS = "test-artifacts"
PASSWORD = "mina-lönebesked-1"
PORTAL = {
    "sv": {"invite": "Bjud in Astrid Lindqvist", "invited": "Inbjudan till Min lön för",
           "new": "Nytt lösenord", "repeat": "Upprepa lösenordet", "save": "Spara lösenordet och logga in",
           "mine": "Mina lönebesked", "kivra": "Skickat till din Kivra", "minlon": "I Min lön", "pdf": "Öppna PDF",
           "logout": "Logga ut", "login": "Logga in", "login_title": "Logga in i Min lön",
           "welcome": "Välkommen till Min lön!"},
    "en": {"invite": "Invite Astrid Lindqvist", "invited": "The invitation to Min lön for",
           "new": "New password", "repeat": "Repeat the password", "save": "Save password and log in",
           "mine": "My payslips", "kivra": "Sent to your Kivra", "minlon": "In Min lön", "pdf": "Open PDF",
           "logout": "Log out", "login": "Log in", "login_title": "Log in to Min lön",
           "welcome": "Welcome to Min lön!"},
}


def send_payslips(app) -> None:
    """The demo run published in Min lön (by the live worker), and last month's payslip to Astrid's Kivra."""
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "admin@demo.se"))
        current = db.session.scalar(select(PayrollRun))
        dispatch.request_send(current, admin, min_lon_only=True)
        period = (current.period - timedelta(days=1)).replace(day=1)
        earlier = service.create_run(db.session.get(Company, current.company_id), period, period.replace(day=25))
        service.calculate_run(earlier)
        astrid = db.session.scalar(select(Employee).where(Employee.email == "astrid@demo.se"))
        payslip = next(p for p in earlier.payslips if p.employee_id == astrid.id)
        send = PayslipSend(company_id=earlier.company_id, run_id=earlier.id, channel="kivra", state="queued",
                           requested_by_id=admin.id)
        db.session.add(send)
        db.session.flush()
        db.session.add(Dispatch(company_id=earlier.company_id, send_id=send.id, run_id=earlier.id,
                                payslip_id=payslip.id, version_id=payslip.current_version.id, employee_id=astrid.id,
                                channel="kivra", state="delivered", routed=True, finished_at=utcnow()))
        db.session.commit()
        deadline = time.monotonic() + 20
        while db.session.scalar(select(Dispatch.id).where(Dispatch.run_id == current.id,
                                                          Dispatch.state != "published")):
            assert time.monotonic() < deadline, "the worker did not publish the run in Min lön"
            time.sleep(0.1)
            db.session.rollback()
        db.session.remove()


def invitation_link(app, to: str) -> str:
    """The link as the e-mail in the outbox gives it."""
    with app.app_context():
        email = db.session.scalars(select(OutboundEmail).where(OutboundEmail.to_address == to)
                                   .order_by(OutboundEmail.id.desc())).first()
        db.session.remove()
    return re.search(r"http://\S+/min-lon/invitation/\S+", email.body).group(0)


def test_invited_employee_chooses_a_password_and_reads_their_payslips(signed_in, browser, live_app, words, lang):
    app, live_url = live_app
    text = PORTAL[lang]
    send_payslips(app)

    admin = signed_in
    admin.get_by_role("link", name=words["employees"], exact=True).click()
    admin.get_by_role("button", name=text["invite"]).click()
    expect(admin.get_by_text(text["invited"])).to_be_visible()
    admin.screenshot(path=f"{SCREENSHOTS}/min-lon-invited-{lang}.png", full_page=True)

    employee = browser.new_context(locale="sv-SE").new_page()
    employee.goto(invitation_link(app, "astrid@demo.se"))
    if lang == "en":
        employee.get_by_role("button", name="English").click()
    employee.get_by_label(text["new"]).fill(PASSWORD)
    employee.get_by_label(text["repeat"]).fill(PASSWORD[:-1])
    employee.get_by_role("button", name=text["save"]).click()
    expect(employee.get_by_label(text["repeat"])).to_have_attribute("aria-invalid", "true")
    employee.screenshot(path=f"{SCREENSHOTS}/min-lon-choose-password-{lang}.png", full_page=True)
    employee.get_by_label(text["new"]).fill(PASSWORD)
    employee.get_by_label(text["repeat"]).fill(PASSWORD)
    employee.get_by_role("button", name=text["save"]).click()

    expect(employee).to_have_url(f"{live_url}/min-lon/")
    expect(employee.get_by_text(text["welcome"])).to_be_visible()
    expect(employee.get_by_role("heading", level=1)).to_have_text(text["mine"])
    items = employee.get_by_role("listitem")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text(text["minlon"])  # this month's, newest first
    expect(items.nth(1)).to_contain_text(text["kivra"])
    employee.screenshot(path=f"{SCREENSHOTS}/min-lon-payslips-{lang}.png", full_page=True)

    href = items.nth(0).get_by_role("link", name=text["pdf"]).get_attribute("href")
    response = employee.request.get(f"{live_url}{href}")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    assert "Astrid Lindqvist" in PdfReader(io.BytesIO(response.body())).pages[0].extract_text()

    # Another day: out, and in again through Min lön's own login.
    employee.get_by_role("button", name=text["logout"]).click()
    expect(employee.get_by_role("heading", level=1)).to_have_text(text["login_title"])
    employee.screenshot(path=f"{SCREENSHOTS}/min-lon-login-{lang}.png", full_page=True)
    employee.get_by_label(words["email"]).fill("astrid@demo.se")
    employee.get_by_label(words["password"]).fill(PASSWORD)
    employee.get_by_role("button", name=text["login"], exact=True).click()
    expect(employee).to_have_url(f"{live_url}/min-lon/")
    expect(employee.get_by_role("listitem")).to_have_count(2)
    employee.context.close()
