"""The production shape, started for the year: PostgreSQL, Redis, the Kivra sandbox as its own process, gunicorn, and
two long-running `flask worker` processes. Built on tests/reliability's processes; only gunicorn is new here."""
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tests.reliability.processes import ROOT, Process, Processes, Sandbox, child_env, tail, worker
from tests.reliability.scenario import migrate
from tests.servers import free_port

# The cut-over between existing and new customers, for every process (KIVRA_NEW_CUSTOMERS_SINCE).
NEW_CUSTOMERS_SINCE = "2026-06-01"
WORKER_NAMES = ("worker-a", "worker-b")
WORKER_THREADS = 4


def app_env(database_url: str, redis_url: str, sandbox: Sandbox, **settings) -> dict:
    """What web and workers share. The engine's production defaults stay (lease, sweep, attempts), except the
    backoff, cut short so a row that keeps failing ends *failed* within a month rather than after a quarter of an
    hour, and the access check, asked every few seconds so Kivra's answer arrives within the month."""
    return child_env(
        APP_ENV="testing", SECRET_KEY="lifecycle", DATABASE_URL=database_url, REDIS_URL=redis_url,
        KIVRA_API_URL=sandbox.url, KIVRA_NEW_CUSTOMERS_SINCE=NEW_CUSTOMERS_SINCE, RATELIMIT_ENABLED="false",
        DISPATCH_RETRY_SECONDS=0.5, DISPATCH_RETRY_CAP_SECONDS=2, KIVRA_ACCESS_CHECK_SECONDS=3,
        KIVRA_TIMEOUT_SECONDS=10, HUEY_NAME="kivra-lifecycle", **settings,
    )


class Gunicorn(Process):
    """`gunicorn app:app` as production runs it (two sync workers, its default 30 s timeout) on a free port."""

    def __init__(self, env: dict, log: Path):
        self.url = f"http://127.0.0.1:{free_port()}"
        args = [sys.executable, "-m", "gunicorn", "--workers", "2", "--timeout", "30",
                "--bind", self.url.removeprefix("http://"), "app:app"]
        super().__init__("gunicorn", args, env, log)

    def start(self, timeout: float = 60) -> "Gunicorn":
        super().start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/login", timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if not self.alive or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start\n{self.report()}")
            time.sleep(0.2)


@dataclass
class Stack:
    processes: Processes
    sandbox: Sandbox
    web: Gunicorn
    workers: dict[str, Process]
    env: dict
    logs: Path
    database_url: str
    incarnations: int = 0

    def kill_worker(self, name: str) -> None:
        """SIGKILL: a crash, nothing released."""
        self.workers[name].kill()

    def restart_worker(self, name: str) -> Process:
        self.incarnations += 1
        process = worker(name, self.env, self.logs / f"{name}-{self.incarnations}.log", WORKER_THREADS)
        self.workers[name] = self.processes.start(process)
        return process

    def cli(self, *args: str) -> str:
        """A `flask --app app …` command on the bureau's database, as an operator runs it."""
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=self.env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"flask {' '.join(args)} exited with {done.returncode}:\n{done.stdout}{done.stderr}"
        return done.stdout

    def dead_processes(self) -> list[str]:
        return [p.name for p in [self.web, *self.workers.values()] if not p.alive]


def fresh_database(database_url: str) -> None:
    """The session's PostgreSQL may hold another test's tables: start from an empty schema."""
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def start_stack(processes: Processes, logs: Path, database_url: str, redis_url: str, pending_seconds: float) -> Stack:
    sandbox = processes.start(Sandbox(logs / "sandbox.log", "--request-access-pending-seconds", str(pending_seconds),
                                      "--seed", "2026"))
    fresh_database(database_url)
    migrate(database_url, logs / "migrate.log")
    env = app_env(database_url, redis_url, sandbox)
    web = processes.start(Gunicorn(env, logs / "gunicorn.log"))
    workers = {name: processes.start(worker(name, env, logs / f"{name}.log", WORKER_THREADS))
               for name in WORKER_NAMES}
    return Stack(processes, sandbox, web, workers, env, logs, database_url)


__all__ = ["Stack", "start_stack", "tail"]
