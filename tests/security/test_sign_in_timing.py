"""No user enumeration by timing on the sign-in pages (issue 17, item 5): an unknown address, a known one with a
wrong password, a deactivated user and one who has not chosen a password yet each cost exactly one password-hash
check, on both pages. Counted, not timed: a timing test would be flaky on a shared machine."""
import sys

import pytest
import werkzeug.security
from werkzeug.security import generate_password_hash

from kivra.accounts.models import utcnow
from kivra.employees.portal_account import PortalAccount
from kivra.extensions import db
from tests.conftest import PASSWORD, PASSWORD_HASH, Client, make_employee, make_user


@pytest.fixture
def hash_checks(app, monkeypatch) -> list:
    """Every check_password_hash the app makes, wherever it imported the function."""
    calls, real = [], werkzeug.security.check_password_hash

    def counting(password_hash, password):
        calls.append(password_hash)
        return real(password_hash, password)

    for name, module in list(sys.modules.items()):
        if name.startswith("kivra") and getattr(module, "check_password_hash", None) is real:
            monkeypatch.setattr(module, "check_password_hash", counting)
    return calls


@pytest.fixture
def people(company):
    """Company users and Min lön accounts in each state, by the address they sign in with."""
    make_user(company, "admin", email="active@example.se")
    make_user(company, "payroll", email="deactivated@example.se").deactivated_at = utcnow()
    make_user(company, "payroll", email="invited@example.se").password_hash = None
    db.session.commit()
    for email, password_hash in (("astrid@example.se", PASSWORD_HASH), ("bjorn@example.se", None)):
        person = make_employee(company, email=email, personnummer="191212121212" if password_hash else "198112189876")
        db.session.add(PortalAccount(employee_id=person.id, password_hash=password_hash, password_set_at=utcnow()))
    db.session.commit()


def sign_in(app, login: str, email: str, password: str):
    browser = Client(app.test_client())
    browser.token = browser.csrf_from(browser.raw.get(login))
    return browser.post(login, {"email": email, "password": password})


@pytest.mark.parametrize("login, email, password, status", [
    ("/login", "nobody@example.se", PASSWORD, 422),
    ("/login", "active@example.se", "wrong password", 422),
    ("/login", "active@example.se", PASSWORD, 303),
    ("/login", "deactivated@example.se", PASSWORD, 422),
    ("/login", "invited@example.se", PASSWORD, 422),
    ("/min-lon/login", "nobody@example.se", PASSWORD, 422),
    ("/min-lon/login", "astrid@example.se", "wrong password", 422),
    ("/min-lon/login", "astrid@example.se", PASSWORD, 303),
    ("/min-lon/login", "bjorn@example.se", PASSWORD, 422),  # invited, no password chosen yet
])
def test_every_sign_in_checks_one_password_hash(app, people, hash_checks, login, email, password, status):
    assert sign_in(app, login, email, password).status_code == status
    assert len(hash_checks) == 1, hash_checks


def test_the_stand_in_hash_is_made_as_production_hashes_passwords(app):
    from kivra.accounts import password_hashes

    method = generate_password_hash("x").split("$")[0]  # werkzeug's default: what set_password uses
    assert password_hashes.stand_in().split("$")[0] == method and method.startswith("scrypt")
    assert password_hashes.stand_in() is password_hashes.stand_in()  # made once per process
