"""Real processes for the reliability tests: the Kivra sandbox and `flask worker`, each logging to its own file."""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
# Settings the test process carries for its own in-memory queue and app: a child gets only what its test gives it.
PARENT_ONLY = ("HUEY_", "REDIS_URL", "DATABASE_URL", "KIVRA_", "DISPATCH_", "APP_ENV", "SECRET_KEY")


def tail(path: Path, chars: int = 3000) -> str:
    """The end of a log, without fontTools' INFO lines (a dozen per rendered PDF in a worker's log)."""
    if not path.exists():
        return "(no output)"
    lines = [line for line in path.read_text(errors="replace").splitlines() if "INFO fontTools" not in line]
    return "\n".join(lines)[-chars:]


def child_env(**settings) -> dict:
    """The environment of a child process: this one's, less the test process's own app settings, plus `settings`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(PARENT_ONLY)}
    env.update({name: str(value) for name, value in settings.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Process:
    """One child process; its output goes to a file, so no pipe is left open and the tail is there on failure."""

    def __init__(self, name: str, args: list[str], env: dict, log: Path):
        self.name, self.args, self.env, self.log = name, args, env, log
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        with open(self.log, "ab") as output:
            self.popen = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                          stdout=output, stderr=subprocess.STDOUT)
        return self

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> int | None:
        """SIGKILL: no handler runs, nothing is flushed or released — a crash. Returns how the process ended."""
        if self.alive:
            self.popen.send_signal(signal.SIGKILL)
        return self.popen.wait() if self.popen is not None else None

    def stop(self) -> None:
        if self.alive:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def report(self) -> str:
        state = "running" if self.alive else f"exited with {self.popen.returncode if self.popen else '-'}"
        return f"--- {self.name} ({state}), last output of {self.log.name}:\n{tail(self.log)}"


class Sandbox(Process):
    """`python -m kivra.sandbox --port 0 ...`: the port it picked is read from the line it prints once listening."""

    def __init__(self, log: Path, *options: str):
        super().__init__("kivra sandbox", [sys.executable, "-m", "kivra.sandbox", "--port", "0", *options],
                         child_env(), log)
        self.url = ""

    def start(self, timeout: float = 30) -> "Sandbox":
        super().start()
        deadline = time.monotonic() + timeout
        while not self.url:
            found = re.search(r"Kivra sandbox on (http://127\.0\.0\.1:\d+)", tail(self.log, 100_000))
            if found:
                self.url = found.group(1)
            elif not self.alive or time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox did not start\n{self.report()}")
            else:
                time.sleep(0.05)
        return self

    def admin(self, method: str, path: str, body=None):
        response = httpx.request(method, f"{self.url}/_sandbox/{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def ledger(self) -> dict:
        return self.admin("GET", "ledger")


def worker(name: str, env: dict, log: Path, threads: int) -> Process:
    """`flask --app app worker --threads N`, exactly as production starts it."""
    args = [sys.executable, "-m", "flask", "--app", "app", "worker", "--threads", str(threads)]
    return Process(name, args, env, log)


def worker_env(database_url: str, sandbox: Sandbox, **settings) -> dict:
    """A worker's environment: the shared database and queue, the sandbox, and short engine timings so crashes and
    retries resolve in seconds rather than minutes."""
    defaults = dict(
        APP_ENV="testing", SECRET_KEY="reliability", DATABASE_URL=database_url, KIVRA_API_URL=sandbox.url,
        DISPATCH_LEASE_SECONDS=3, DISPATCH_SWEEP_SECONDS=0.5, DISPATCH_RETRY_SECONDS=0.2,
        DISPATCH_RETRY_CAP_SECONDS=1, KIVRA_TIMEOUT_SECONDS=2, KIVRA_ACCESS_CHECK_SECONDS=3600,
    )
    return child_env(**{**defaults, **settings})


class Processes:
    """Every process a test started, stopped at its end however it ends; their output tails for a failure message."""

    def __init__(self):
        self.started: list[Process] = []

    def start(self, process: Process) -> Process:
        self.started.append(process)
        return process.start()

    def report(self) -> str:
        return "\n".join(process.report() for process in self.started)

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()
