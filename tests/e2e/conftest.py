"""A live app on a free loopback port with Demo AB, and Debian's Chromium driven by Playwright."""
import threading

import pytest
from werkzeug.serving import make_server

from kivra import create_app, demo
from kivra.extensions import db

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url():
    """Each test gets its own live app (`live_url`); pytest-base-url's fixture is not used."""
    return None


@pytest.fixture
def live_app(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e2e.db'}"})
    with app.app_context():
        db.create_all()
        demo.seed()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def live_url(live_app):
    return live_app[1]


@pytest.fixture(params=["sv", "en"])
def lang(request):
    return request.param


WORDS = {
    "sv": {
        "email": "E-post", "password": "Lösenord", "login": "Logga in", "employees": "Anställda",
        "add_employee": "Lägg till anställd", "name": "Namn", "personnummer": "Personnummer",
        "start": "Anställningsdatum", "salary": "Månadslön (kr)", "tax": "Skattesats för preliminär skatt (%)",
        "save": "Spara", "check_digit": "kontrollsiffra", "saved": "har sparats", "runs": "Lönekörningar",
        "month": "Månad", "payout": "Utbetalningsdag", "create_run": "Skapa lönekörning",
        "calculate": "Beräkna lönekörning", "send_and_post": "Skicka och bokför till verifikation",
        "post": "Bokför till verifikation", "posted": "Bokförd som verifikation", "send": "Skicka lönebesked",
        "pdf": "Version 1 (PDF)", "add_line": "Lägg till rad", "description": "Beskrivning", "amount": "Belopp (kr)",
        "more": "Fler lösningar", "sie": "Ladda ned SIE-fil",
    },
    "en": {
        "email": "E-mail", "password": "Password", "login": "Log in", "employees": "Employees",
        "add_employee": "Add employee", "name": "Name", "personnummer": "Personnummer",
        "start": "Employment start date", "salary": "Monthly salary (kr)", "tax": "Preliminary tax rate (%)",
        "save": "Save", "check_digit": "check digit", "saved": "is saved", "runs": "Payroll runs",
        "month": "Month", "payout": "Payout date", "create_run": "Create payroll run",
        "calculate": "Calculate payroll run", "send_and_post": "Send and Post to Voucher",
        "post": "Post to voucher", "posted": "Posted as voucher", "send": "Send payslips",
        "pdf": "Version 1 (PDF)", "add_line": "Add line", "description": "Description", "amount": "Amount (kr)",
        "more": "More Solutions", "sie": "Download SIE file",
    },
}


@pytest.fixture
def words(lang):
    return WORDS[lang]


@pytest.fixture
def signed_in(page, live_url, lang, words):
    """The demo admin, signed in, with the interface in `lang`."""
    page.goto(f"{live_url}/login")
    if lang == "en":
        page.get_by_role("button", name="English").click()
    page.get_by_label(words["email"]).fill("admin@demo.se")
    page.get_by_label(words["password"]).fill("demo-admin")
    page.get_by_role("button", name=words["login"]).click()
    page.wait_for_url(f"{live_url}/runs")
    return page
