"""Issue 12's "Done when": the production shape survives the routine faults of a night in operations.

Real processes, as the README's production layout runs them: gunicorn serving `app:app` and two `flask --app app
worker` processes (8 threads each, DISPATCH_WORKERS's default), all with APP_ENV=production and every setting
production requires, on PostgreSQL and Redis of their own (tests/servers.py, restartable on the same port and data
directory) and the Kivra sandbox answering each call after LATENCY_MS, so a 300-payslip send lasts long enough to be
struck mid-way. Lease, sweep and heartbeat keep their production defaults (only the retry backoff is cut short).

Pressing "send" is done with the app's own functions in this process (`dispatch.request_send`, what the view calls,
queueing `start_send` on the workers' Redis), as test_redis_postgres does: the production session cookie is Secure, so
a browser-like sign-in over the test's plain HTTP would be refused (issue 12, item 7), and the sign-in is not what is
measured here.

Five companies send 300 payslips each, one after the other: first a fault-free baseline, then one send per fault —
1. SIGTERM of a worker (what `systemctl stop` and a reboot send), 2. SIGKILL of a worker (a crash, the OOM killer),
   each restarted RestartSec after it exited, as the unit deploy/payroll-worker@.service has systemd do;
3. Redis restarted without persistence: every queued and scheduled task is lost;
4. PostgreSQL stopped for 20 s and started again on the same port and data directory.
One send per fault, so each recovery is measured on its own from the same point (a third of the send done) and
compared with the baseline's same tail, without the previous fault's after-effects in it.

Recovery time: from the end of the fault — the signal sent (the restart is part of the recovery), Redis accepting
connections again, PostgreSQL accepting connections again — until every payslip of the send is final. Every row of a
send is due from the moment it is pressed, so this is "until every row that was due before the fault is final": the
moment payroll is whole again, which is what an operator is asked after an incident. "Progressing again" is not
enough: a send can look busy while a handful of stranded rows wait for a lease at its tail, the very cost this test is
about. The figure includes the send's normal remaining work; the baseline's time for the same number of remaining
payslips is printed next to it for comparison. Each must be at most RECOVERY_LIMIT; a send not complete within
PATIENCE after its fault counts as stranded. Every payslip must reach Kivra once (its ledger and the database's
delivery audit), and the web must answer /healthz throughout: 200, or 503 while PostgreSQL is away.

It runs with the rest of the suite (about 3 minutes). On its own, with the figures shown as they come:

    .venv/bin/python -m pytest tests/reliability/test_production_faults.py -s
    .venv/bin/python -m pytest -m "not production_faults"      # everything else
"""
import time
from collections import Counter
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from kivra.extensions import db
from tests.conftest import report_figure
from tests.lifecycle.stack import Gunicorn
from tests.reliability.checks import assert_delivered_exactly_once, finished, states
from tests.reliability.production import HealthProbe, Supervisor, press_send, production_env
from tests.reliability.scenario import install_delivery_audit, migrate
from tests.servers import PostgresServer, RedisServer

PAYSLIPS = 300
FAULT_AT = PAYSLIPS // 3  # payslips final when the fault strikes
LATENCY_MS = 500  # each Kivra call's latency at the sandbox
RECOVERY_LIMIT = 60  # seconds, the goal for each fault
PATIENCE = RECOVERY_LIMIT + 30  # seconds after a fault until a send not complete counts as stranded (bounds the run)
OUTAGE_SECONDS = 20
HEALTH_SLACK = 5  # seconds after PostgreSQL is back within which /healthz may still say 503
WORKERS = ("worker-a", "worker-b")
pytestmark = pytest.mark.production_faults


@pytest.fixture
def restartable_postgres():
    server = PostgresServer("payroll").start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def restartable_redis():
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.close()


@dataclass
class Measured:
    name: str
    at_fault: Counter | None = None  # rows by state when the fault struck
    fault_ended: float | None = None
    done_at: float | None = None
    samples: list[tuple[float, int]] | None = None  # (time, payslips final) while waiting

    @property
    def recovery(self) -> float | None:
        return None if self.done_at is None else self.done_at - self.fault_ended


