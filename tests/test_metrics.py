"""Prometheus metrics: the web's /metrics (only for METRICS_TOKEN's bearer) computes sends, payslips by state and
channel, queue depth, the oldest due row's age and live workers from the database at scrape time; each worker serves
its own Kivra call latency and error codes on a port of its own. No personal data in any label, no company label."""
from datetime import timedelta

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, update

from kivra.accounts.models import utcnow
from kivra.dispatch import tasks
from kivra.dispatch.heartbeat import WorkerHeartbeat
from kivra.dispatch.models import Dispatch, PayslipSend
from kivra.extensions import db
from kivra.mail import outbox
from kivra.mail.models import MailKind, MailState
from kivra.metrics import parse_port, serve_worker_metrics
from kivra.sender_api.app import client_from_config

pytestmark = pytest.mark.both_databases
TOKEN = "scrape-me-0123456789"


def scrape(app, token=TOKEN):
    return app.test_client().get("/metrics", headers={"Authorization": f"Bearer {token}"} if token else {})


def samples(response) -> dict[tuple, float]:
    """(name, labels as sorted tuple) -> value, from Prometheus' text format."""
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/plain"
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_without_a_token_configured_there_are_no_metrics(app):
    app.config["METRICS_TOKEN"] = None
    assert scrape(app).status_code == 404
    assert scrape(app, token=None).status_code == 404


def test_only_the_tokens_bearer_may_scrape(app):
    app.config["METRICS_TOKEN"] = TOKEN
    assert scrape(app, token=None).status_code == 401
    assert scrape(app, token="wrong").status_code == 401
    assert scrape(app).status_code == 200


def test_the_figures_are_the_databases(app, as_admin, run, other_company):
    app.config["METRICS_TOKEN"] = TOKEN
    assert as_admin.post(f"/runs/{run.id}/send/min-lon").status_code == 303  # one payslip queued, not published
    send_id = db.session.scalar(select(PayslipSend.id))
    db.session.execute(update(Dispatch).where(Dispatch.send_id == send_id)
                       .values(due_at=utcnow() - timedelta(seconds=90)))
    now = utcnow()
    db.session.add(WorkerHeartbeat(name="w:1", host="w", pid=1, started_at=now, seen_at=now))
    db.session.commit()
    found = samples(scrape(app))

    by_state_and_channel = db.session.execute(
        select(Dispatch.state, Dispatch.channel, func.count()).group_by(Dispatch.state, Dispatch.channel)).all()
    assert by_state_and_channel == [("queued", "minlon", 1)]
    assert found[("payroll_payslips", (("channel", "minlon"), ("state", "queued")))] == 1
    assert found[("payroll_payslips", (("channel", "kivra"), ("state", "delivered")))] == 0
    assert found[("payroll_sends", (("state", "queued"),))] == 1
    assert found[("payroll_sends_unfinished", ())] == 1
    assert found[("payroll_queue_depth", ())] == tasks.huey.pending_count() == 1
    assert found[("payroll_queue_up", ())] == 1
    assert 90 <= found[("payroll_oldest_due_seconds", ())] < 150
    assert found[("payroll_workers_alive", ())] == 1
    # No company, no person, no address: states, channels and kinds of e-mail only.
    assert {name for name, labels in found for name, _ in labels} <= {"state", "channel", "kind"}

    tasks.drain()  # the worker publishes it in Min lön: the next scrape says so
    found = samples(scrape(app))
    assert found[("payroll_payslips", (("channel", "minlon"), ("state", "published")))] == 1
    assert found[("payroll_payslips", (("channel", "minlon"), ("state", "queued")))] == 0
    assert found[("payroll_sends_unfinished", ())] == 0
    assert found[("payroll_oldest_due_seconds", ())] == 0


def test_the_e_mail_outbox_is_counted_so_mail_that_does_not_leave_is_seen(app, company):
    app.config["METRICS_TOKEN"] = TOKEN
    waiting = outbox.queue(MailKind.INVITATION, "anna@example.se", "Inbjudan", "Hej", company_id=company.id)
    refused = outbox.queue(MailKind.PAYSLIP_NOTICE, "bo@example.se", "Nytt lönebesked", "Hej", company_id=company.id)
    waiting.created_at = utcnow() - timedelta(minutes=10)
    refused.state, refused.last_error = MailState.FAILED, "550 5.1.1 No such mailbox"
    db.session.commit()
    found = samples(scrape(app))
    assert found[("payroll_emails", (("kind", "invitation"), ("state", "queued")))] == 1
    assert found[("payroll_emails", (("kind", "payslip_notice"), ("state", "failed")))] == 1
    assert found[("payroll_emails", (("kind", "password_reset"), ("state", "sent")))] == 0
    assert 600 <= found[("payroll_oldest_unsent_email_seconds", ())] < 660
    assert "anna@example.se" not in scrape(app).get_data(as_text=True)


def test_kivra_calls_are_timed_and_their_error_codes_counted(app, kivra):
    client = client_from_config({**app.config, "KIVRA_MAX_ATTEMPTS": 2})

    def value(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0

    def server_errors():  # the sandbox answers 500/50000 or 503/50301
        return sum(s.value for m in REGISTRY.collect() for s in m.samples
                   if s.name == "kivra_errors_total" and s.labels["code"].startswith("5"))

    calls = value("kivra_request_duration_seconds_count", method="POST", endpoint="/v1/auth")
    errors = server_errors()
    client._access_token()  # authenticated: the token is cached
    assert value("kivra_request_duration_seconds_count", method="POST", endpoint="/v1/auth") == calls + 1
    httpx.post(f"{kivra.url}/_sandbox/faults", json={"error_rate": 1.0})
    try:
        with pytest.raises(Exception):
            client.find_tenants("5568402266")
    finally:
        httpx.post(f"{kivra.url}/_sandbox/faults", json={})
        client.close()
    assert server_errors() == errors + 2  # each attempt counts
    assert value("kivra_request_duration_seconds_count", method="GET", endpoint="/v2/tenant") >= 2


def test_tenant_and_request_keys_are_not_labels():
    from kivra.sender_api.metrics import endpoint

    assert endpoint("/v2/tenant/17960812823/content") == "/v2/tenant/{tenant}/content"
    assert endpoint("/v2/tenant/abc/usermatch/ssn") == "/v2/tenant/{tenant}/usermatch/ssn"
    assert endpoint("/v2/tenant/abc") == "/v2/tenant/{tenant}"
    assert endpoint("/v2/tenant/request_access/r1") == "/v2/tenant/request_access/{request}"
    assert endpoint("/v2/tenant/request_access") == "/v2/tenant/request_access"


def test_a_worker_serves_its_own_metrics_on_its_port(app):
    server = serve_worker_metrics(0, "127.0.0.1")
    try:
        response = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5)
        assert response.status_code == 200
        names = {family.name for family in text_string_to_metric_families(response.text)}
        assert {"kivra_request_duration_seconds", "kivra_errors"} <= names
    finally:
        server.shutdown()
        server.server_close()


def test_the_metrics_port_may_be_a_base_plus_the_units_instance():
    assert parse_port("9100") == 9100
    assert parse_port("9100+3") == 9103
    with pytest.raises(ValueError):
        parse_port("ninety")
