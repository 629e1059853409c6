"""A live app on a free loopback port with Demo AB, its own Kivra sandbox and its own mailbox (a real SMTP server
with a web page to read what arrived), and Debian's Chromium."""
import contextlib
import logging
import threading
from datetime import date

import pytest
from werkzeug.serving import make_server

from kivra import create_app, demo
from kivra.dispatch import app_queue, tasks
from kivra.extensions import db
from kivra.mail import delivery
from kivra.mailbox import start_in_thread as start_mailbox
from kivra.sandbox.config import SandboxConfig
from kivra.sandbox.server import start_in_thread
from tests.e2e.accessibility import AccessibilityAudit

log = logging.getLogger(__name__)
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


CSP_VIOLATION = ("Content Security Policy", "unsafe-eval", "unsafe-inline")


@pytest.fixture(autouse=True)
def no_policy_violations(request):
    """Every page a test opens fails it when the browser refuses something under the Content-Security-Policy
    (an inline script or style, an eval): htmx and every flow must work under the policy (kivra/web/headers.py)."""
    if "page" not in request.fixturenames:
        yield
        return
    page = request.getfixturevalue("page")
    refused: list[str] = []

    def watch(watched):
        watched.on("console", lambda message: refused.append(f"{watched.url}: {message.text}")
                   if any(word in message.text for word in CSP_VIOLATION) else None)
        watched.on("pageerror", lambda error: refused.append(f"{watched.url}: {error}")
                   if any(word in str(error) for word in CSP_VIOLATION) else None)

    watch(page)
    page.context.on("page", watch)  # a page the test's page opens (a link with target=_blank)
    yield
    assert not refused, "the Content-Security-Policy refused:\n" + "\n".join(refused)


@pytest.fixture(autouse=True)
def accessibility(request, monkeypatch):
    """Every page a test opens (and every page of a context it makes) is audited with axe-core on each load, before
    each screenshot and at the test's end; a critical or serious violation fails the test (tests/e2e/accessibility.py).
    A test that makes a violation on purpose clears `found` after looking at it."""
    pages = [request.getfixturevalue(name) for name in ("page", "http_page") if name in request.fixturenames]
    if not pages:
        yield None
        return
    audit = AccessibilityAudit(request.getfixturevalue("live_url") if "live_url" in request.fixturenames else None)
    for page in pages:
        audit.watch(page)
        page.context.on("page", audit.watch)
    if "browser" in request.fixturenames:
        browser = request.getfixturevalue("browser")
        new_context = browser.new_context

        def audited_context(*args, **kwargs):
            context = new_context(*args, **kwargs)
            context.on("page", audit.watch)
            return context

        monkeypatch.setattr(browser, "new_context", audited_context)
    yield audit
    audit.check_all()
    assert not audit.found, audit.report()


@pytest.fixture(scope="session")
def base_url():
    """Each test gets its own live app (`live_url`); pytest-base-url's fixture is not used."""
    return None


@pytest.fixture
def sandbox():
    """A fresh Kivra sandbox per test that grants access requests at once."""
    with start_in_thread(SandboxConfig(request_access_pending_seconds=0.0)) as running:
        yield running


@pytest.fixture
def mailbox():
    """A fresh SMTP server and web mailbox per test (`mb.web_url` to read it in the browser, `mb.messages()`)."""
    with start_mailbox() as running:
        yield running


@pytest.fixture
def live_app(tmp_path, sandbox, mailbox):
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e2e.db'}",
        # Read when the app first makes its Kivra client, so it must be set before the first request.
        "KIVRA_API_URL": sandbox.url,
        # Demo AB, created today, is an existing customer whatever today is: its first send asks about Kivra.
        "KIVRA_NEW_CUSTOMERS_SINCE": date.max,
        "SMTP_URL": mailbox.smtp_url,
    })
    with serving_demo(app) as server:
        # The links in the e-mails lead to this live app, whose port is known only now.
        app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}"
        stop_worker = threading.Event()
        app.extensions["e2e_worker_hold"] = threading.Event()  # set: the worker pauses (see `worker_held`)
        worker = threading.Thread(target=dispatch_worker, args=(app, stop_worker), daemon=True)
        worker.start()
        yield app, f"http://127.0.0.1:{server.server_port}"
        stop_worker.set()
        worker.join()


@contextlib.contextmanager
def serving_demo(app):
    """Demo AB in the app's new database, the app served on a free loopback port while the block runs."""
    with app.app_context():
        db.create_all()
        demo.seed()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join()
        with app.app_context():
            db.engine.dispose()


