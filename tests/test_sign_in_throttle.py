"""Refused sign-ins are counted per account and per address; past the limit the form says to wait, in the person's
language, even for the right password. Successful sign-ins are never counted."""
import pytest

from tests.conftest import CSRF_INPUT, PASSWORD, make_user, text
from tests.test_auth import WRONG
from tests.test_portal import NEW_PASSWORD, invite

WAIT = {"sv": "För många misslyckade inloggningar. Vänta 15 minuter och försök igen.",
        "en": "Too many failed sign-ins. Wait 15 minutes and try again."}


class Browser:
    """Someone at a sign-in page, in their language, from one address."""

    def __init__(self, app, lang, page="/login", address="203.0.113.7"):
        self.raw, self.page = app.test_client(), page
        self.environ = {"REMOTE_ADDR": address}
        token = self._token()
        self.raw.post("/language", data={"locale": lang, "csrf_token": token, "next": page},
                      environ_base=self.environ)

    def _token(self) -> str:
        return CSRF_INPUT.search(self.raw.get(self.page, environ_base=self.environ).get_data(as_text=True)).group(1)

    def sign_in(self, email, password, htmx=False):
        return self.raw.post(self.page, data={"email": email, "password": password, "csrf_token": self._token()},
                             headers={"HX-Request": "true"} if htmx else {}, environ_base=self.environ)


@pytest.mark.parametrize("htmx", [False, True])
def test_the_eleventh_refused_attempt_on_an_account_waits_even_with_the_right_password(app, admin, lang, htmx):
    browser = Browser(app, lang)
    for _ in range(10):
        response = browser.sign_in(admin.email, "guess", htmx=htmx)
        assert response.status_code == 422 and WRONG[lang] in text(response)
    response = browser.sign_in(admin.email, PASSWORD, htmx=htmx)
    assert response.status_code == 429
    assert WAIT[lang] in text(response)
    assert int(response.headers["Retry-After"]) > 0
    assert ("<html" in response.get_data(as_text=True)) is not htmx  # the form alone for htmx, else the page
    assert browser.raw.get("/runs").status_code == 302  # not signed in


def test_successful_sign_ins_are_not_counted_and_other_accounts_are_not_locked_out(app, company, admin, lang):
    colleague = make_user(company, "payroll", email="lena@demo.se")
    browser = Browser(app, lang)
    for _ in range(9):
        assert browser.sign_in(admin.email, "guess").status_code == 422
    assert browser.sign_in(admin.email, PASSWORD).status_code == 303  # the tenth try is the right one
    other = Browser(app, lang)  # the same address, another account
    for _ in range(10):
        assert other.sign_in(colleague.email, "guess").status_code == 422
    assert other.sign_in(colleague.email, PASSWORD).status_code == 429
    assert Browser(app, lang).sign_in(admin.email.upper(), PASSWORD).status_code == 303  # still free to sign in


def test_an_address_trying_many_accounts_waits_after_fifty_refusals(app, admin, lang):
    browser = Browser(app, lang, address="198.51.100.20")
    for n in range(50):
        assert browser.sign_in(f"guess{n}@demo.se", "guess").status_code == 422
    response = browser.sign_in(admin.email, PASSWORD)
    assert response.status_code == 429 and WAIT[lang] in text(response)
    assert Browser(app, lang, address="198.51.100.21").sign_in(admin.email, PASSWORD).status_code == 303


def test_min_lon_sign_in_is_throttled_the_same_way(app, as_admin, company, lang):
    from tests.conftest import make_employee
    from tests.test_portal import Employee

    astrid = make_employee(company, name="Astrid Lindqvist", email="astrid@example.se")
    assert Employee(app.test_client(), lang).accept(invite(as_admin, astrid)).status_code == 303
    browser = Browser(app, lang, page="/min-lon/login")
    for _ in range(10):
        assert browser.sign_in("astrid@example.se", "guess").status_code == 422
    response = browser.sign_in("astrid@example.se", NEW_PASSWORD)
    assert response.status_code == 429 and WAIT[lang] in text(response)
    assert browser.raw.get("/min-lon/").status_code == 302  # not signed in
