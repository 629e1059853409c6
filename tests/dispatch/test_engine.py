"""The dispatch engine through its queue, against the Kivra sandbox over HTTP: routing, outcomes, retries, claims."""
import base64
import hashlib
import json
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from kivra.accounts.models import utcnow
from kivra.agreement import onboarding
from kivra.demo import employee_numbers
from kivra.dispatch import activation, engine, resends, routing, service, tasks
from kivra.dispatch.models import Dispatch
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.payroll import service as payroll
from kivra.sender_api.app import kivra_client
from tests.conftest import make_employee, make_user

pytestmark = pytest.mark.both_databases

NUMBERS = employee_numbers()  # the sandbox knows the demo employees: 18–19 not users, 20 opted out, 21 dormant
USER, NOT_USER, OPTED_OUT, DORMANT, COORDINATION = "191212121212", NUMBERS[18], NUMBERS[20], NUMBERS[21], NUMBERS[24]


@pytest.fixture
def sender(company, kivra):
    """A company with Kivra's agreement approved and access granted, its employer details filled in."""
    company.street_address, company.postal_code, company.city = "Storgatan 1", "111 22", "Stockholm"
    company.email, company.phone = "lon@demo.se", "08-123 45 67"
    db.session.commit()
    admin = make_user(company, "admin")
    activation.approve(company, admin, kivra_client(), payslips=True, invoices=False)
    return admin


def calculated_run(company, *numbers, **employee_fields):
    for index, number in enumerate(numbers):
        make_employee(company, name=f"Person {index}", personnummer=number, **employee_fields)
    run = payroll.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    payroll.calculate_run(run)
    return run


def rows(run):
    db.session.expire_all()
    return {
        version.personnummer: row
        for row, version in db.session.execute(
            select(Dispatch, payroll.PayslipVersion).join(payroll.PayslipVersion, payroll.PayslipVersion.id == Dispatch.version_id)
            .where(Dispatch.run_id == run.id)
        )
    }


def ledger(kivra):
    return httpx.get(f"{kivra.url}/_sandbox/ledger").json()


def test_pressing_send_writes_one_row_per_payslip_and_sends_nothing_yet(company, sender, kivra):
    run = calculated_run(company, USER, NOT_USER)
    service.request_send(run, sender)
    assert {row.state for row in rows(run).values()} == {"queued"}
    assert ledger(kivra)["contents"] == []


def test_kivra_users_get_kivra_the_rest_min_lon_with_the_reason(company, sender, kivra):
    run = calculated_run(company, USER, NOT_USER, COORDINATION)
    service.request_send(run, sender)
    tasks.drain()
    by_number = rows(run)
    assert (by_number[USER].channel, by_number[USER].state) == ("kivra", "delivered")
    assert (by_number[NOT_USER].channel, by_number[NOT_USER].state, by_number[NOT_USER].reason) == (
        "minlon", "published", "not_kivra_user")
    assert (by_number[COORDINATION].channel, by_number[COORDINATION].reason) == ("minlon", "id_not_accepted")
    assert ledger(kivra)["deliveries_per_recipient"] == {USER: 1}


def test_an_employee_kept_on_min_lon_never_goes_to_kivra(company, sender, kivra):
    run = calculated_run(company, USER, min_lon_only=True)
    service.request_send(run, sender)
    tasks.drain()
    assert (rows(run)[USER].channel, rows(run)[USER].state, rows(run)[USER].reason) == ("minlon", "published", "min_lon_only")
    assert ledger(kivra)["contents"] == []


def test_with_retain_kivra_holds_payslips_for_people_not_yet_in_kivra(company, sender, kivra):
    company.kivra_retain = True
    db.session.commit()
    run = calculated_run(company, USER, NOT_USER)
    service.request_send(run, sender)
    tasks.drain()
    assert rows(run)[NOT_USER].state == "retained"
    held = [c for c in ledger(kivra)["contents"] if c["recipient"] == NOT_USER]
    assert held[0]["retained"] and held[0]["retention_days"] == 390


