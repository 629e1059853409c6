"""Routine faults in the production shape (two `flask worker`s, PostgreSQL, Redis), with the shipped lease and sweep:
a worker stopped with SIGTERM mid-send, Redis restarted without persistence mid-send, PostgreSQL stopped for 20 s
mid-send. Each prints its recovery time (goal: within a minute) and every payslip reaches Kivra exactly once."""
import re
import signal
import time

import pytest
from sqlalchemy import select

from kivra.accounts.models import utcnow
from kivra.dispatch import tasks
from kivra.dispatch.heartbeat import WorkerHeartbeat
from kivra.dispatch.models import Dispatch
from kivra.extensions import db
from tests.conftest import report_figure
from tests.reliability.checks import all_final, assert_delivered_exactly_once, finished, rows_sending, states, wait_for
from tests.reliability.processes import worker, worker_env
from tests.reliability.scenario import install_delivery_audit, migrate, queued_send, web_queue

PAYSLIPS, THREADS = 150, 4
RECOVERY_LIMIT = 60  # seconds: the goal for every routine fault
PICKUP_LIMIT = 10  # seconds from SIGTERM until the rows the stopped worker had in hand are done by someone
OUTAGE_SECONDS = 20


@pytest.fixture
def stack(own_postgres, own_redis, tmp_path, processes, start_sandbox, app_on):
    """The database migrated and audited, a send of PAYSLIPS queued in Redis, and a start(name, **settings) for
    workers with the shipped lease and sweep (only the pause after an outage is shortened)."""
    sandbox = start_sandbox()
    migrate(own_postgres.url, tmp_path / "migrate.log")
    app = app_on(own_postgres.url, sandbox)
    with app.app_context():
        install_delivery_audit()
    queue = {"REDIS_URL": own_redis.url}
    send = queued_send(app, sandbox, PAYSLIPS, queue)
    sandbox.admin("POST", "faults", {"latency_ms": 300})  # sends take a while: there is always something in hand

    def start(name: str, **settings):
        env = {key: value for key, value in worker_env(f"{own_postgres.url}?application_name={name}", sandbox,
                                                       **queue, DISPATCH_OUTAGE_RETRY_SECONDS=0.5, **settings).items()
               if key not in ("DISPATCH_LEASE_SECONDS", "DISPATCH_SWEEP_SECONDS")}
        return processes.start(worker(name, env, tmp_path / f"{name}.log", THREADS))

    return app, sandbox, send, start




def all_done(app, ids: set[int]) -> bool:
    with app.app_context():
        try:
            return not db.session.scalar(select(Dispatch.id).where(
                Dispatch.id.in_(ids), Dispatch.state.in_(("queued", "sending", "held"))).limit(1))
        finally:
            db.session.remove()


def heartbeats_since(app, moment) -> int:
    with app.app_context():
        try:
            return len(db.session.scalars(select(WorkerHeartbeat.id).where(
                WorkerHeartbeat.seen_at > moment.replace(tzinfo=None))).all())
        finally:
            db.session.remove()


