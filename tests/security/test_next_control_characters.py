"""A `next` with CR, LF or another control character is a bad request (issue 17, item 12): 400 with the error page in
the person's language, never a 500 and never a header split. Both sign-in pages and the language switch."""
import pytest

from tests.conftest import PASSWORD, Client, text
from tests.test_signin import employee  # noqa: F401 (the fixture: an employee with a Min lön password)

BAD = ["/runs\r\nSet-Cookie: x=1", "/min-lon/\nx", "/runs\rx", "/runs\x00", "/runs\tx", "/min-lon/\x7f"]
SAID = {"sv": "Felaktig begäran", "en": "Bad request"}


@pytest.fixture(params=["/login", "/min-lon/login"])
def login(request, admin, employee):
    return request.param, admin.email if request.param == "/login" else employee.email


def browser_in(app, lang, page) -> Client:
    browser = Client(app.test_client())
    browser.token = browser.csrf_from(browser.raw.get(page))
    assert browser.post("/language", {"locale": lang, "next": page}).status_code == 303
    return browser


@pytest.mark.parametrize("target", BAD)
def test_signing_in_with_a_control_character_in_next_is_a_bad_request(app, login, lang, target):
    page, email = login
    browser = browser_in(app, lang, page)
    response = browser.post(page, {"email": email, "password": PASSWORD, "next": target})
    assert response.status_code == 400 and SAID[lang] in text(response)
    assert "Set-Cookie: x" not in str(response.headers)


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("target", BAD[:3])
def test_the_language_switch_refuses_a_control_character_in_next(app, lang, target, htmx):
    browser = browser_in(app, lang, "/login")
    response = browser.post("/language", {"locale": lang, "next": target}, htmx=htmx)
    assert response.status_code == 400 and SAID[lang] in text(response)


def test_a_sign_in_page_opened_with_such_a_next_is_a_bad_request(app, login, lang):
    page, _ = login
    browser = browser_in(app, lang, page)
    assert browser.get(page, query_string={"next": "/runs\r\nx"}).status_code == 400


def test_an_ordinary_next_still_leads_there(app, login, lang):
    page, email = login
    inside = "/employees?x=1" if page == "/login" else "/min-lon/?x=1"
    response = browser_in(app, lang, page).post(page, {"email": email, "password": PASSWORD, "next": inside})
    assert (response.status_code, response.location) == (303, inside)