def dispatch_worker(app, stop: threading.Event) -> None:
    """The worker for a live test app: runs the in-memory queue's tasks as they arrive, and sends the outbox to the
    test's mailbox as a worker's maintenance thread does (kivra/dispatch/maintenance.py), each round."""
    app_queue.bind_app(app)
    hold = app.extensions["e2e_worker_hold"]
    try:
        while not stop.wait(0.05):
            if not hold.is_set():
                tasks.drain()
                send_mail(app)
    finally:
        app_queue.unbind_app()  # the next test's app is not this one


def send_mail(app) -> None:
    """One round of the outbox, in an app context of its own (the queue's tasks make their own; this loop has none)."""
    with app.app_context():
        try:
            delivery.drain()
        except Exception:  # noqa: BLE001 - as the worker's thread: try again next round
            log.exception("mail-drain failed")
            db.session.rollback()
        finally:
            db.session.remove()


@pytest.fixture
def live_url(live_app):
    return live_app[1]


@pytest.fixture
def worker_held(live_app):
    """Pause the live app's worker (`hold.set()`) to see a page while Kivra's answer is awaited or an e-mail is still
    queued; `hold.clear()` to let it work again."""
    hold = live_app[0].extensions["e2e_worker_hold"]
    yield hold
    hold.clear()


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
        "activate_prompt": "Aktivera Kivra?", "activate": "Aktivera Kivra", "not_now": "Inte nu",
        "agreement": "Avtal med Kivra", "approve": "Godkänn avtalet", "payslips": "Lönebesked", "invoices": "Fakturor",
        "queued_kivra": "Skickade via Kivra", "queued_min_lon": "Publicerade i Min lön.", "all_sent": "25 av 25 skickade",
        "ask_admin": "Be en administratör att godkänna det: Anna Admin.",
        "activate_approve": "Godkänn avtalet och aktivera", "active": "Aktiv", "not_active": "Inte aktiv",
        "for_both": "För lönebesked och fakturor.", "status_link": "Status och avtal för Kivra",
        "status": "Status för Kivra", "approved_by": "Godkänt av", "discontinue": "Avsluta Kivra",
        "discontinue_q": "Avsluta Kivra?", "discontinue_yes": "Ja, avsluta Kivra",
        "discontinued": "Kivra är avslutat.", "vla_moved": "Status-sidan för Kivra har flyttat till Lön.",
        "dismiss": "OK, visa inte igen", "wrong_password": "Fel e-postadress eller lösenord.",
        "wait": "För många misslyckade inloggningar. Vänta 15 minuter och försök igen.",
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
        "activate_prompt": "Activate Kivra?", "activate": "Activate Kivra", "not_now": "Not now",
        "agreement": "Kivra agreement", "approve": "Approve agreement", "payslips": "Payslips", "invoices": "Invoices",
        "queued_kivra": "Sent through Kivra", "queued_min_lon": "Published in Min lön.", "all_sent": "25 of 25 sent",
        "ask_admin": "Ask an administrator to approve: Anna Admin.",
        "activate_approve": "Approve agreement and activate", "active": "Active", "not_active": "Not active",
        "for_both": "For payslips and invoices.", "status_link": "Kivra status and agreement",
        "status": "Kivra status", "approved_by": "Approved by", "discontinue": "Discontinue Kivra",
        "discontinue_q": "Discontinue Kivra?", "discontinue_yes": "Yes, discontinue Kivra",
        "discontinued": "Kivra is discontinued.", "vla_moved": "The status page for Kivra has moved to Payroll.",
        "dismiss": "OK, don't show again", "wrong_password": "Wrong e-mail address or password.",
        "wait": "Too many failed sign-ins. Wait 15 minutes and try again.",
    },
}


@pytest.fixture
def words(lang):
    return WORDS[lang]


def sign_in(page, live_url, lang, words, email, password):
    page.goto(f"{live_url}/login")
    if lang == "en":
        page.get_by_role("button", name="English").click()
    page.get_by_label(words["email"]).fill(email)
    page.get_by_label(words["password"]).fill(password)
    page.get_by_role("button", name=words["login"]).click()
    page.wait_for_url(f"{live_url}/runs")
    return page


@pytest.fixture
def signed_in(page, live_url, lang, words):
    """The demo admin, signed in, with the interface in `lang`."""
    return sign_in(page, live_url, lang, words, "admin@demo.se", "demo-admin")


@pytest.fixture
def signed_in_payroll(page, live_url, lang, words):
    """The demo payroll user (not an admin), signed in, with the interface in `lang`."""
    return sign_in(page, live_url, lang, words, "lon@demo.se", "demo-lon")