def poll(condition, seconds: float, what: str, report) -> float:
    """Seconds until `condition` held; fails past the deadline."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > seconds:
            pytest.fail(f"{what}: not within {seconds:.0f} s\n{report()}")
        time.sleep(0.1)
    return time.monotonic() - start


@pytest.mark.parametrize(("how", "grace"), [(signal.SIGTERM, None), (signal.SIGTERM, 0.2), (signal.SIGINT, 0.2)],
                         ids=["sigterm-in-hand-finish", "sigterm-handed-back", "sigint-handed-back"])
def test_a_worker_stopped_with_sigterm_or_sigint_mid_send_leaves_nothing_for_a_lease(stack, processes, how, grace):
    app, sandbox, send, start = stack
    if grace is not None:
        sandbox.admin("POST", "faults", {"latency_ms": 1200})  # sends outlast the grace: some are handed back
    stopped = start("worker-a", **({"WORKER_STOP_GRACE_SECONDS": grace} if grace is not None else {}))
    other = start("worker-b")
    wait_for(app, send, lambda counts: finished(counts) >= PAYSLIPS // 4 and counts["sending"] >= THREADS, 120,
             "a quarter of the payslips done, sends in hand", processes.report)

    stopped.popen.send_signal(how)
    term, hand = time.monotonic(), rows_sending(app, send.send_id)
    assert stopped.popen.wait(timeout=30) == 0, processes.report()
    exited = time.monotonic() - term
    poll(lambda: all_done(app, hand), RECOVERY_LIMIT, "the rows in hand at SIGTERM done", processes.report)
    pickup = time.monotonic() - term
    wait_for(app, send, all_final(PAYSLIPS), 120, f"all {PAYSLIPS} payslips final", processes.report)
    assert other.alive, processes.report()
    handed_back = re.search(r"stopping: (\d+) dispatch rows", stopped.log.read_text(errors="replace"))
    # With the default grace the sends in hand finish; with a short one, those still in hand are handed back (how
    # many depends on where the stopped worker's threads were; the unit tests pin the hand-back itself).
    assert grace is not None or not handed_back, processes.report()
    report_figure(f"reliability: {how.name} mid-send ({'default grace' if grace is None else f'grace {grace} s'}): "
                  f"the worker exited after {exited:.1f} s, handing back {handed_back.group(1) if handed_back else 0} "
                  f"claims; the {len(hand)} rows in hand at the signal were done {pickup:.1f} s after it")
    outcome = assert_delivered_exactly_once(app, send, sandbox.ledger())
    assert pickup <= PICKUP_LIMIT, f"the rows in hand waited {pickup:.1f} s (a lease?)\n{processes.report()}"
    # Nothing was taken over after a lease: a handed-back claim is not a lost attempt.
    assert outcome.attempts == PAYSLIPS, outcome
    print(outcome)


@pytest.mark.parametrize("when", ["mid-send", "before-start"])
def test_a_redis_restart_without_persistence_is_recovered_within_a_minute(stack, processes, own_redis, when):
    """Mid-send: the rows' rings are lost, and other companies' rings fill the queue after it. Before the start:
    the send's start_send is lost, its rows not routed yet."""
    app, sandbox, send, start = stack
    workers = [] if when == "before-start" else [start("worker-a"), start("worker-b")]
    if workers:
        wait_for(app, send, lambda counts: finished(counts) >= PAYSLIPS // 4, 120, "a quarter of the payslips done",
                 processes.report)
    own_redis.restart()  # every queued ring is gone
    restarted = time.monotonic()
    before = finished(states(app, send.send_id))
    with app.app_context(), web_queue({"REDIS_URL": own_redis.url}):  # other companies' sends keep the queue long meanwhile
        for dispatch_id in range(1_000_000, 1_003_000):
            tasks.huey.enqueue(tasks.send_one.s(dispatch_id, priority=-10_000))
    workers = workers or [start("worker-a"), start("worker-b")]
    wait_for(app, send, all_final(PAYSLIPS), 2 * RECOVERY_LIMIT, f"all {PAYSLIPS} payslips final after the restart",
             processes.report)
    recovery = time.monotonic() - restarted
    assert all(w.alive for w in workers), processes.report()
    report_figure(f"reliability: Redis restarted without persistence {when} ({PAYSLIPS - before} payslips left, "
                  f"3000 other rings queued after it): the send completed {recovery:.1f} s after the restart")
    print(assert_delivered_exactly_once(app, send, sandbox.ledger()))
    assert recovery <= RECOVERY_LIMIT, f"{recovery:.1f} s\n{processes.report()}"


def test_postgresql_stopped_for_20_s_mid_send_is_recovered_within_a_minute(stack, processes, own_postgres):
    app, sandbox, send, start = stack
    workers = [start("worker-a"), start("worker-b")]
    wait_for(app, send, lambda counts: finished(counts) >= PAYSLIPS // 4, 120, "a quarter of the payslips done",
             processes.report)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # this process's connections would die with the server anyway
    own_postgres.stop()
    time.sleep(OUTAGE_SECONDS)  # the outage itself: nothing to poll for
    own_postgres.start()
    back, back_at = time.monotonic(), utcnow()
    wait_for(app, send, all_final(PAYSLIPS), 2 * RECOVERY_LIMIT, f"all {PAYSLIPS} payslips final after the outage",
             processes.report)
    recovery = time.monotonic() - back
    assert all(w.alive for w in workers), processes.report()
    logs = "".join(w.log.read_text(errors="replace") for w in workers)
    report_figure(f"reliability: PostgreSQL stopped {OUTAGE_SECONDS} s mid-send: the send completed {recovery:.1f} s "
                  f"after it was back ({logs.count('tried again in')} tasks retried during the outage)")
    print(assert_delivered_exactly_once(app, send, sandbox.ledger()))
    # The housekeeping threads lived through it: tasks whose retries ran out were rung again by the sweep, and each
    # worker's heartbeat was written again after the outage. A retry waits its 0.5 s pause rounded up to the Huey
    # scheduler's next 1 s tick, so twelve of them are spent in about 13 s of the 20 s outage (with a 1 s pause they
    # took two ticks each, 24 s, and the outage sometimes ended first).
    assert "retries spent" in logs, processes.report()
    assert "dispatch-sweep failed" in logs, processes.report()
    poll(lambda: heartbeats_since(app, back_at) == len(workers), 30, "both workers' heartbeats after the outage",
         processes.report)
    assert recovery <= RECOVERY_LIMIT, f"{recovery:.1f} s\n{processes.report()}"
