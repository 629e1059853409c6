"""Production opened over plain HTTP in a real browser: the Secure session cookie is dropped, and signing in says the
site must be opened over HTTPS — not that a security token is missing."""
from datetime import date

import pytest

from kivra import create_app
from tests.e2e.conftest import CHROMIUM_ARGS, serving_demo

SCREENSHOTS = "test-artifacts"
HOST = "payroll.test"  # not localhost, which browsers treat as secure: a real server name over http://
HTTPS_NEEDED = {"sv": "Öppna webbplatsen med HTTPS", "en": "Open the site over HTTPS"}
CSRF_TEXT = {"sv": "säkerhetstoken", "en": "security token"}
BROWSER_LOCALE = {"sv": "sv-SE", "en": "en-GB"}


@pytest.fixture
def production_over_http(tmp_path):
    app = create_app({
        "TESTING": True, "APP_ENV": "production", "SESSION_COOKIE_SECURE": True, "REMEMBER_COOKIE_SECURE": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e2e.db'}", "KIVRA_NEW_CUSTOMERS_SINCE": date.max,
    })
    with serving_demo(app) as server:
        yield f"http://{HOST}:{server.server_port}"


@pytest.fixture
def http_page(browser_type, lang):
    """Chromium resolving payroll.test to this machine, speaking the test's language."""
    browser = browser_type.launch(executable_path="/usr/bin/chromium",
                                  args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1"])
    context = browser.new_context(locale=BROWSER_LOCALE[lang])
    yield context.new_page()
    context.close()
    browser.close()


@pytest.mark.parametrize("path", ["/login", "/min-lon/login"])
def test_signing_in_over_plain_http_says_to_use_https(production_over_http, http_page, lang, path):
    page = http_page
    page.goto(production_over_http + path)
    assert page.context.cookies() == []  # the browser refused the Secure session cookie
    page.locator("#email").fill("admin@demo.se")
    page.locator("#password").fill("demo-admin")
    page.locator("form[method=post] button.primary").click()
    alert = page.get_by_role("alert").filter(has_text=HTTPS_NEEDED[lang])
    alert.wait_for(timeout=10_000)
    assert "X-Forwarded-Proto" in alert.inner_text()
    assert CSRF_TEXT[lang] not in page.content()
    assert page.locator("#email").input_value() == "admin@demo.se"
    assert page.locator("#password").input_value() == ""
    page.screenshot(path=f"{SCREENSHOTS}/plain-http-sign-in{path.replace('/', '-')}-{lang}.png", full_page=True)
