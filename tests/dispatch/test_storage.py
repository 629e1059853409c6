"""What a finished row keeps: its history and the payload's checksum, not the payload's bytes (the PDF stays per
version). A failed row keeps its bytes, so "Resend failed" sends the very same ones."""
import hashlib
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from kivra import status
from kivra.accounts.models import utcnow
from kivra.dispatch import engine, resends, routing, service, tasks
from kivra.dispatch.models import UNTRIED, Dispatch
from kivra.extensions import db
from kivra.payroll.models import PayslipVersion
from kivra.sender_api.app import kivra_client
from kivra.sender_api.errors import InvalidRequest
from tests.dispatch.test_engine import NOT_USER, NUMBERS, OPTED_OUT, USER, calculated_run, ledger, rows, sender  # noqa: F401 - sender is a fixture

pytestmark = pytest.mark.both_databases


def failed_once(app, company, user, kivra, *numbers):
    """A run sent while Kivra answered every content call with a server error: its Kivra rows failed."""
    app.config.update(DISPATCH_RETRY_SECONDS=0.0, DISPATCH_RETRY_CAP_SECONDS=0.0, DISPATCH_MAX_ATTEMPTS=2,
                      KIVRA_MAX_ATTEMPTS=1)
    app.extensions.pop("kivra_client").close()
    run = calculated_run(company, *numbers)
    service.request_send(run, user)
    routing.route(service.send_of(run).id, kivra_client())
    httpx.post(f"{kivra.url}/_sandbox/faults", json={"error_rate": 1.0})
    tasks.drain()
    httpx.post(f"{kivra.url}/_sandbox/faults", json={})
    return run


def test_finished_rows_keep_the_checksum_of_what_was_sent_but_not_its_bytes(company, sender, kivra):
    company.kivra_retain = True
    db.session.commit()
    run = calculated_run(company, USER, NOT_USER, OPTED_OUT)
    service.request_send(run, sender)
    routing.route(service.send_of(run).id, kivra_client())  # matched now, declined before the content went
    httpx.post(f"{kivra.url}/_sandbox/recipients", json={OPTED_OUT: "opted_out"})
    tasks.drain()
    finished = rows(run)
    assert {number: row.state for number, row in finished.items()} == {
        USER: "delivered", NOT_USER: "retained", OPTED_OUT: "published"}
    for row in finished.values():
        assert row.payload_sha256 is not None, "the checksum says a payload was stored and sent"
        assert row.payload is None, f"a {row.state} row still holds {len(row.payload)} payload bytes"
        assert db.session.scalar(select(Dispatch.id).where(Dispatch.id == row.id, UNTRIED)) is None  # tried: stays
    version = db.session.get(PayslipVersion, finished[USER].version_id)
    assert version.pdf.startswith(b"%PDF-")  # the PDF stays, per version: Min lön shows it


def test_a_row_kivra_refused_drops_its_bytes_too(company, sender, kivra, monkeypatch):
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    routing.route(service.send_of(run).id, kivra_client())

    def refuse(tenant_key, body):
        raise InvalidRequest(400, 40059, "Schema violation", "the salaryslip does not follow the schema", "c-1")

    client = kivra_client()
    monkeypatch.setattr(client, "send_content", refuse)
    assert engine.process(rows(run)[USER].id, client).outcome == "rejected"
    row = rows(run)[USER]
    assert row.payload is None and row.payload_sha256 is not None


def test_a_failed_row_keeps_its_bytes_and_a_resend_sends_exactly_them(app, company, sender, kivra):
    run = failed_once(app, company, sender, kivra, USER)
    row = rows(run)[USER]
    assert row.state == "failed"
    assert row.payload is not None and hashlib.sha256(row.payload).hexdigest() == row.payload_sha256
    checksum = row.payload_sha256

    assert resends.resend_failed(run) == 1
    tasks.drain()
    row = rows(run)[USER]
    assert (row.state, row.payload, row.payload_sha256) == ("delivered", None, checksum)
    assert ledger(kivra)["deliveries_per_recipient"] == {USER: 1}


