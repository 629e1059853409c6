"""A worker killed with SIGKILL ten times in the middle of a 500-payslip send: every payslip reaches Kivra once."""
import random
import signal
import time

from tests.reliability.checks import all_final, assert_delivered_exactly_once, finished, states, wait_for
from tests.reliability.processes import worker, worker_env
from tests.reliability.scenario import install_delivery_audit, migrate, queued_send

SEED = 20261125
PAYSLIPS, KILLS, THREADS = 500, 10, 4


def test_a_worker_killed_ten_times_mid_send_delivers_every_payslip_exactly_once(
        tmp_path, processes, start_sandbox, app_on):
    sandbox = start_sandbox("--seed", str(SEED))
    database = f"sqlite:///{tmp_path / 'payroll.db'}"
    queue = {"HUEY_SQLITE_PATH": str(tmp_path / "queue.db")}
    migrate(database, tmp_path / "migrate.log")
    app = app_on(database, sandbox)
    with app.app_context():
        install_delivery_audit()
    # The web process's path: the send and its rows written, `start_send` queued in the workers' SQLite queue.
    send = queued_send(app, sandbox, PAYSLIPS, queue)
    env = worker_env(database, sandbox, **queue)

    def start(incarnation: int):
        name = f"worker-{incarnation}"
        return processes.start(worker(name, env, tmp_path / f"{name}.log", THREADS))

    rng = random.Random(SEED)
    # Kill once at least this many rows are done, and only once the new worker has finished one of its own: each
    # kill strikes a worker in full flight, wherever it is (claiming, rendering, waiting on Kivra, recording).
    marks = sorted(rng.sample(range(1, PAYSLIPS - 100), KILLS))
    current, at_kills = start(0), []
    for number, mark in enumerate(marks, start=1):
        floor = max(mark, finished(at_kills[-1]) + 1 if at_kills else 1)
        wait_for(app, send, lambda counts, floor=floor: finished(counts) >= floor, 120,
                 f"kill {number}: {floor} payslips done", processes.report)
        time.sleep(rng.uniform(0, 0.3))
        assert current.kill() == -signal.SIGKILL, f"{current.name} had stopped by itself\n{processes.report()}"
        at_kills.append(states(app, send.send_id))
        current = start(number)

    wait_for(app, send, all_final(PAYSLIPS), 180, f"all {PAYSLIPS} payslips final after {KILLS} kills",
             processes.report)
    current.stop()
    outcome = assert_delivered_exactly_once(app, send, sandbox.ledger())
    assert all(finished(counts) < PAYSLIPS for counts in at_kills), "a kill came after the send had finished"
    # Crashes left claims behind that later workers took over once their lease ran out.
    assert sum(counts["sending"] for counts in at_kills) > 0, at_kills
    print(f"rows in flight at each kill: {[counts['sending'] for counts in at_kills]}; {outcome}")
