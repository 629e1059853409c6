"""Every attempt counts: an attempt that ends in anything but a Kivra error (an answer without `kivra-objkey`, a
body that is not JSON, a database error) is retried with backoff and, after the last attempt, the payslip is *failed*
with a reason a person can read — never left *sending* to be claimed again and again."""
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import select, text as sql, update

from kivra import create_app, status as dispatch_status
from kivra.accounts.models import utcnow
from kivra.dispatch import activation, batch, engine, maintenance, service, tasks
from kivra.dispatch.models import Dispatch
from kivra.extensions import db
from kivra.sender_api import KivraClient
from tests.conftest import RequestPerContextClient, text
from tests.dispatch.test_engine import USER, calculated_run, ledger, rows  # noqa: F401 - fixture

MAX_ATTEMPTS = 3
REASON = {"sv": "Tekniskt fel i lönesystemet", "en": "Technical error in the payroll system"}


class NoObjkey(httpx.HTTPTransport):
    """Kivra answers the content with 2xx but without the `kivra-objkey` header naming what it stored."""

    def handle_request(self, request):
        response = super().handle_request(request)
        if request.url.path.endswith("/content"):
            del response.headers["kivra-objkey"]
        return response


class NotJson(httpx.HTTPTransport):
    """Kivra answers usermatch with 200 and a body that is not JSON."""

    def handle_request(self, request):
        response = super().handle_request(request)
        if request.url.path.endswith("/usermatch/ssn"):
            return httpx.Response(200, content=b"<html>maintenance</html>", headers={"content-type": "text/html"})
        return response


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path):
    """The app on SQLite and on PostgreSQL, where an error aborts the transaction until it is rolled back."""
    url = f"sqlite:///{tmp_path / 'test.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "KIVRA_NEW_CUSTOMERS_SINCE": date.max,
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": "-c timezone=UTC"}}
                      if request.param == "postgresql" else {}})
    app.test_client_class = RequestPerContextClient
    with app.app_context():
        if request.param == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(sql("DROP SCHEMA public CASCADE"))
                connection.execute(sql("CREATE SCHEMA public"))
        db.create_all()
        tasks.huey.flush()
        yield app
        tasks.huey.flush()
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def kivra_company(app, company, admin, kivra):
    """Kivra approved and active, employer details filled in, quick retries and a small attempt limit."""
    company.street_address, company.postal_code, company.city = "Storgatan 1", "111 22", "Stockholm"
    company.email, company.phone = "lon@demo.se", "08-123 45 67"
    db.session.commit()
    activation.approve(company, admin, KivraClient(kivra.url, "sandbox-client", "sandbox-secret"),
                       payslips=True, invoices=False)
    app.config.update(DISPATCH_RETRY_SECONDS=0.0, DISPATCH_RETRY_CAP_SECONDS=0.0, DISPATCH_MAX_ATTEMPTS=MAX_ATTEMPTS)
    return company


def use_client(app, kivra, transport):
    """The worker's Kivra client, talking to the sandbox through `transport`."""
    previous = app.extensions.pop("kivra_client", None)
    if previous is not None:
        previous.close()
    app.extensions["kivra_client"] = KivraClient(kivra.url, "sandbox-client", "sandbox-secret", max_attempts=1,
                                                 transport=transport)


def send_and_drain(company, admin):
    run = calculated_run(company, USER)
    service.request_send(run, admin)
    tasks.drain(max_tasks=50)  # bounded: a row that loops would be claimed again and again
    return rows(run)[USER]


def assert_failed_by_us(row):
    assert (row.state, row.attempts, row.reason) == ("failed", MAX_ATTEMPTS, "internal_error"), (
        row.state, row.attempts, row.reason)
    assert row.lease_until is None and row.finished_at is not None


def test_an_answer_without_kivra_objkey_is_retried_then_failed_with_a_readable_reason(
        app, kivra_company, admin, kivra, as_admin, lang):
    use_client(app, kivra, NoObjkey())
    row = send_and_drain(kivra_company, admin)
    assert_failed_by_us(row)
    # Every attempt sent the same stored bytes: Kivra kept one copy, whatever it answered.
    assert ledger(kivra)["deliveries_per_recipient"] == {USER: 1}

    page = text(as_admin.get(f"/solutions/kivra?month={dispatch_status.this_month():%Y-%m}"))
    assert REASON[lang] in page


def test_a_usermatch_answer_that_is_not_json_is_retried_then_failed(app, kivra_company, admin, kivra):
    use_client(app, kivra, NotJson())  # the send's own usermatch fails too: each row routes itself, and counts
    row = send_and_drain(kivra_company, admin)
    assert_failed_by_us(row)
    assert ledger(kivra)["contents"] == []


def test_a_database_error_mid_attempt_is_rolled_back_and_counted(app, kivra_company, admin, kivra, monkeypatch):
    def store_into_a_broken_transaction(*args):
        db.session.add(Dispatch())  # no company, send, run…: the flush fails and the session needs a rollback
        db.session.flush()

    monkeypatch.setattr(engine, "store_pdf", store_into_a_broken_transaction)  # a row on its own
    monkeypatch.setattr(batch, "_stored_elsewhere", store_into_a_broken_transaction)  # a batch's PDFs and payloads
    row = send_and_drain(kivra_company, admin)
    assert_failed_by_us(row)
    assert ledger(kivra)["contents"] == []


def test_an_unexpected_error_is_logged_without_the_personnummer(app, kivra_company, admin, kivra, caplog):
    use_client(app, kivra, NoObjkey())
    send_and_drain(kivra_company, admin)
    logged = [record.getMessage() for record in caplog.records if record.name == engine.__name__]
    assert any("KeyError" in message for message in logged), logged
    assert not any(USER in message or USER[2:] in message for message in logged)


def test_a_row_whose_worker_died_on_its_last_attempt_is_failed_not_sent_again(app, kivra_company, admin, kivra):
    run = calculated_run(kivra_company, USER)
    service.request_send(run, admin)
    row_id = rows(run)[USER].id
    db.session.execute(update(Dispatch).where(Dispatch.id == row_id).values(  # its worker died mid-attempt, three times
        state="sending", attempts=MAX_ATTEMPTS, claimed_by="a-dead-worker", lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert engine.claim(row_id, engine.settings()) is None
    maintenance.sweep()
    tasks.drain(max_tasks=50)
    assert_failed_by_us(rows(run)[USER])
    assert ledger(kivra)["contents"] == []
    assert db.session.scalar(select(Dispatch.attempts).where(Dispatch.id == row_id)) == MAX_ATTEMPTS
