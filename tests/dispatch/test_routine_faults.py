"""Routine faults cost no lease: a stopping worker hands its claims back, a task that meets a database or Redis
outage is tried again, and rows whose ring was lost (Redis restarted empty, an enqueue that failed) are rung again
within a minute whatever the queue holds. Real processes: tests/reliability/test_routine_faults.py."""
from datetime import timedelta

import psycopg
import pytest
import redis
from sqlalchemy import exc, select, update

from kivra.accounts.models import utcnow
from kivra.agreement import kivra_calls
from kivra.agreement.models import KivraJob
from kivra.dispatch import app_queue, batch, engine, kivra_jobs as jobs, leases, maintenance, service, tasks
from kivra.dispatch.models import Dispatch
from kivra.extensions import db
from tests.dispatch.test_engine import NOT_USER, USER, calculated_run, ledger, rows, sender  # noqa: F401 - fixtures
from tests.dispatch.test_leases import busy_queue, claimed_row, lose_the_tasks
from tests.reliability.processes import ROOT
from tests.reliability.scenario import web_queue

OUTAGES = {
    "database": exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused")),
    "database-interface": exc.InterfaceError("SELECT 1", {}, Exception("connection already closed")),
    "psycopg": psycopg.OperationalError("server closed the connection unexpectedly"),
    "redis": redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
}


