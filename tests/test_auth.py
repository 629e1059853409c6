"""Signing in and out, and what an anonymous visitor may see."""
import pytest

from tests.conftest import PASSWORD, Client, text

WRONG = {"sv": "Fel e-postadress eller lösenord.", "en": "Wrong e-mail address or password."}
LOG_IN = {"sv": "Logga in", "en": "Log in"}


def test_login_page_is_swedish_by_default(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert '<html lang="sv">' in response.get_data(as_text=True)
    assert "Logga in" in text(response)


def test_login_and_land_on_payroll_runs(client, admin, lang):
    client.login(admin)
    response = client.get("/runs")
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in response.get_data(as_text=True)
    assert {"sv": "Lönekörningar", "en": "Payroll runs"}[lang] in text(response)


@pytest.mark.parametrize("htmx", [False, True])
def test_wrong_password_says_so_in_the_chosen_language(app, admin, lang, htmx):
    client = Client(app.test_client())
    page = client.raw.get("/login")
    token = client.csrf_from(page)
    client.raw.post("/language", data={"locale": lang, "csrf_token": token, "next": "/login"})
    response = client.raw.post(
        "/login", data={"email": admin.email, "password": "nope", "csrf_token": token},
        headers={"HX-Request": "true"} if htmx else {},
    )
    assert response.status_code == 422
    assert WRONG[lang] in text(response)
    assert ("<html" in response.get_data(as_text=True)) is not htmx


def test_email_is_matched_without_regard_to_case(client, admin):
    token = client.csrf_from(client.raw.get("/login"))
    response = client.raw.post("/login", data={"email": admin.email.upper(), "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303


def test_pages_require_login(client, company):
    for url in ("/runs", "/employees", "/solutions", "/runs/1", "/payslips/1/v1.pdf"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.location.startswith("/login")


def test_htmx_request_without_login_redirects_the_whole_page(client, company):
    response = client.get("/runs", htmx=True)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login"


def test_login_follows_only_local_next(client, admin):
    token = client.csrf_from(client.raw.get("/login"))
    data = {"email": admin.email, "password": PASSWORD, "csrf_token": token}
    assert client.raw.post("/login", data={**data, "next": "/employees"}).location == "/employees"
    token = client.csrf_from(client.raw.get("/employees"))  # signing in made a new one
    assert client.raw.post("/logout", data={"csrf_token": token}).status_code == 303
    token = client.csrf_from(client.raw.get("/login"))
    data["csrf_token"] = token
    assert client.raw.post("/login", data={**data, "next": "//evil.example/x"}).location == "/runs"


def test_logout_is_a_post_and_ends_the_session(as_admin):
    assert as_admin.get("/logout").status_code == 405
    response = as_admin.post("/logout")
    assert response.status_code == 303
    assert as_admin.get("/runs").status_code == 302


def test_language_choice_persists_for_the_user(app, admin):
    first = Client(app.test_client()).login(admin)
    other = "en" if admin.locale == "sv" else "sv"
    first.post("/language", {"locale": other, "next": "/employees"})
    second = Client(app.test_client()).login(admin)  # a new browser, same user
    assert f'<html lang="{other}">' in second.get("/runs").get_data(as_text=True)


def test_unknown_language_is_refused_with_a_message(as_admin, lang):
    response = as_admin.post("/language", {"locale": "de", "next": "/runs"}, follow_redirects=True)
    assert f'<html lang="{lang}">' in response.get_data(as_text=True)
    assert {"sv": "Välj ett av språken", "en": "Choose one of the languages"}[lang] in text(response)
