"""Behind a TLS-terminating proxy: ProxyFix by configuration (TRUSTED_PROXIES), HSTS over HTTPS in production, and
a sign-in over plain HTTP that says HTTPS is needed instead of a misleading CSRF error."""
import pytest
from flask import Flask, request

from kivra import create_app, proxy
from kivra.config import ConfigError, load_config
from kivra.extensions import db
from tests.conftest import CSRF_INPUT, RequestPerContextClient, make_company, make_user, text

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
HTTPS_NEEDED = {"sv": "Öppna webbplatsen med HTTPS", "en": "Open the site over HTTPS"}
CSRF_TEXT = {"sv": "säkerhetstoken", "en": "security token"}


def test_trusted_proxies_is_read_from_the_environment_and_defaults_to_none():
    base = {"APP_ENV": "development"}
    assert load_config("/tmp", base)["TRUSTED_PROXIES"] == 0
    assert load_config("/tmp", {**base, "TRUSTED_PROXIES": "2"})["TRUSTED_PROXIES"] == 2
    for wrong in ("-1", "yes", "1.5"):
        with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
            load_config("/tmp", {**base, "TRUSTED_PROXIES": wrong})


def probe_app(trusted_proxies: int) -> Flask:
    """A bare app with only the proxy settings: what the client's address and scheme look like to a view."""
    app = Flask(__name__)
    app.config.update(TRUSTED_PROXIES=trusted_proxies, APP_ENV="production")
    proxy.init_app(app)
    app.add_url_rule("/probe", "probe", lambda: f"{request.remote_addr} {request.scheme}")
    return app


def test_without_trusted_proxies_forwarded_headers_are_ignored():
    body = probe_app(0).test_client().get("/probe", headers=FORWARDED).get_data(as_text=True)
    assert body == "127.0.0.1 http"  # anyone could send these headers: believed only from a configured proxy


def test_one_trusted_proxy_gives_the_client_address_and_scheme():
    body = probe_app(1).test_client().get("/probe", headers=FORWARDED).get_data(as_text=True)
    assert body == "203.0.113.7 https"


def test_two_trusted_proxies_take_the_address_the_outer_proxy_saw():
    headers = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7, 10.0.0.2", "X-Forwarded-Proto": "https, http"}
    body = probe_app(2).test_client().get("/probe", headers=headers).get_data(as_text=True)
    assert body == "203.0.113.7 https"  # 198.51.100.1 was made up by the client; the load balancer saw 203.0.113.7


@pytest.fixture
def production(app_config):
    """The app as production runs it: Secure cookies, HSTS; one proxy in front."""
    app = create_app({**app_config, "APP_ENV": "production", "SESSION_COOKIE_SECURE": True,
                      "REMEMBER_COOKIE_SECURE": True, "TRUSTED_PROXIES": 1})
    app.test_client_class = RequestPerContextClient
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()


def test_hsts_is_sent_over_https_in_production(production):
    client = production.test_client()
    assert "max-age=" in client.get("/login", base_url="https://payroll.example").headers["Strict-Transport-Security"]
    behind_proxy = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "max-age=" in behind_proxy.headers["Strict-Transport-Security"]


def test_no_hsts_over_plain_http(production):
    assert "Strict-Transport-Security" not in production.test_client().get("/login").headers


def test_no_hsts_outside_production(app):
    response = app.test_client().get("/login", base_url="https://localhost")
    assert "Strict-Transport-Security" not in response.headers


def sign_in_over_plain_http(app, path: str, lang: str, htmx: bool):
    """A browser on http:// in production: it gets the page, drops the Secure session cookie, and posts the form."""
    client = app.test_client()
    page = client.get(path)
    assert client.get_cookie("session").secure  # why the browser does not keep it over http
    client.delete_cookie("session")
    token = CSRF_INPUT.search(page.get_data(as_text=True)).group(1)
    headers = {"Accept-Language": {"sv": "sv-SE,sv;q=0.9", "en": "en-GB,en;q=0.9"}[lang]}
    if htmx:
        headers["HX-Request"] = "true"
    return client.post(path, data={"email": "Anna@Demo.se", "password": "secret password", "csrf_token": token},
                       headers=headers)


@pytest.mark.parametrize("path", ["/login", "/min-lon/login"])
@pytest.mark.parametrize("htmx", [False, True])
def test_sign_in_over_plain_http_says_https_is_needed_and_keeps_the_email(production, lang, path, htmx):
    response = sign_in_over_plain_http(production, path, lang, htmx)
    assert response.status_code == 400
    body = text(response)
    assert HTTPS_NEEDED[lang] in body
    assert "X-Forwarded-Proto" in body  # what the operator must fix when the address already is https://
    assert CSRF_TEXT[lang] not in body
    assert 'value="Anna@Demo.se"' in response.get_data(as_text=True)
    assert "secret password" not in response.get_data(as_text=True)
    assert ("<html" in response.get_data(as_text=True)) is not htmx  # htmx gets the form alone, a browser the page


def test_other_forms_over_plain_http_say_https_is_needed(production, lang):
    client = production.test_client()
    token = CSRF_INPUT.search(client.get("/login").get_data(as_text=True)).group(1)
    client.delete_cookie("session")
    response = client.post("/language", data={"locale": "en", "csrf_token": token},
                           headers={"Accept-Language": lang})
    assert response.status_code == 400
    assert HTTPS_NEEDED[lang] in text(response) and CSRF_TEXT[lang] not in text(response)


def test_a_missing_token_over_https_is_still_the_csrf_error(production):
    """The session cookie came back: the token itself is missing, and the page says so."""
    client = production.test_client()
    client.get("/login", base_url="https://payroll.example")
    response = client.post("/login", data={"email": "anna@demo.se", "password": "x"},
                           base_url="https://payroll.example", headers={"Referer": "https://payroll.example/login"})
    assert response.status_code == 400
    assert CSRF_TEXT["sv"] in text(response) and HTTPS_NEEDED["sv"] not in text(response)


def test_signing_in_over_https_behind_the_proxy_works(production):
    make_user(make_company(), "admin", email="anna@demo.se")
    client = production.test_client()
    behind = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    token = CSRF_INPUT.search(client.get("/login", headers=behind).get_data(as_text=True)).group(1)
    response = client.post("/login", data={"email": "anna@demo.se", "password": "correct horse battery",
                                           "csrf_token": token},
                           headers={**behind, "Referer": "https://localhost/login"})
    assert response.status_code == 303, text(response)
    assert "Strict-Transport-Security" in response.headers