def failing_once(real, error: Exception):
    calls = []

    def fake(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise error
        return real(*args, **kwargs)
    return fake, calls


@pytest.mark.parametrize("outage", OUTAGES, ids=list(OUTAGES))
def test_a_send_that_meets_an_outage_is_tried_again_not_dropped(app, company, sender, kivra, monkeypatch, outage):
    app.config["DISPATCH_OUTAGE_RETRY_SECONDS"] = 0
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    fake, calls = failing_once(batch.process_many, OUTAGES[outage])
    monkeypatch.setattr(batch, "process_many", fake)
    tasks.drain()
    assert len(calls) == 2, "the task was not run again after the outage"
    assert rows(run)[USER].state == "delivered"
    assert ledger(kivra)["deliveries_per_recipient"] == {USER: 1}


def test_a_bug_is_not_retried_as_an_outage(app, company, sender, kivra, monkeypatch):
    app.config["DISPATCH_OUTAGE_RETRY_SECONDS"] = 0
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    fake, calls = failing_once(batch.process_many, KeyError("a bug"))
    monkeypatch.setattr(batch, "process_many", fake)
    tasks.drain()
    assert len(calls) == 1
    assert rows(run)[USER].state == "queued"  # the sweep rings it once it counts as lost


def test_outage_retries_last_longer_than_a_20_s_database_outage(app):
    from kivra.dispatch import outages

    assert outages.OUTAGE_RETRIES * app.config["DISPATCH_OUTAGE_RETRY_SECONDS"] >= 40


def test_the_start_of_a_send_that_meets_an_outage_is_tried_again(app, company, sender, kivra, monkeypatch):
    app.config["DISPATCH_OUTAGE_RETRY_SECONDS"] = 0
    run = calculated_run(company, USER, NOT_USER)
    fake, calls = failing_once(engine.publish_due_min_lon, OUTAGES["database"])  # routed, then the database went
    monkeypatch.setattr(engine, "publish_due_min_lon", fake)
    service.request_send(run, sender)
    tasks.drain()
    assert {number: row.state for number, row in rows(run).items()} == {USER: "delivered", NOT_USER: "published"}


def test_with_the_shipped_timings_a_lost_ring_is_found_within_a_minute(app):
    lease = timedelta(seconds=app.config["DISPATCH_LEASE_SECONDS"])
    assert leases.lost_after(lease) + timedelta(seconds=app.config["DISPATCH_SWEEP_SECONDS"]) <= timedelta(seconds=60)
    job_grace = app.config["KIVRA_JOB_GRACE_SECONDS"] + app.config["DISPATCH_SWEEP_SECONDS"]
    assert job_grace <= 60, "a Kivra job whose task was lost waits for the hourly-ish access check"


def test_a_send_whose_start_was_lost_is_rung_within_a_minute_while_the_queue_is_busy(app, company, sender, kivra):
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    tasks.huey.flush()  # start_send lost: the rows are queued and unrouted
    db.session.execute(update(Dispatch).where(Dispatch.run_id == run.id)
                       .values(due_at=utcnow() - timedelta(seconds=50)))
    db.session.commit()
    busy_queue()
    assert maintenance.sweep() == 1
    tasks.drain()
    assert rows(run)[USER].state == "delivered"


def test_a_ring_the_queue_refused_is_rung_again_by_the_next_sweep(app, company, sender, kivra, monkeypatch):
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    lose_the_tasks(run, due_since=engine.settings().lease * 2)
    real = tasks.huey.enqueue
    monkeypatch.setattr(tasks.huey, "enqueue", lambda task: (_ for _ in ()).throw(OUTAGES["redis"]))
    with pytest.raises(redis.ConnectionError):
        maintenance.sweep()  # Redis is away: nothing was rung
    monkeypatch.setattr(tasks.huey, "enqueue", real)
    assert maintenance.sweep() == 1
    tasks.drain()
    assert rows(run)[USER].state == "delivered"


def test_a_stopping_worker_hands_its_claims_back_with_their_stored_bytes(company, sender, kivra):
    run, claim = claimed_row(company, sender)
    engine.stored_payload(claim, engine.settings())
    stored = db.session.scalar(select(Dispatch.payload_sha256).where(Dispatch.id == claim.id))
    with leases.holding(claim.id, claim.token):
        assert leases.release_held() == [(claim.id, 0)]
    row = rows(run)[USER]
    assert (row.state, row.claimed_by, row.lease_until, row.attempts) == ("queued", None, None, 0)
    assert row.due_at is not None and row.due_at <= utcnow().replace(tzinfo=None)
    assert row.payload_sha256 == stored and row.payload is not None
    assert not engine.finish(claim, state="delivered"), "the old claim could still record an outcome"
    tasks.drain()  # start_send's ring sends it (the worker rings for the rows it released, too)
    row = rows(run)[USER]
    assert (row.state, row.attempts, row.payload_sha256) == ("delivered", 1, stored)


def test_a_claim_taken_over_meanwhile_is_not_released(company, sender, kivra):
    run, first = claimed_row(company, sender)
    db.session.execute(update(Dispatch).where(Dispatch.id == first.id)
                       .values(lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    second = engine.claim(first.id, engine.settings())
    with leases.holding(first.id, first.token):
        assert leases.release_held() == []
    assert (rows(run)[USER].state, rows(run)[USER].claimed_by) == ("sending", second.token)


def test_a_stopping_worker_hands_back_the_kivra_job_in_its_hands(app, company):
    job = kivra_calls.request(company.id, "usermatch")
    claimed = kivra_calls.claim(job.id, 300)
    with jobs.in_hand(claimed.id):
        assert jobs.release_in_hand() == [claimed.id]
    db.session.expire_all()
    job = db.session.get(KivraJob, claimed.id)
    assert (job.state, job.attempts) == ("queued", 0)


def test_the_sweep_rings_a_kivra_job_whose_task_was_lost(app, company):
    job = kivra_calls.request(company.id, "usermatch")
    job.requested_at = utcnow() - timedelta(seconds=app.config["KIVRA_JOB_GRACE_SECONDS"] + 1)
    db.session.commit()
    maintenance.sweep()
    queued = [task for task in tasks.huey.pending() if task.name == "kivra.run_job"]
    assert [task.args for task in queued] == [(job.id,)]


def test_a_queue_that_lost_its_contents_is_noticed(redis_url):
    from kivra.dispatch.queue_memory import QueueMemory

    memory, client = QueueMemory(), redis.Redis.from_url(redis_url)
    try:
        client.flushall()
        storage = app_queue.make_storage("queue-memory-test", redis_url)
        first = memory.lost(storage)
        assert first, "a new queue may have lost what was queued before it"
        assert not memory.lost(storage)
        assert not QueueMemory().lost(storage), "another process saw the same queue"
        client.flushall()  # Redis restarted without persistence
        assert memory.lost(storage)
        assert not memory.lost(storage)
        memory.unreachable()  # a task or the sweep could not reach Redis: rings may have been lost meanwhile
        assert memory.lost(storage)
        storage.conn.close()
    finally:
        client.close()


def test_after_redis_lost_its_queue_the_sweep_rings_every_due_row_at_once(app, company, sender, kivra, redis_url):
    run = calculated_run(company, USER, NOT_USER)
    with web_queue({"REDIS_URL": redis_url, "HUEY_NAME": "sweep-loss-test"}):
        service.request_send(run, sender)
        tasks.drain(max_tasks=1)  # start_send, its ring in Redis
        maintenance.sweep()  # the sweep knows this queue now
        busy_queue()
        app_queue.queue_storage().conn.flushall()  # Redis restarted without persistence: the ring and the busy queue lost
        busy_queue()  # and the web went on ringing for other sends
        assert maintenance.sweep() == 1, "the lost ring was not rung again at once"
        tasks.drain()
    assert rows(run)[USER].state == "delivered"


def test_systemd_stops_a_worker_with_sigterm_and_waits_longer_than_its_grace(app):
    unit = (ROOT / "deploy" / "payroll-worker@.service").read_text()
    settings = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.startswith("#"))
    assert settings.get("KillSignal", "SIGTERM") == "SIGTERM"
    assert float(settings["TimeoutStopSec"]) >= app.config["WORKER_STOP_GRACE_SECONDS"] + 10