def test_the_production_shape_recovers_from_each_routine_fault_within_a_minute_and_sends_each_payslip_once(
        tmp_path, processes, start_sandbox, app_on, restartable_postgres, restartable_redis):
    postgres, redis_server = restartable_postgres, restartable_redis
    sandbox = start_sandbox("--latency-ms", str(LATENCY_MS), "--seed", "12")
    migrate(postgres.url, tmp_path / "migrate.log")
    app = app_on(postgres.url, sandbox)
    with app.app_context():
        install_delivery_audit()
        db.session.remove()
    env = production_env(postgres.url, redis_server.url, sandbox)
    web = processes.start(Gunicorn(env, tmp_path / "gunicorn.log"))
    supervisor = Supervisor(processes, env, tmp_path, WORKERS)
    supervisor.start_all()
    problems: list[str] = []
    outage: list[float] = []  # PostgreSQL stopped, PostgreSQL back

    def sigterm() -> float:
        sent = time.monotonic()
        supervisor.terminate("worker-a")
        return sent

    def sigkill() -> float:
        supervisor.workers["worker-b"].kill()
        return time.monotonic()

    def redis_restart() -> float:
        redis_server.stop()
        redis_server.start()
        return time.monotonic()

    def postgres_outage() -> float:
        outage.append(time.monotonic())
        postgres.stop()
        while time.monotonic() - outage[0] < OUTAGE_SECONDS:
            supervisor.tick()
            time.sleep(0.2)
        postgres.start()
        outage.append(time.monotonic())
        return outage[-1]

    faults = {"SIGTERM of a worker": sigterm, "SIGKILL of a worker": sigkill,
              "Redis restart without persistence": redis_restart,
              f"PostgreSQL down {OUTAGE_SECONDS} s": postgres_outage}

    def until(send, condition, deadline: float, samples: list) -> tuple[float, Counter] | None:
        """Poll the send's rows (restarting exited workers meanwhile) until `condition`, or None at the deadline."""
        while True:
            counts, now = states(app, send.send_id), time.monotonic()
            samples.append((now, finished(counts)))
            if condition(counts):
                return now, counts
            if now > deadline:
                return None
            supervisor.tick()
            time.sleep(0.25)

    def one_send(index: int, name: str, fault=None) -> Measured:
        send, measured = press_send(app, sandbox, index, PAYSLIPS, env), Measured(name, samples=[])
        pressed = time.monotonic()
        if fault is not None:
            reached = until(send, lambda c: finished(c) >= FAULT_AT, pressed + PATIENCE, measured.samples)
            if reached is None:
                problems.append(f"{name}: the send did not reach {FAULT_AT} payslips before the fault")
                return measured
            measured.at_fault = reached[1]
            if finished(measured.at_fault) == PAYSLIPS:
                problems.append(f"{name}: the send had finished before the fault")
            measured.fault_ended = fault()
        else:
            measured.fault_ended = pressed
        done = until(send, lambda c: finished(c) == PAYSLIPS, measured.fault_ended + PATIENCE, measured.samples)
        if done is None:
            problems.append(f"{name}: not every payslip final within {PATIENCE} s of the fault; rows by state "
                            f"{dict(states(app, send.send_id))}")
        else:
            measured.done_at = done[0]
            try:
                outcome = assert_delivered_exactly_once(app, send, sandbox.ledger())
                print(f"{name}: {outcome}")
            except AssertionError as error:
                problems.append(f"{name}: {error}")
        return measured

    with HealthProbe(web.url) as health:
        baseline = one_send(0, "baseline")
        assert baseline.done_at is not None, f"the fault-free send did not complete\n{processes.report()}"
        report_figure(f"production faults: baseline (no fault): {PAYSLIPS} payslips in {baseline.recovery:.1f} s "
                      f"(2 workers, sandbox latency {LATENCY_MS} ms)")
        results = [one_send(index, name, fault) for index, (name, fault) in enumerate(faults.items(), start=1)]
        supervisor.tick()
        after = time.monotonic()
        while time.monotonic() - after < 3:  # a few answers after the last fault
            time.sleep(0.5)

    for result in results:
        if result.at_fault is None:
            continue
        left = PAYSLIPS - finished(result.at_fault)
        calm = tail_time(baseline, left)
        took = f"{result.recovery:.1f} s" if result.recovery is not None else f"more than {PATIENCE} s (stranded)"
        report_figure(f"production faults: {result.name}: {took} from the fault's end until all {PAYSLIPS} payslips "
                      f"were final ({left} left, {result.at_fault['sending']} in flight at the fault; fault-free, "
                      f"the last {left} took {calm:.1f} s)")
        if result.recovery is not None and result.recovery > RECOVERY_LIMIT:
            problems.append(f"{result.name}: recovery {result.recovery:.1f} s (limit {RECOVERY_LIMIT} s)")
    for name, code, took in supervisor.stops:
        report_figure(f"production faults: {name} exited {took:.1f} s after SIGTERM "
                      f"({'killed after ' + str(int(took)) + ' s' if code is None else f'exit status {code}'})")
    problems += health_problems(health, outage)
    answered = Counter("no answer" if status is None else status for _, _, status in health.answers)
    report_figure(f"production faults: /healthz asked {len(health.answers)} times during the run: {dict(answered)} "
                  f"(503 only while PostgreSQL was down)")
    expected_restarts = ["worker-a", "worker-b"]
    if [restart.split(" ")[0] for restart in supervisor.restarts] != expected_restarts:
        problems.append(f"workers restarted other than after the two signals: {supervisor.restarts}")
    if not web.alive:
        problems.append("gunicorn died")
    with app.app_context(), db.engine.connect() as connection:
        print("deliveries by process:", connection.execute(
            text("SELECT marked_by, count(*) FROM delivery_audit GROUP BY marked_by")).all())
    assert not problems, "\n".join(problems) + f"\n{processes.report()}"


