"""The two sign-in pages (company users at /login, employees at /min-lon/login) share one flow from kivra/web/signin.py:
throttled, the password checked, the language chosen before signing in kept, and one rule for where `next` may lead."""
import pytest

from kivra.accounts.models import User, utcnow
from kivra.employees.portal_account import PortalAccount
from kivra.extensions import db
from kivra.web import signin
from tests.conftest import PASSWORD, PASSWORD_HASH, Client, make_employee, text

WRONG = {"sv": "Fel e-postadress eller lösenord.", "en": "Wrong e-mail address or password."}
OTHER = {"sv": "en", "en": "sv"}


@pytest.fixture
def employee(company):
    person = make_employee(company)
    db.session.add(PortalAccount(employee_id=person.id, password_hash=PASSWORD_HASH, password_set_at=utcnow()))
    db.session.commit()
    return person


@pytest.fixture(params=["company", "min-lon"])
def page(request, admin, employee):
    """Each sign-in page: its path, who signs in, where they land, a `next` inside it and one outside."""
    if request.param == "company":
        return {"login": "/login", "email": admin.email, "home": "/runs", "inside": "/employees",
                "outside": "//evil.example/runs", "account": lambda: db.session.get(User, admin.id)}
    return {"login": "/min-lon/login", "email": employee.email, "home": "/min-lon/", "inside": "/min-lon/?x=1",
            "outside": "/runs", "account": lambda: db.session.query(PortalAccount).one()}


@pytest.mark.parametrize("target, expected", [
    ("/employees", "/employees"), ("/runs?month=2026-03", "/runs?month=2026-03"), ("//evil.example/x", "/runs"),
    ("/\\evil.example/x", "/runs"), ("https://evil.example/", "/runs"), ("", "/runs"), (None, "/runs"),
    ("runs", "/runs"),
])
def test_one_rule_for_where_next_may_lead_on_the_company_side(app, target, expected):
    with app.test_request_context():
        assert signin.safe_next(target) == expected


@pytest.mark.parametrize("target, expected", [
    ("/min-lon/", "/min-lon/"), ("/min-lon/payslips/1/v1.pdf", "/min-lon/payslips/1/v1.pdf"), ("/runs", "/min-lon/"),
    ("//evil.example/min-lon/", "/min-lon/"), ("/min-lon/\\evil", "/min-lon/"), ("/min-lon", "/min-lon/"),
])
def test_the_same_rule_keeps_min_lon_inside_min_lon(app, target, expected):
    with app.test_request_context():
        assert signin.safe_next(target, within="/min-lon/", fallback="portal.index") == expected


def test_both_sign_in_pages_are_the_one_flow():
    from kivra.web.accounts import routes as accounts
    from kivra.web.portal import routes as portal

    assert {accounts.SIGN_IN.principal, portal.SIGN_IN.principal} == {"user", "employee"}
    assert isinstance(accounts.SIGN_IN, signin.SignInPage) and isinstance(portal.SIGN_IN, signin.SignInPage)
    assert not hasattr(accounts, "safe_next") or accounts.safe_next is signin.safe_next
    assert not hasattr(portal, "safe_next") and not hasattr(portal, "_sign_in")


@pytest.mark.parametrize("htmx", [False, True])
def test_each_page_refuses_a_wrong_password_in_the_chosen_language(app, page, lang, htmx):
    client = Client(app.test_client())
    token = client.csrf_from(client.raw.get(page["login"]))
    client.raw.post("/language", data={"locale": lang, "csrf_token": token, "next": page["login"]})
    response = client.raw.post(page["login"], data={"email": page["email"], "password": "nope", "csrf_token": token},
                               headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code == 422 and WRONG[lang] in text(response)
    assert ("<html" in response.get_data(as_text=True)) is not htmx


def test_each_page_signs_in_keeps_the_chosen_language_and_follows_only_its_own_next(app, page, lang):
    page["account"]().locale = OTHER[lang]
    db.session.commit()
    client = Client(app.test_client())
    token = client.csrf_from(client.raw.get(page["login"]))
    client.raw.post("/language", data={"locale": lang, "csrf_token": token, "next": page["login"]})
    data = {"email": page["email"].upper(), "password": PASSWORD, "csrf_token": token}
    response = client.raw.post(page["login"], data={**data, "next": page["inside"]})
    assert (response.status_code, response.location) == (303, page["inside"])
    assert page["account"]().locale == lang, "the language chosen on the sign-in page is kept"
    assert client.raw.get(page["login"]).location == page["home"]  # signed in: the page sends you home
    token = client.csrf_from(client.raw.get(page["home"]))  # signing in made a new one
    assert client.raw.post(page["login"].replace("login", "logout"), data={"csrf_token": token}).status_code == 303
    token = client.csrf_from(client.raw.get(page["login"]))
    response = client.raw.post(page["login"], data={**data, "csrf_token": token, "next": page["outside"]})
    assert (response.status_code, response.location) == (303, page["home"])