def test_a_matched_person_who_opts_out_before_the_send_gets_min_lon(company, sender, kivra):
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    routing.route(service.send_of(run).id, kivra_client())  # matched now…
    httpx.post(f"{kivra.url}/_sandbox/recipients", json={USER: "opted_out"})  # …declined before the content went
    tasks.drain()
    row = rows(run)[USER]
    assert (row.channel, row.state, row.reason, row.error_code) == ("minlon", "published", "opted_out", 40105)


def test_server_errors_are_retried_with_the_same_bytes_until_delivered(app, company, sender, kivra):
    app.config.update(DISPATCH_RETRY_SECONDS=0.0, DISPATCH_RETRY_CAP_SECONDS=0.0, KIVRA_MAX_ATTEMPTS=1)
    app.extensions.pop("kivra_client").close()
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    routing.route(service.send_of(run).id, kivra_client())  # routed; the content calls are what fail
    httpx.post(f"{kivra.url}/_sandbox/faults", json={"error_rate": 1.0})
    tasks.drain(max_tasks=3)
    row = rows(run)[USER]
    assert row.state == "queued" and row.attempts >= 1 and row.error_code in (50000, 50301)
    first_bytes = row.payload
    httpx.post(f"{kivra.url}/_sandbox/faults", json={})
    tasks.drain()
    row = rows(run)[USER]
    assert row.state == "delivered" and row.payload_sha256 == hashlib.sha256(first_bytes).hexdigest()
    assert ledger(kivra)["deliveries_per_recipient"] == {USER: 1}


def test_after_the_last_attempt_the_row_fails_with_kivras_code_and_correlation_id(app, company, sender, kivra):
    app.config.update(DISPATCH_RETRY_SECONDS=0.0, DISPATCH_RETRY_CAP_SECONDS=0.0, DISPATCH_MAX_ATTEMPTS=3,
                      KIVRA_MAX_ATTEMPTS=1)
    app.extensions.pop("kivra_client").close()
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    httpx.post(f"{kivra.url}/_sandbox/faults", json={"error_rate": 1.0})
    tasks.drain()
    row = rows(run)[USER]
    assert (row.state, row.attempts) == ("failed", 3)
    assert row.error_code in (50000, 50301) and row.correlation_id

    httpx.post(f"{kivra.url}/_sandbox/faults", json={})
    assert resends.resend_failed(run) == 1
    tasks.drain()
    assert rows(run)[USER].state == "delivered"


def test_a_crashed_claim_is_taken_over_after_its_lease_and_sent_once(app, company, sender, kivra):
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    row_id = rows(run)[USER].id
    settings = engine.settings()
    first = engine.claim(row_id, settings)
    assert first is not None
    assert engine.claim(row_id, settings) is None  # claimed: nobody else may take it
    later = utcnow() + settings.lease + timedelta(seconds=1)
    second = engine.claim(row_id, settings, now=later)
    assert second is not None and second.token != first.token and second.attempts == 2
    assert not engine.finish(first, state="delivered")  # the first worker's late answer is ignored


def test_a_correction_goes_as_a_new_document_saying_so_and_the_original_is_not_resent(company, sender, kivra):
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    tasks.drain()
    payslip = run.payslips[0]
    payslip.lines[0].amount_ore += 100_000
    db.session.commit()
    payroll.correct(payslip)
    assert resends.send_corrections(run) == 1
    assert resends.send_corrections(run) == 0  # a double click adds nothing
    tasks.drain()
    subjects = sorted(c["subject"] for c in ledger(kivra)["contents"])
    assert subjects == ["Lönebesked november 2026", "Rättat lönebesked november 2026"]
    assert db.session.scalar(select(func.count()).select_from(Dispatch)) == 2