def test_a_finished_row_is_never_sent_again_whatever_is_asked(company, sender, kivra):
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    tasks.drain()
    row = rows(run)[USER]
    assert row.state == "delivered" and row.payload is None
    month = row.dispatched_at.date().replace(day=1)

    assert resends.resend_failed(run) == 0
    assert status.resend_failed(company.id, month) == 0
    assert engine.process(row.id, kivra_client()) == engine.Attempt(None)  # a stray ring finds nothing to claim
    assert rows(run)[USER].state == "delivered"
    [content] = ledger(kivra)["contents"]
    assert content["received_count"] == 1


def test_a_failed_row_whose_bytes_were_dropped_is_not_resent_with_other_bytes(app, company, sender, kivra):
    run = failed_once(app, company, sender, kivra, USER, NUMBERS[0])
    assert {row.state for row in rows(run).values()} == {"failed"}
    received = sum(content["received_count"] for content in ledger(kivra)["contents"])
    from kivra.dispatch import retention

    dropped = retention.drop_failed_payloads(finished_before=utcnow() + timedelta(seconds=1))
    assert dropped == 2
    month = rows(run)[USER].dispatched_at.date().replace(day=1)

    assert resends.resend_failed(run) == 0
    assert status.resend_failed(company.id, month) == 0
    tasks.drain()
    assert {row.state for row in rows(run).values()} == {"failed"}  # Min lön shows them, as before
    assert sum(content["received_count"] for content in ledger(kivra)["contents"]) == received


def test_a_queued_row_whose_bytes_are_gone_fails_rather_than_sending_something_else(company, sender, kivra):
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    routing.route(service.send_of(run).id, kivra_client())
    row_id = rows(run)[USER].id
    db.session.execute(update(Dispatch).where(Dispatch.id == row_id).values(payload=None, payload_sha256="0" * 64))
    db.session.commit()  # as if the bytes had been dropped behind the engine's back
    assert engine.process(row_id, kivra_client()).outcome == "failed"
    assert (rows(run)[USER].state, rows(run)[USER].reason) == ("failed", "internal_error")
    assert ledger(kivra)["contents"] == []


def test_a_failed_row_without_a_stored_payload_is_still_resent(company, sender, kivra):
    run = calculated_run(company, USER)
    company.phone = None
    db.session.commit()
    service.request_send(run, sender)
    tasks.drain()
    assert rows(run)[USER].reason == "payload_invalid"
    from kivra.dispatch import retention

    retention.drop_failed_payloads(finished_before=utcnow() + timedelta(seconds=1))
    company.phone = "08-123 45 67"
    db.session.commit()
    assert resends.resend_failed(run) == 1  # nothing was ever built, so nothing can differ from it
    tasks.drain()
    assert rows(run)[USER].state == "delivered"


def test_a_worker_whose_lease_ran_out_while_building_sends_nothing_once_the_other_has_finished(company, sender, kivra,
                                                                                               monkeypatch):
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    routing.route(service.send_of(run).id, kivra_client())
    row_id = rows(run)[USER].id
    slow = engine.claim(row_id, engine.settings())
    real_content = engine.payslip_content

    def build_while_the_other_worker_sends_and_finishes(*args, **kwargs):
        body = real_content(*args, **kwargs)
        with db.engine.begin() as other:  # it took over after the lease, stored, was delivered, dropped its bytes
            other.execute(update(Dispatch).where(Dispatch.id == row_id).values(
                state="delivered", claimed_by="the-other-worker", payload=None,
                payload_sha256=hashlib.sha256(body).hexdigest(), finished_at=utcnow()))
        return body

    monkeypatch.setattr(engine, "payslip_content", build_while_the_other_worker_sends_and_finishes)
    with pytest.raises(engine.PayloadDropped):  # no bytes to send: `process` records nothing, the row is the other's
        engine.stored_payload(slow, engine.settings())
    row = rows(run)[USER]
    assert (row.state, row.payload) == ("delivered", None)  # its bytes are not stored again

