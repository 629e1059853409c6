"""The production shape as real processes, for tests that break it: gunicorn and two `flask worker`s with
APP_ENV=production, restartable PostgreSQL and Redis (tests/servers.py), the Kivra sandbox with latency; a supervisor
that restarts a worker the way systemd does; a prober asking the web's /healthz throughout; sends of several companies
on one database, each with payslips of its own (Kivra's ledger and the delivery audit tell them apart)."""
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from flask import Flask

from tests.reliability.processes import ROOT, Process, Processes, Sandbox, child_env
from tests.reliability.scenario import Send, queued_send

WORKER_UNIT = ROOT / "deploy" / "payroll-worker@.service"
# What systemd waits after SIGTERM before it kills (the unit's TimeoutStopSec is longer; a test waits this long).
STOP_TIMEOUT = 30
# The engine's timings an operator does not set: the test must get what production gets.
ENGINE_DEFAULTS = ("DISPATCH_LEASE_SECONDS", "DISPATCH_SWEEP_SECONDS", "KIVRA_JOB_GRACE_SECONDS",
                   "KIVRA_JOB_LEASE_SECONDS", "WORKER_HEARTBEAT_SECONDS", "WORKER_SILENT_SECONDS")


def production_env(database_url: str, redis_url: str, sandbox: Sandbox) -> dict:
    """/etc/payroll/payroll.env for the test: every setting production requires, Kivra's pointing at the sandbox.
    Lease, sweep and heartbeat keep their production defaults; only the retry backoff is cut short."""
    env = child_env(
        APP_ENV="production", SECRET_KEY="production-faults-not-a-real-secret-key-32+", DATABASE_URL=database_url,
        REDIS_URL=redis_url, KIVRA_API_URL=sandbox.url, KIVRA_CLIENT_ID="sandbox-client",
        KIVRA_CLIENT_SECRET="sandbox-secret", HUEY_NAME="kivra-production-faults",
        SMTP_URL="smtp://127.0.0.1:9", PUBLIC_URL="https://lon.example.se",  # no e-mail is written in these tests
        DISPATCH_RETRY_SECONDS=0.5, DISPATCH_RETRY_CAP_SECONDS=2,
    )
    assert not set(ENGINE_DEFAULTS) & set(env), "the engine's timings must be production's defaults"
    return env


def restart_seconds() -> float:
    """The worker unit's RestartSec: how long systemd waits before it starts a worker that exited."""
    return float(re.search(r"^RestartSec=(\d+(?:\.\d+)?)", WORKER_UNIT.read_text(), re.M).group(1))


@dataclass
class Supervisor:
    """systemd's part for the worker units: each named worker runs `flask --app app worker` as the unit starts it
    (its own application_name, so the delivery audit says who marked a row), and is started again RestartSec after
    it exits, whatever the reason. `tick()` does the restarting; call it while waiting."""

    processes: Processes
    env: dict
    logs: Path
    names: tuple[str, ...]
    workers: dict[str, Process] = field(default_factory=dict)
    exited_at: dict[str, float] = field(default_factory=dict)
    restarts: list[str] = field(default_factory=list)
    terminated: dict[str, float] = field(default_factory=dict)  # SIGTERM sent at
    stops: list[tuple[str, int | None, float]] = field(default_factory=list)
    incarnations: int = 0

    def start(self, name: str) -> Process:
        self.incarnations += 1
        env = {**self.env, "DATABASE_URL": f"{self.env['DATABASE_URL']}?application_name={name}"}
        args = [sys.executable, "-m", "flask", "--app", "app", "worker"]
        log = self.logs / f"{name}-{self.incarnations}.log"
        self.workers[name] = self.processes.start(Process(name, args, env, log))
        self.exited_at.pop(name, None)
        return self.workers[name]

    def start_all(self) -> None:
        for name in self.names:
            self.start(name)

    def terminate(self, name: str) -> None:
        """SIGTERM, as `systemctl stop` or a reboot sends it; `tick` kills the worker after STOP_TIMEOUT."""
        self.terminated[name] = time.monotonic()
        self.workers[name].popen.send_signal(signal.SIGTERM)

    def tick(self) -> None:
        now = time.monotonic()
        for name, process in self.workers.items():
            sent = self.terminated.get(name)
            if sent is not None and process.alive and now - sent > STOP_TIMEOUT:
                process.kill()
            if process.alive:
                continue
            if sent is not None:  # how the SIGTERM ended: (name, exit status or None when killed, seconds)
                code = process.popen.returncode
                self.stops.append((name, None if code == -signal.SIGKILL else code, now - sent))
                del self.terminated[name]
            gone = self.exited_at.setdefault(name, now)
            if now - gone >= restart_seconds():
                self.restarts.append(f"{name} (exit {process.popen.returncode})")
                self.start(name)


class HealthProbe:
    """Asks the web's /healthz twice a second in a thread of its own, as a load balancer does, and keeps every
    answer: (monotonic time asked, time answered, HTTP status or None when no answer came within the timeout)."""

    def __init__(self, url: str, every: float = 0.5, timeout: float = 5, limit_seconds: float = 1200):
        self.url, self.every, self.timeout, self.limit = f"{url}/healthz", every, timeout, limit_seconds
        self.answers: list[tuple[float, float, int | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="healthz-probe", daemon=True)

    def _run(self) -> None:
        started = time.monotonic()
        with httpx.Client(timeout=self.timeout) as client:
            while not self._stop.is_set() and time.monotonic() - started < self.limit:
                asked = time.monotonic()
                try:
                    status = client.get(self.url).status_code
                except httpx.HTTPError:
                    status = None
                self.answers.append((asked, time.monotonic(), status))
                self._stop.wait(self.every)

    def __enter__(self) -> "HealthProbe":
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join(self.timeout + 5)

    def between(self, start: float, end: float) -> list[int | None]:
        """The answers to the probes in flight at some moment from `start` to `end`: one asked just before a fault
        may be answered after it began."""
        return [status for asked, answered, status in self.answers if asked <= end and answered >= start]


def press_send(app: Flask, sandbox: Sandbox, index: int, count: int, environ: dict) -> Send:
    """What the web process does when the admin of the `index`-th company presses "Skicka lönebesked": the send and
    its rows in one transaction, then `start_send` on the workers' Redis, where other sends' tasks stay
    (`scenario.queued_send` for company index + 1: never the one that empties the queue)."""
    return queued_send(app, sandbox, count, environ, index=index + 1)
