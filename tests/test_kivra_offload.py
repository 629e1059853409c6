"""No Kivra call inside a web request: approving, "Ask Kivra now", the register's check and a send only record what is
wanted; a worker asks Kivra, and the page follows with htmx (or a refresh) until it is done."""
import threading
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from kivra import agreement
from kivra.agreement import vla
from kivra.agreement.models import KivraJob, KivraSender
from kivra.demo import employee_numbers
from kivra.dispatch import access as tasks, activation, tasks as queue
from kivra.dispatch.models import PayslipSend
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.sender_api.app import kivra_client
from kivra.sender_api.errors import ServerError
from tests.conftest import make_employee, text

pytestmark = pytest.mark.both_databases

WORDS = {
    "sv": {
        "registering": "Registrerar företaget hos Kivra", "asking": "Frågar Kivra om åtkomsten",
        "matching": "Frågar Kivra vilka anställda som använder Kivra", "refresh": "Uppdatera",
        "active": "Företaget är registrerat som avsändare hos Kivra.",
        "waiting": "det kan krävas kontakt med Kivra",
        "sent": "1 av 1 skickade", "answered": "Kivra har svarat: 1 av 2 anställda är Kivra-användare.",
        "failed": "Det gick inte att nå Kivra", "code": "Kivras kod 50301, korrelations-id corr-9",
        "not_answer": "Kivra kunde inte svara just nu (kod 50301, korrelations-id corr-9)",
    },
    "en": {
        "registering": "Registering the company with Kivra", "asking": "Asking Kivra about the access request",
        "matching": "Asking Kivra which employees are Kivra users", "refresh": "Refresh",
        "active": "Registered with Kivra as a sender.", "waiting": "contact with Kivra may be required",
        "sent": "1 of 1 sent", "answered": "Kivra has answered: 1 of 2 employees are Kivra users.",
        "failed": "Kivra could not be reached", "code": "Kivra's code 50301, correlation id corr-9",
        "not_answer": "Kivra could not answer just now (code 50301, correlation id corr-9)",
    },
}
POLLS = 'hx-trigger="every 2s"'


class Calls:
    """Every request the Kivra sandbox receives, by path."""

    def __init__(self, wsgi_app):
        self.wsgi_app, self.paths, self.lock = wsgi_app, [], threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.paths.append(f'{environ["REQUEST_METHOD"]} {environ["PATH_INFO"]}')
        return self.wsgi_app(environ, start_response)

    def during(self, request):
        """The Kivra calls made while `request()` ran, and its response."""
        start = len(self.paths)
        response = request()
        return self.paths[start:], response


@pytest.fixture
def calls(kivra):
    recorder = Calls(kivra.server.app.wsgi_app)
    kivra.server.app.wsgi_app = recorder
    return recorder


@pytest.fixture
def words(lang):
    return WORDS[lang]


def the_send(run):
    db.session.expire_all()
    return db.session.scalar(select(PayslipSend).where(PayslipSend.run_id == run.id))


def the_sender():
    db.session.expire_all()
    return db.session.scalar(select(KivraSender))


def seen(client, response, htmx):
    """What the person sees after a POST: the htmx swap's target page, or where the redirect leads."""
    target = response.headers.get("HX-Redirect") if htmx else response.location
    if htmx and target is None:
        return response
    assert response.status_code in (204, 303), response.status_code
    return client.get(target)


@pytest.mark.parametrize("htmx", [False, True])
def test_approval_from_a_run_registers_in_the_worker_and_sends_without_a_second_click(as_admin, company, run, calls,
                                                                                     words, htmx):
    company.street_address, company.postal_code, company.city = "Storgatan 1", "111 22", "Stockholm"
    company.email, company.phone = "lon@demo.se", "08-123 45 67"
    db.session.commit()
    made, response = calls.during(lambda: as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "run": run.id},
                                                        htmx=htmx))
    assert made == []  # the request asked Kivra nothing
    page = seen(as_admin, response, htmx)
    assert words["registering"] in text(page) and POLLS in page.get_data(as_text=True)
    assert the_send(run).state == "waiting_for_kivra"
    assert as_admin.get(f"/runs/{run.id}/send-and-post").status_code == 200

    queue.drain()
    assert the_sender().state == "active" and the_send(run).state == "queued"  # no second click
    polled = as_admin.get(f"/runs/{run.id}/send/progress", htmx=True)
    assert words["sent"] in text(polled) and words["registering"] not in text(polled)
    assert sum(path == "POST /v2/tenant" for path in calls.paths) == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_approval_from_more_solutions_shows_registration_until_the_worker_is_done(as_admin, company, calls, words,
                                                                                 htmx):
    made, response = calls.during(lambda: as_admin.post("/solutions/kivra/agreement", {"payslips": "1"}, htmx=htmx))
    assert made == []
    page = seen(as_admin, response, htmx)
    body = page.get_data(as_text=True)
    assert words["registering"] in text(page) and POLLS in body and 'href="/solutions/kivra"' in body

    queue.drain()
    region = as_admin.get("/solutions/kivra/access", htmx=True)
    body = region.get_data(as_text=True)
    assert region.status_code == 200 and 'id="kivra_access"' in body and "<html" not in body
    assert words["active"] in text(region) and POLLS not in body
    assert words["active"] in text(as_admin.get("/solutions/kivra"))
    assert as_admin.get("/solutions/kivra/access").status_code == 303  # a browser gets the page


