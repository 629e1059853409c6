"""Every link an e-mail carries starts with PUBLIC_URL, whatever Host or X-Forwarded-Host the request came with
(anyone can send any Host): a Min lön invitation, a colleague's invitation, both password resets, the sign-up
confirmation and the payslip notice."""
import re

import pytest
from flask import request
from sqlalchemy import select

from kivra.dispatch import notices
from kivra.employees.portal_account import PortalAccount
from kivra.extensions import db
from kivra.mail.models import MailKind, OutboundEmail
from kivra.web import PUBLIC_ENDPOINTS
from tests.conftest import Client, RequestPerContextClient, make_employee
from tests.test_signup import FORM as SIGN_UP_FORM

PUBLIC = "https://lon.example.se"
EVIL = "evil.example"
URL = re.compile(r"https?://[^\s<>\"']+")


class EvilHostClient(RequestPerContextClient):
    """A browser whose every request names another host, directly and through a proxy's header."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("base_url", f"http://{EVIL}")
        kwargs["headers"] = {**dict(kwargs.get("headers") or {}), "X-Forwarded-Host": EVIL, "X-Forwarded-Proto": "http"}
        return super().open(*args, **kwargs)


@pytest.fixture
def evil(app):
    app.config["PUBLIC_URL"] = PUBLIC
    app.test_client_class = EvilHostClient
    return lambda: Client(app.test_client())


def only_public_links(kind: MailKind) -> list[str]:
    db.session.expire_all()
    emails = db.session.scalars(select(OutboundEmail).where(OutboundEmail.kind == kind)).all()
    assert emails, f"no {kind} e-mail was written"
    links = [link for email in emails for link in URL.findall(email.body)]
    assert links, f"the {kind} e-mail has no link"
    for email in emails:
        assert EVIL not in email.body and EVIL not in email.subject
    assert all(link.startswith(PUBLIC + "/") for link in links), links
    return links


def test_the_request_really_names_the_evil_host(app, evil):
    """The client does what it says: the app sees evil.example as the request's host."""
    app.add_url_rule("/_host", "host_probe", lambda: request.host)
    PUBLIC_ENDPOINTS.add("host_probe")
    try:
        assert evil().raw.get("/_host").get_data(as_text=True) == EVIL
    finally:
        PUBLIC_ENDPOINTS.discard("host_probe")


def test_a_min_lon_invitation(app, evil, admin):
    astrid = make_employee(admin.company)
    browser = evil().login(admin)
    assert browser.post(f"/employees/{astrid.id}/min-lon-invitation").status_code == 303
    only_public_links(MailKind.INVITATION)


def test_a_colleagues_invitation(app, evil, admin):
    browser = evil().login(admin)
    response = browser.post("/users/invite", {"name": "Greta Gren", "email": "greta@demo.se", "role": "payroll"})
    assert response.status_code in (200, 303), response.status_code
    only_public_links(MailKind.USER_INVITATION)


def test_a_password_reset_on_the_company_sign_in_page(app, evil, admin):
    visitor = evil()
    visitor.token = visitor.csrf_from(visitor.raw.get("/forgot-password"))
    assert visitor.post("/forgot-password", {"email": admin.email}).status_code in (200, 303)
    only_public_links(MailKind.PASSWORD_RESET)


def test_a_password_reset_on_min_lons_sign_in_page(app, evil, admin):
    astrid = make_employee(admin.company)
    browser = evil().login(admin)
    browser.post(f"/employees/{astrid.id}/min-lon-invitation")
    visitor = evil()
    visitor.token = visitor.csrf_from(visitor.raw.get("/min-lon/forgot-password"))
    assert visitor.post("/min-lon/forgot-password", {"email": astrid.email}).status_code in (200, 303)
    only_public_links(MailKind.PASSWORD_RESET)


def test_the_sign_up_confirmation(app, evil):
    visitor = evil()
    visitor.token = visitor.csrf_from(visitor.raw.get("/registrera"))
    assert visitor.post("/registrera", SIGN_UP_FORM).status_code in (204, 303)
    only_public_links(MailKind.SIGNUP_CONFIRMATION)


def test_the_payslip_notice_even_when_written_during_a_request(app, company):
    app.config["PUBLIC_URL"] = PUBLIC
    astrid = make_employee(company)
    db.session.add(PortalAccount(employee_id=astrid.id, password_hash="x", notify_new_payslips=True))
    db.session.commit()
    with app.test_request_context("/", base_url=f"http://{EVIL}", headers={"X-Forwarded-Host": EVIL}):
        assert notices.payslips_published(1, [(astrid.id, 1)]) == 1
        db.session.commit()
    assert only_public_links(MailKind.PAYSLIP_NOTICE) == [PUBLIC + "/min-lon/"]
