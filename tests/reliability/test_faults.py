"""A 500-payslip send against a Kivra that fails often: 5xx, timeouts before and after storing, bursts of 429."""
import re
from collections import Counter

from tests.reliability.checks import all_final, assert_delivered_exactly_once, wait_for
from tests.reliability.processes import worker, worker_env
from tests.reliability.scenario import queued_send, sqlite_stack

SEED = 4242
PAYSLIPS, THREADS = 500, 4
FAULTS = {
    "error_rate": 0.1,  # 500 or 503, before anything is stored
    "timeout_before_rate": 0.025,  # hangs, then 504 with nothing stored
    "timeout_after_rate": 0.025,  # stored and delivered, then hangs: the client sees only a timeout
    "hang_seconds": 1.5,  # longer than the worker's KIVRA_TIMEOUT_SECONDS
    "burst_429_every": 40,
    "burst_429_length": 5,
}
CONTENT_ANSWER = re.compile(r'POST /v2/tenant/\w+/content HTTP/1\.1\S*" (\d{3})')  # werkzeug may colour the line


def test_every_payslip_is_delivered_once_through_server_errors_timeouts_and_rate_limits(
        tmp_path, processes, start_sandbox, app_on):
    sandbox = start_sandbox("--seed", str(SEED))
    database, queue, app = sqlite_stack(tmp_path, sandbox, app_on)
    send = queued_send(app, sandbox, PAYSLIPS, queue)  # set up while Kivra behaves, so only the send meets faults
    sandbox.admin("POST", "faults", FAULTS)
    env = worker_env(database, sandbox, **queue, KIVRA_TIMEOUT_SECONDS=1, DISPATCH_LEASE_SECONDS=10,
                     DISPATCH_MAX_ATTEMPTS=50)
    current = processes.start(worker("worker", env, tmp_path / "worker.log", THREADS))

    wait_for(app, send, all_final(PAYSLIPS), 180, f"all {PAYSLIPS} payslips final despite faults", processes.report)
    current.stop()
    outcome = assert_delivered_exactly_once(app, send, sandbox.ledger())
    answers = Counter(CONTENT_ANSWER.findall(sandbox.log.read_text(errors="replace")))
    # The faults did strike: refused and timed-out attempts, and copies stored before a timeout sent again.
    assert answers["429"] and answers["504"] and answers["500"] + answers["503"], answers
    assert outcome.received > PAYSLIPS, outcome
    print(f"content answers {dict(answers)}; {outcome}")