def tail_time(baseline: Measured, left: int) -> float:
    """How long the fault-free send took for its last `left` payslips."""
    reached = next(at for at, done in baseline.samples if done >= PAYSLIPS - left)
    return baseline.done_at - reached


def health_problems(health: HealthProbe, outage: list[float]) -> list[str]:
    """The web answered every probe; 200 throughout, except 503 while PostgreSQL was away (and just after). A probe
    counts as during the outage if it was in flight at any moment of it: one asked just before PostgreSQL stopped may
    be answered after. (The CI run on 6b874e8 had one 503 outside the window, under load, counted by when it was
    asked; a wrong answer now says when it was asked and answered, relative to the outage.)"""
    found = []
    silent = [asked for asked, _, status in health.answers if status is None]
    if silent:
        found.append(f"/healthz did not answer {len(silent)} of {len(health.answers)} probes")
    if len(outage) == 2:
        during = health.between(outage[0], outage[1])
        if not during or 503 not in during:
            found.append(f"/healthz did not say 503 while PostgreSQL was down: {Counter(during)}")
        window = (outage[0], outage[1] + HEALTH_SLACK)
    else:
        window = (0.0, 0.0)
        found.append("PostgreSQL's outage did not happen")
    wrong = [(asked, answered, status) for asked, answered, status in health.answers
             if (answered < window[0] or asked > window[1]) and status not in (200, None)]
    if wrong:
        when = ", ".join(f"{status} asked {asked - window[0]:+.1f} s and answered {answered - window[0]:+.1f} s from "
                         "the outage's start" for asked, answered, status in wrong)
        found.append(f"/healthz answered other than 200 outside PostgreSQL's outage (which lasted "
                     f"{window[1] - HEALTH_SLACK - window[0]:.1f} s, {HEALTH_SLACK} s of slack after it): {when}")
    if not health.answers or health.answers[-1][2] != 200:
        found.append(f"/healthz after the faults: {health.answers[-1:] or 'no answer'}")
    return found