def test_a_scheduled_send_waits_and_can_be_cancelled_before_it_starts(company, sender, kivra):
    run = calculated_run(company, USER)
    service.request_send(run, sender, scheduled_for=utcnow() + timedelta(hours=2))
    tasks.drain()
    assert rows(run)[USER].state == "queued" and ledger(kivra)["contents"] == []
    service.cancel_scheduled(run)
    assert service.send_of(run) is None and rows(run) == {}
    service.request_send(run, sender)  # and it can be sent after all
    tasks.drain()
    assert rows(run)[USER].state == "delivered"



def test_rows_wait_while_kivra_access_is_not_granted_and_go_once_it_is(company, sender, kivra):
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    kivra_sender = onboarding.sender_of(company.id)
    kivra_sender.state = "pending"  # e.g. Kivra withdrew access and the check has not settled it yet
    db.session.commit()
    tasks.drain()
    assert rows(run)[USER].state == "held" and ledger(kivra)["contents"] == []
    assert company.id in service.waiting_companies()
    kivra_sender.state = "active"
    db.session.commit()
    assert service.settle_waiting(company) == 1
    tasks.drain()
    assert rows(run)[USER].state == "delivered"
    assert ledger(kivra)["deliveries_per_recipient"] == {USER: 1}


def test_the_reason_for_min_lon_comes_from_the_number_itself():
    assert routing.min_lon_reason(NOT_USER) == "not_kivra_user"
    assert routing.min_lon_reason(COORDINATION) == "id_not_accepted"
    assert routing.min_lon_reason("191212121213") == "invalid_personnummer"


def test_backoff_grows_with_jitter_and_stays_under_the_cap():
    settings = engine.Settings(lease=timedelta(seconds=60), max_attempts=8, retry_base=10, retry_cap=300)
    waits = [engine.backoff(attempt, settings) for attempt in range(1, 12) for _ in range(20)]
    assert all(5 <= wait <= 300 for wait in waits)
    assert max(engine.backoff(1, settings) for _ in range(50)) <= 10
    assert len({round(wait, 3) for wait in waits}) > 100  # jitter: retries do not come back together


def test_when_the_sends_usermatch_failed_each_row_is_routed_when_its_turn_comes(company, sender, kivra):
    run = calculated_run(company, USER, NOT_USER)
    service.request_send(run, sender)
    assert not any(row.routed for row in rows(run).values())  # as if start_send's usermatch never happened
    for row in rows(run).values():
        engine.process(row.id, kivra_client())
    by_number = rows(run)
    assert (by_number[USER].channel, by_number[USER].state) == ("kivra", "delivered")
    assert (by_number[NOT_USER].channel, by_number[NOT_USER].state, by_number[NOT_USER].reason) == (
        "minlon", "published", "not_kivra_user")
    assert ledger(kivra)["deliveries_per_recipient"] == {USER: 1}


def test_missing_employer_details_fail_the_payslip_until_they_are_filled_in(company, sender, kivra):
    run = calculated_run(company, USER)
    company.phone = None
    db.session.commit()
    service.request_send(run, sender)
    tasks.drain()
    assert (rows(run)[USER].state, rows(run)[USER].reason) == ("failed", "payload_invalid")
    assert ledger(kivra)["contents"] == []
    company.phone = "08-123 45 67"
    db.session.commit()
    resends.resend_failed(run)
    tasks.drain()
    assert rows(run)[USER].state == "delivered"


def test_a_resent_payslip_that_was_never_built_is_routed_again_so_retain_still_holds(company, sender, kivra):
    company.kivra_retain = True
    company.phone = None
    db.session.commit()
    run = calculated_run(company, NOT_USER)
    service.request_send(run, sender)
    tasks.drain()
    assert (rows(run)[NOT_USER].state, rows(run)[NOT_USER].reason) == ("failed", "payload_invalid")
    company.phone = "08-123 45 67"
    db.session.commit()
    assert resends.resend_failed(run) == 1
    tasks.drain()
    assert rows(run)[NOT_USER].state == "retained"  # not refused by Kivra as a non-user without retain
    [held] = ledger(kivra)["contents"]
    assert held["retained"] and held["recipient"] == NOT_USER


