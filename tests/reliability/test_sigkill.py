"""A worker killed with SIGKILL again and again in the middle of a 500-payslip send: every payslip reaches Kivra once,
and after the last kill the send completes within 30 s of the restart, with the shipped lease and sweep settings."""
import random
import signal
import time

from tests.conftest import report_figure
from tests.reliability.checks import all_final, assert_delivered_exactly_once, finished, rows_sending, states, wait_for
from tests.reliability.processes import worker, worker_env
from tests.reliability.scenario import queued_send, sqlite_stack

SEED = 20261125
PAYSLIPS, KILLS, THREADS = 500, 6, 4
RECOVERY_LIMIT = 30  # seconds from the restart after the last kill to the send's completion




def test_a_worker_killed_mid_send_recovers_within_30_s_and_delivers_every_payslip_exactly_once(
        tmp_path, processes, start_sandbox, app_on):
    sandbox = start_sandbox("--seed", str(SEED))
    database, queue, app = sqlite_stack(tmp_path, sandbox, app_on)
    # The web process's path: the send and its rows written, `start_send` queued in the workers' SQLite queue.
    send = queued_send(app, sandbox, PAYSLIPS, queue)
    # The lease and the sweep as shipped (kivra/config.py): recovery is what production gets, not a test's tuning.
    env = {name: value for name, value in worker_env(database, sandbox, **queue).items()
           if name not in ("DISPATCH_LEASE_SECONDS", "DISPATCH_SWEEP_SECONDS")}

    def start(incarnation: int):
        name = f"worker-{incarnation}"
        return processes.start(worker(name, env, tmp_path / f"{name}.log", THREADS))

    rng = random.Random(SEED)
    # Kill once at least this many rows are done, and only once the new worker has finished one of its own: each
    # kill strikes a worker in full flight, wherever it is (claiming, rendering, waiting on Kivra, recording).
    marks = sorted(rng.sample(range(1, PAYSLIPS - 100), KILLS))
    current, at_kills, in_flight = start(0), [], set()
    for number, mark in enumerate(marks, start=1):
        floor = max(mark, finished(at_kills[-1]) + 1 if at_kills else 1)
        wait_for(app, send, lambda counts, floor=floor: finished(counts) >= floor, 120,
                 f"kill {number}: {floor} payslips done", processes.report)
        time.sleep(rng.uniform(0, 0.3))
        assert current.kill() == -signal.SIGKILL, f"{current.name} had stopped by itself\n{processes.report()}"
        at_kills.append(states(app, send.send_id))
        in_flight |= rows_sending(app, send.send_id)
        restarted = time.monotonic()
        current = start(number)

    wait_for(app, send, all_final(PAYSLIPS), 2 * RECOVERY_LIMIT, f"all {PAYSLIPS} payslips final after {KILLS} kills",
             processes.report)
    recovery = time.monotonic() - restarted
    left, in_flight_at_kill = PAYSLIPS - finished(at_kills[-1]), at_kills[-1]["sending"]
    report_figure(f"reliability: recovery after the last SIGKILL: {recovery:.1f} s from the restart to the send's "
                  f"completion ({left} payslips left, {in_flight_at_kill} in flight at the kill)")
    current.stop()
    outcome = assert_delivered_exactly_once(app, send, sandbox.ledger())
    assert all(finished(counts) < PAYSLIPS for counts in at_kills), "a kill came after the send had finished"
    # Crashes left claims behind that later workers took over once their lease ran out.
    assert in_flight, at_kills
    # Kivra received a second copy only of what was in flight at a kill (its duplicate control kept one).
    assert outcome.received - PAYSLIPS <= len(in_flight), (outcome, len(in_flight))
    assert recovery <= RECOVERY_LIMIT, f"the send completed {recovery:.1f} s after the restart (limit {RECOVERY_LIMIT} s)"
    print(f"rows in flight at each kill: {[counts['sending'] for counts in at_kills]}; {outcome}")