@pytest.mark.parametrize("htmx", [False, True])
def test_an_org_number_kivra_must_grant_shows_waiting_when_the_worker_is_done(as_admin, company, run, calls, words,
                                                                              htmx):
    company.orgnr = "5560360793"  # another sender owns it in the sandbox: access must be requested
    db.session.commit()
    made, _ = calls.during(lambda: as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "run": run.id},
                                                 htmx=htmx))
    assert made == []
    queue.drain()
    assert the_sender().state == "pending" and the_send(run).state == "waiting_for_kivra"
    page = as_admin.get(f"/runs/{run.id}/send/progress" if htmx else f"/runs/{run.id}/send-and-post", htmx=htmx)
    assert words["waiting"] in text(page) and words["registering"] not in text(page)


@pytest.mark.parametrize("htmx", [False, True])
def test_ask_kivra_now_is_answered_by_the_worker(as_admin, company, run, calls, words, htmx):
    company.orgnr = "5560360793"
    db.session.commit()
    as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "run": run.id})
    queue.drain()
    assert the_sender().state == "pending"
    page = as_admin.get("/solutions/kivra")
    assert 'hx-post="/solutions/kivra/check"' in page.get_data(as_text=True)

    made, response = calls.during(lambda: as_admin.post("/solutions/kivra/check", htmx=htmx))
    assert made == []
    if htmx:  # the region swaps itself and polls
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and 'id="kivra_access"' in body and "<html" not in body
    else:
        assert response.status_code == 303 and response.location == "/solutions/kivra"
        response = as_admin.get(response.location)
    assert words["asking"] in text(response) and POLLS in response.get_data(as_text=True)
    assert words["refresh"] in text(response)  # without JavaScript, a plain link
    assert the_sender().state == "pending"

    queue.drain()
    assert the_sender().state == "active" and the_send(run).state == "queued"
    assert words["active"] in text(as_admin.get("/solutions/kivra/access", htmx=True))


def test_a_registration_kivra_fails_shows_its_code_and_correlation_id(app, as_admin, company, calls, words):
    client = kivra_client()

    def broken(name, orgnr):
        raise ServerError(503, 50301, "Service Temporarily Unavailable", "", "corr-9")

    client.create_tenant = broken
    try:
        as_admin.post("/solutions/kivra/agreement", {"payslips": "1"})
        queue.drain()
    finally:
        del client.create_tenant
    assert the_sender().state == "failed"
    region = text(as_admin.get("/solutions/kivra/access", htmx=True))
    assert words["failed"] in region and words["code"] in region


@pytest.fixture
def active_sender(company, admin, kivra):
    """Kivra approved and registered (outside any web request), with a Kivra user and someone who is not."""
    activation.approve(company, admin, kivra_client(), payslips=True, invoices=False)
    make_employee(company, name="Astrid Lindqvist", personnummer="191212121212")
    make_employee(company, name="Sven Saknar", personnummer=employee_numbers()[18])
    return company


@pytest.mark.parametrize("htmx", [False, True])
def test_the_registers_check_is_answered_by_the_worker(as_admin, active_sender, calls, words, htmx):
    made, response = calls.during(lambda: as_admin.post("/employees/kivra-check", htmx=htmx))
    assert made == []
    if htmx:
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and 'id="kivra_check"' in body and "<html" not in body
    else:
        assert response.status_code == 303 and response.location == "/employees"
        response = as_admin.get("/employees")
    assert words["matching"] in text(response) and POLLS in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(Employee.kivra_checked_at.is_not(None))) == 0

    queue.drain()
    assert sum(path.endswith("/usermatch/ssn") for path in calls.paths) == 1
    polled = as_admin.get("/employees/kivra-check", htmx=True)
    body = polled.get_data(as_text=True)
    assert words["answered"] in text(polled) and POLLS not in body
    assert 'id="register"' in body and 'hx-swap-oob="true"' in body  # the register's Kivra column, updated
    assert words["answered"] in text(as_admin.get("/employees"))
    assert as_admin.get("/employees/kivra-check").status_code == 303


def test_the_registers_check_when_kivra_fails_says_so_with_the_code(as_admin, active_sender, words):
    client = kivra_client()

    def broken(tenant_key, numbers):
        raise ServerError(503, 50301, "Service Temporarily Unavailable", "", "corr-9")

    client.usermatch = broken
    try:
        as_admin.post("/employees/kivra-check")
        queue.drain()
    finally:
        del client.usermatch
    assert words["not_answer"] in text(as_admin.get("/employees"))
    assert db.session.scalar(select(func.count()).where(Employee.kivra_checked_at.is_not(None))) == 0