def test_the_sends_usermatch_is_remembered_per_employee(company, sender, kivra):
    run = calculated_run(company, USER, NOT_USER, COORDINATION)
    service.request_send(run, sender)
    tasks.drain()
    statuses = {e.personnummer: (e.kivra_status, e.kivra_checked_at is not None)
                for e in db.session.scalars(select(Employee))}
    assert statuses == {USER: ("user", True), NOT_USER: ("not_user", True), COORDINATION: ("id_not_accepted", True)}


def test_a_row_belongs_to_the_month_it_was_dispatched(company, sender, kivra):
    run = calculated_run(company, USER, NOT_USER)
    service.request_send(run, sender)
    tasks.drain()
    for row in rows(run).values():
        assert row.dispatched_at == row.finished_at


def test_a_correction_to_a_scheduled_send_replaces_the_original_and_waits_with_it(company, sender, kivra):
    run = calculated_run(company, USER)
    service.request_send(run, sender, scheduled_for=utcnow() + timedelta(hours=2))
    db.session.expire_all()  # read back from the database, as a later request would
    payslip = run.payslips[0]
    payslip.lines[0].amount_ore += 100_000
    db.session.commit()
    payroll.correct(payslip)
    assert resends.send_corrections(run) == 1
    tasks.drain()
    states = sorted((row.state, row.reason or "") for row in db.session.scalars(select(Dispatch)))
    assert states == [("cancelled", "superseded"), ("queued", "")]
    assert ledger(kivra)["contents"] == []


def test_a_pdf_another_worker_stored_first_is_the_one_sent(company, sender, kivra, monkeypatch):
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    claim = engine.claim(rows(run)[USER].id, engine.settings())
    version_id = claim.version_id
    stored_first = payroll.render_pdf(db.session.get(payroll.PayslipVersion, version_id), False)

    def render_while_another_worker_stores(version, correction):
        # The other worker (a takeover after a lease ran out) stores its PDF while this one is rendering.
        with db.engine.begin() as other:
            other.execute(update(payroll.PayslipVersion).where(payroll.PayslipVersion.id == version_id)
                          .values(pdf=stored_first, pdf_sha256="other"))
        return stored_first + b"%% rendered here\n"

    monkeypatch.setattr(engine, "render_pdf", render_while_another_worker_stores)
    body = engine.stored_payload(claim, engine.settings())
    sent_pdf = base64.b64decode(json.loads(body)["parts"][0]["data"])
    assert sent_pdf == stored_first  # what Min lön shows is what Kivra gets
    assert db.session.scalar(select(Dispatch.payload).where(Dispatch.id == claim.id)) == body


def test_a_payload_another_worker_stored_first_is_the_one_sent(company, sender, kivra):
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    claim = engine.claim(rows(run)[USER].id, engine.settings())
    with db.engine.begin() as other:  # stored by a worker whose claim ran out, after this claim was read
        other.execute(update(Dispatch).where(Dispatch.id == claim.id)
                      .values(payload=b'{"stored": "first"}', payload_sha256="first"))
    assert engine.stored_payload(claim, engine.settings()) == b'{"stored": "first"}'


def test_a_worker_whose_claim_ran_out_while_routing_leaves_the_row_to_the_one_that_took_over(
        company, sender, kivra, monkeypatch):
    run = calculated_run(company, USER)
    service.request_send(run, sender)  # not drained: the send's usermatch has not happened
    row_id = rows(run)[USER].id
    real_route = routing.route

    def route_while_the_lease_runs_out(send_id, client):
        routed = real_route(send_id, client)
        with db.engine.begin() as other:  # another worker takes the row over after the lease
            other.execute(update(Dispatch).where(Dispatch.id == row_id).values(claimed_by="the-other-worker"))
        return routed

    monkeypatch.setattr(routing, "route", route_while_the_lease_runs_out)
    assert engine.process(row_id, kivra_client()) == engine.Attempt(None)
    assert ledger(kivra)["contents"] == []  # this worker sent nothing
    assert db.session.scalar(select(Dispatch.payload).where(Dispatch.id == row_id)) is None
