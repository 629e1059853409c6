"""Error pages are the app's own, styled and in the person's language, page or htmx: 413 for a request too large
(1 MB, and the form-memory limit), 429 for too many requests, 500 for an unhandled exception (still logged, and
rendered even when the database session is broken)."""
import logging

import pytest
from flask import abort
from werkzeug.test import encode_multipart

from kivra.accounts.models import User
from kivra.extensions import db
from kivra.web import PUBLIC_ENDPOINTS
from tests.conftest import Client, text

STYLED = 'href="/static/css/app.css"'
WORDS = {
    "sv": {"413": "Formuläret är för stort", "429": "För många förfrågningar", "500": "Något gick fel",
           "500_text": "Ett fel uppstod hos oss och det har loggats."},
    "en": {"413": "The form is too large", "429": "Too many requests", "500": "Something went wrong",
           "500_text": "An error occurred on our side and it has been logged."},
}
TOO_LARGE = "x" * (1024 * 1024 + 1)  # over MAX_CONTENT_LENGTH (1 MB)
# Under 1 MB, over MAX_FORM_MEMORY_SIZE (500 000 bytes in one multipart text field; Werkzeug 3.1.9 does not apply it
# to a urlencoded body, whose whole size MAX_CONTENT_LENGTH limits).
OVER_FORM_MEMORY = "x" * 600_000


@pytest.fixture
def words(lang):
    return WORDS[lang]


@pytest.fixture
def probes(app):
    """Pages that fail on purpose, for signed-in users; registered before the first request."""
    def broken_session():
        db.session.add(User(company_id=-1, role="admin", email=None, name=None, locale="sv"))  # NOT NULL fails
        db.session.flush()

    app.add_url_rule("/_probe/429", "probe_429", lambda: abort(429))
    app.add_url_rule("/_probe/500", "probe_500", lambda: 1 / 0)
    app.add_url_rule("/_probe/broken-session", "probe_broken_session", broken_session)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the 500 handler answers, tests would re-raise


def anonymous(app, lang=None, accept=None) -> Client:
    visitor = Client(app.test_client())
    if accept:
        visitor.raw.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept
    visitor.token = visitor.csrf_from(visitor.raw.get("/login"))
    if lang:
        visitor.post("/language", {"locale": lang, "next": "/login"})
    return visitor


def assert_error_page(response, status, heading, htmx=False):
    assert response.status_code == status, response.status_code
    body = response.get_data(as_text=True)
    assert heading in text(response)
    assert 'id="error"' in body
    if htmx:
        assert "<html" not in body  # the fragment, never a page inside the page
    else:
        assert STYLED in body and "Werkzeug" not in body


# --- 413 ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("field, encoding", [(TOO_LARGE, "application/x-www-form-urlencoded"),
                                             (TOO_LARGE, "multipart/form-data"),
                                             (OVER_FORM_MEMORY, "multipart/form-data")],
                         ids=["over-1-MB", "over-1-MB-multipart", "over-form-memory"])
def test_a_too_large_sign_in_is_refused_in_the_chosen_language(app, lang, words, htmx, field, encoding):
    visitor = anonymous(app, lang=lang, accept="en" if lang == "sv" else "sv")  # the choice wins over the browser's
    fields = {"email": "a@b.se", "password": field, "csrf_token": visitor.token}
    if encoding == "multipart/form-data":  # encoded here: the test client would spool it to a file left open
        boundary, body = encode_multipart(fields)
        fields, encoding = body, f"multipart/form-data; boundary={boundary}"
    response = visitor.raw.post("/login", data=fields, content_type=encoding, headers=visitor._headers(htmx))
    assert_error_page(response, 413, words["413"], htmx)


def test_an_anonymous_visitor_without_a_choice_gets_the_browsers_language(app):
    response = anonymous(app, accept="en-GB,en;q=0.8").post("/login", {"email": "a@b.se", "password": TOO_LARGE})
    assert_error_page(response, 413, WORDS["en"]["413"])
    response = anonymous(app).post("/login", {"email": "a@b.se", "password": TOO_LARGE})
    assert_error_page(response, 413, WORDS["sv"]["413"])


@pytest.mark.parametrize("htmx", [False, True])
def test_a_too_large_form_of_a_signed_in_user_is_refused(app, as_admin, words, htmx):
    response = as_admin.post("/employees/new", {"name": TOO_LARGE}, htmx=htmx)
    assert_error_page(response, 413, words["413"], htmx)


def test_the_limit_is_one_megabyte_by_default(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert app.config["MAX_FORM_MEMORY_SIZE"] == 500_000
    assert app.config["MAX_FORM_PARTS"] == 1000


# --- 429 ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
def test_too_many_requests_is_a_page_in_the_users_language(app, probes, admin, words, htmx):
    response = Client(app.test_client()).login(admin).get("/_probe/429", htmx=htmx)
    assert_error_page(response, 429, words["429"], htmx)


# --- 500 ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("probe", ["500", "broken-session"])
def test_an_unhandled_exception_is_a_page_in_the_users_language_and_is_logged(app, probes, admin, words, htmx, probe,
                                                                             caplog):
    browser = Client(app.test_client()).login(admin)
    with caplog.at_level(logging.ERROR):
        response = browser.get(f"/_probe/{probe}", htmx=htmx)
    assert_error_page(response, 500, words["500"], htmx)
    assert words["500_text"] in text(response)
    assert any(record.exc_info and f"/_probe/{probe}" in record.getMessage() for record in caplog.records)
    assert browser.get("/runs").status_code == 200  # the next request is served as ever


def test_an_anonymous_500_uses_the_browsers_language(app, probes):
    PUBLIC_ENDPOINTS.add("probe_500")
    try:
        response = anonymous(app, accept="en").get("/_probe/500")
    finally:
        PUBLIC_ENDPOINTS.discard("probe_500")
    assert_error_page(response, 500, WORDS["en"]["500"])


def test_with_the_database_unreachable_the_500_is_still_the_apps_page(app, probes, admin, lang, words, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from kivra.web import errors

    def database_gone(code):
        raise OperationalError("SELECT 1", {}, Exception("could not connect to server"))

    browser = Client(app.test_client()).login(admin)
    browser.raw.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    monkeypatch.setattr(errors, "_page", database_gone)
    response = browser.get("/_probe/500")
    assert_error_page(response, 500, words["500"])
    assert words["500_text"] in text(response)