def test_a_new_customers_first_send_registers_in_the_worker_and_goes_out(app, as_admin, company, run, calls):
    app.config["KIVRA_NEW_CUSTOMERS_SINCE"] = date(2026, 1, 1)
    made, response = calls.during(lambda: as_admin.post(f"/runs/{run.id}/send"))
    assert made == [] and response.status_code == 303
    assert agreement.in_force(company.id).source == "signup"
    assert the_send(run).state == "waiting_for_kivra"
    queue.drain()
    assert the_sender().state == "active"
    assert (the_send(run).channel, the_send(run).state) == ("kivra", "queued")


def test_a_vla_company_is_registered_by_the_worker_when_it_sends(as_admin, company, run, calls):
    vla.import_vla(company.orgnr, "Vera VLA", datetime(2024, 5, 1), "payslips")
    made, _ = calls.during(lambda: as_admin.post(f"/runs/{run.id}/send", htmx=True))
    assert made == []
    queue.drain()
    assert the_sender().state == "active" and the_send(run).state == "queued"


def test_double_clicks_and_two_tabs_make_one_jobs_worth_of_kivra_calls(as_admin, company, run, calls):
    for _ in range(2):
        as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "run": run.id})
        as_admin.post("/solutions/kivra/agreement", {"payslips": "1"}, htmx=True)
    assert db.session.scalar(select(func.count()).select_from(KivraJob)) == 1
    queue.drain()
    assert sum(path == "POST /v2/tenant" for path in calls.paths) == 1
    assert the_sender().state == "active" and the_send(run).state == "queued"
    assert db.session.query(PayslipSend).count() == 1


def test_two_register_checks_at_once_ask_kivra_once(as_admin, active_sender, calls):
    as_admin.post("/employees/kivra-check")
    as_admin.post("/employees/kivra-check", htmx=True)  # the other tab, before the worker got to it
    queue.drain()
    assert sum(path.endswith("/usermatch/ssn") for path in calls.paths) == 1


def test_a_lost_registration_task_is_recovered_by_the_periodic_check(app, as_admin, company, run, calls):
    as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "run": run.id})
    queue.huey.flush()  # the task was lost with a killed worker
    app.config["KIVRA_JOB_GRACE_SECONDS"] = 0
    tasks.check_access()
    assert the_sender().state == "active" and the_send(run).state == "queued"
    assert db.session.scalar(select(KivraJob.state)) == "done"


def test_a_lost_register_check_can_be_asked_again(app, as_admin, active_sender, calls, words):
    as_admin.post("/employees/kivra-check")
    queue.huey.flush()  # lost before a worker saw it
    as_admin.post("/employees/kivra-check")  # the person asks again
    queue.drain()
    assert words["answered"] in text(as_admin.get("/employees"))
    as_admin.post("/employees/kivra-check")
    queue.huey.flush()
    app.config["KIVRA_JOB_GRACE_SECONDS"] = 0
    tasks.check_access()  # or the worker's periodic round finds it
    assert db.session.scalars(select(KivraJob.state)).all() == ["done", "done"]


def test_a_job_a_killed_worker_left_running_is_taken_again_after_its_lease(app, as_admin, company, calls):
    from kivra.agreement import kivra_calls

    as_admin.post("/solutions/kivra/agreement", {"payslips": "1"})
    job = db.session.scalar(select(KivraJob))
    assert kivra_calls.claim(job.id, lease_seconds=300) is not None  # a worker took it, then died
    queue.huey.flush()
    assert kivra_calls.claim(job.id, lease_seconds=300) is None  # a second worker leaves it alone meanwhile
    app.config["KIVRA_JOB_LEASE_SECONDS"] = 0
    tasks.check_access()
    assert the_sender().state == "active"


def test_the_fragments_are_the_companys_own_and_state_changes_need_csrf(as_admin, active_sender):
    assert as_admin.post("/employees/kivra-check", csrf=False).status_code == 400
    assert as_admin.post("/solutions/kivra/check", csrf=False).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(KivraJob)) == 0


def test_the_fragments_need_a_signed_in_user_and_show_only_the_companys_own(app, as_admin, company,
                                                                             other_company, run, calls, words):
    from tests.conftest import Client, make_user

    for url in ("/solutions/kivra/access", "/employees/kivra-check"):
        assert Client(app.test_client()).get(url, htmx=True).status_code == 401
    as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "run": run.id})
    ours = db.session.scalar(select(KivraJob))
    theirs = Client(app.test_client()).login(make_user(other_company, "admin", email="a@annat.se"))
    region = text(theirs.get(f"/solutions/kivra/access?job={ours.id}", htmx=True))
    assert words["registering"] not in region and words["refresh"] not in region
    assert words["matching"] not in text(theirs.get("/employees/kivra-check", htmx=True))
