"""`flask serve` keeps its worker: SIGKILL the worker child and a new one appears, reports its heartbeat, and sends
the payslips; SIGTERM to `flask serve` takes the worker down with it."""
import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from kivra.dispatch.heartbeat import WorkerHeartbeat
from kivra.extensions import db
from tests.reliability.checks import all_final, assert_delivered_exactly_once, wait_for
from tests.reliability.processes import Process, worker_env
from tests.reliability.scenario import queued_send, sqlite_stack
from tests.servers import free_port

PAYSLIPS = 20


def children(pid: int) -> set[int]:
    """Live child processes of `pid`, read from /proc (zombies, already dead, left out)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def poll(condition, seconds: float, what: str, report):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"{what}: not within {seconds:.0f} s\n{report()}")


def test_serve_restarts_a_killed_worker_and_the_send_completes(tmp_path, processes, start_sandbox, app_on):
    sandbox = start_sandbox()
    database, queue, app = sqlite_stack(tmp_path, sandbox, app_on)
    port = free_port()
    env = worker_env(database, sandbox, WORKER_HEARTBEAT_SECONDS=0.2, **queue)
    serve = processes.start(Process("flask serve", [sys.executable, "-m", "flask", "--app", "app", "serve",
                                                    "--port", str(port)], env, tmp_path / "serve.log"))
    health = f"http://127.0.0.1:{port}/healthz/workers"

    def live_workers() -> dict[int, dict]:
        try:
            return {w["pid"]: w for w in httpx.get(health, timeout=5).json()["workers"] if w["alive"]}
        except httpx.HTTPError:
            return {}

    [first] = poll(lambda: children(serve.popen.pid), 30, "the worker child started", processes.report)
    poll(lambda: first in live_workers(), 30, "the first worker's heartbeat", processes.report)

    os.kill(first, signal.SIGKILL)
    [second] = poll(lambda: children(serve.popen.pid) - {first}, 30, "a new worker after SIGKILL", processes.report)
    poll(lambda: second in live_workers(), 30, "the new worker's heartbeat", processes.report)
    assert not alive(first) and serve.alive

    send = queued_send(app, sandbox, PAYSLIPS, queue)
    wait_for(app, send, all_final(PAYSLIPS), 120, f"all {PAYSLIPS} payslips sent by the restarted worker",
             processes.report)
    assert_delivered_exactly_once(app, send, sandbox.ledger())
    assert "started again" in serve.log.read_text()

    serve.popen.send_signal(signal.SIGTERM)
    assert serve.popen.wait(timeout=30) == 0
    poll(lambda: not alive(second), 15, "the worker gone with flask serve", processes.report)
    with app.app_context():  # the stopped worker said goodbye; the killed one could not, and ages out
        assert db.session.scalars(select(WorkerHeartbeat.pid)).all() == [first]
        db.session.remove()
