"""What the dispatch benchmarks share: a company with N Kivra users and a calculated run, the sandbox and `flask worker`
as real processes, and the figures read from /proc (CPU time, peak RSS). Not a benchmark itself.

The benchmark process's app keeps its queue in memory (QUEUE_URL), then points it at the workers' SQLite file only to
press "send" (`web_queue`), so it never touches instance/queue.db.
"""
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("APP_ENV", "development")

from flask import Flask, current_app  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from kivra import create_app  # noqa: E402
from kivra.config import load_config  # noqa: E402
from kivra.accounts.models import Company, User  # noqa: E402
from kivra.identity import luhn_valid, with_check_digit  # noqa: E402
from kivra.dispatch import service as dispatch  # noqa: E402
from kivra.dispatch.models import OUTCOMES, Dispatch  # noqa: E402
from kivra.employees.models import Employee  # noqa: E402
from kivra.extensions import db  # noqa: E402
from kivra.payroll import service as payroll  # noqa: E402
from kivra.payroll.models import PayrollRun  # noqa: E402
from kivra.sender_api import KivraClient  # noqa: E402
from kivra.dispatch import activation, app_queue  # noqa: E402

# Settings of this shell that must not reach a child: each child gets only what the benchmark gives it.
PARENT_ONLY = ("HUEY_", "REDIS_URL", "DATABASE_URL", "KIVRA_", "DISPATCH_", "APP_ENV", "SECRET_KEY")
FIRST_NAMES = ("Astrid", "Björn", "Cecilia", "David", "Elin", "Fredrik", "Greta", "Hampus", "Ida", "Åsa", "Örjan")
LAST_NAMES = ("Lindqvist", "Åkesson", "Öberg", "Nilsson", "Karlsson", "Johansson", "Sjöström", "Ek", "Dahl")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def personnummer(count: int, offset: int = 0) -> list[str]:
    """`count` distinct valid personnummer (born 1940–1999, never a samordningsnummer), Luhn digit included."""
    numbers = []
    for i in range(offset, offset + count):
        day, serial = divmod(i, 1000)
        year, rest = 1940 + day // 336 % 60, day % 336
        numbers.append(with_check_digit(f"{year}{1 + rest // 28:02d}{1 + rest % 28:02d}{serial:03d}"))
    return numbers


def orgnr(serial: int) -> str:
    """A valid org.nr (559…, Luhn digit included), none of the sandbox's foreign tenants."""
    first_nine = f"559{serial:06d}"
    return next(first_nine + d for d in "0123456789" if luhn_valid(first_nine + d))


# --- processes ---------------------------------------------------------------------------------------------------


def child_env(**settings) -> dict:
    env = {name: value for name, value in os.environ.items() if not name.startswith(PARENT_ONLY)}
    env.update({name: str(value) for name, value in settings.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Child:
    """A child process whose output goes to a file (no pipe to fill), stopped with SIGTERM, then SIGKILL."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.log = log
        with open(log, "ab") as output:
            self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                          stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        if self.alive:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        self.popen.wait()

    def tail(self, chars: int = 3000) -> str:
        lines = [line for line in self.log.read_text(errors="replace").splitlines() if "fontTools" not in line]
        return "\n".join(lines)[-chars:]


def lowered(nice: int = 0, idle: bool = False) -> list[str]:
    """The command prefix that starts a process under `nice -n` and/or the idle scheduling policy (`chrt --idle 0`:
    it runs only when nothing else wants the CPU)."""
    return (["chrt", "--idle", "0"] if idle else []) + (["nice", "-n", str(nice)] if nice else [])


def start_sandbox(log: Path, latency_ms: int, keep_alive: bool = True, nice: int = 0, idle: bool = False
                  ) -> tuple[Child, str]:
    """`python -m kivra.sandbox` on a free port, in its own process so it never shares the workers' GIL; keeping
    connections open between calls as Kivra does (gunicorn's worker under it: its CPU is `tree_cpu`'s), or with
    `keep_alive=False` on Werkzeug's server, which opens a connection for each call; under `nice -n` if asked, and
    under the idle scheduling policy (`chrt --idle 0`: it runs only when nothing else wants the CPU) if asked."""
    sandbox = Child(lowered(nice, idle)
                    + [sys.executable, "-m", "kivra.sandbox", "--port", "0", "--latency-ms", str(latency_ms)]
                    + ["--keep-alive"] * keep_alive, child_env(), log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and sandbox.alive:
        found = re.search(r"Kivra sandbox on (http://127\.0\.0\.1:\d+)", log.read_text(errors="replace"))
        if found:
            return sandbox, found.group(1)
        time.sleep(0.05)
    sandbox.stop()
    raise RuntimeError(f"the sandbox did not start:\n{sandbox.tail()}")


def start_worker(threads: int, database_url: str, queue_path: Path, sandbox_url: str, log: Path,
                 stages: Path | None = None) -> Child:
    """`flask --app app worker --threads N`, as production starts it (the shipped sweep interval included: a sweep
    every second cost 6 % of the workers' CPU), on the benchmark's own database and queue. With `stages`, through
    bench/dispatch_stages.py, which writes the CPU of each stage so far to that file."""
    env = child_env(APP_ENV="development", DATABASE_URL=database_url, HUEY_SQLITE_PATH=queue_path,
                    KIVRA_API_URL=sandbox_url)
    flask = ["--app", "app", "worker", "--threads", str(threads)]
    if stages is None:
        return Child([sys.executable, "-m", "flask", *flask], env, log)
    return Child([sys.executable, str(ROOT / "bench" / "dispatch_stages.py"), "--worker", str(stages), "--", *flask],
                 env, log)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def descendants(pid: int) -> list[int]:
    """The process and every process under it (gunicorn's workers, PostgreSQL's backends)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo.extend(children.get(found[-1], []))
    return found


def tree_cpu(pid: int) -> float:
    total = 0.0
    for each in descendants(pid):
        try:
            total += cpu_seconds(each)
        except OSError:  # ended meanwhile
            pass
    return total


def memory_kb(pid: int) -> dict[str, int]:
    """VmHWM (peak resident set) and VmRSS of a process, in kB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            values[name] = int(rest.split()[0])
    return values


# --- the send ----------------------------------------------------------------------------------------------------


def engine_options(database_url: str) -> dict:
    """The engine options the app's configuration gives a process on this database (as the workers get them)."""
    return load_config(str(ROOT / "instance"), {"APP_ENV": "testing", "SECRET_KEY": "x",
                                                "DATABASE_URL": database_url})["SQLALCHEMY_ENGINE_OPTIONS"]


def make_app(database_url: str, sandbox_url: str) -> Flask:
    # This process only enqueues, and only through web_queue.
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url,
                      "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
                      "KIVRA_API_URL": sandbox_url, "QUEUE_URL": "memory://"})
    with app.app_context():
        db.create_all()
    return app


def calculated_run(name: str, org: str, numbers: list[str], sandbox_url: str | None = None) -> tuple[PayrollRun, User]:
    """A company with its employer details, one employee per number, and a calculated November run. With a sandbox:
    the numbers are Kivra users there, and the company has approved Kivra's agreement and has access."""
    company = Company(name=name, orgnr=org, employer_contribution_rate=Decimal("31.42"), street_address="Storgatan 1",
                      postal_code="111 22", city="Stockholm", email="lon@example.se", phone="08-123 45 67")
    admin = User(company=company, role="admin", email=f"admin@{org}.se", name="Anna Admin", locale="sv")
    admin.password_hash = "-"  # never signs in
    db.session.add_all([company, admin])
    db.session.flush()
    db.session.add_all(
        Employee(company_id=company.id, name=f"{FIRST_NAMES[i % 11]} {LAST_NAMES[i % 9]} {i}", personnummer=number,
                 employment_start=date(2015 + i % 10, 1 + i % 12, 1), monthly_salary_ore=2_500_000 + 1_250 * i,
                 tax_rate=Decimal(29 + i % 5), bank_account=f"8327-9 {9_400_000_000 + 7_919 * i}" if i % 4 else None)
        for i, number in enumerate(numbers)
    )
    db.session.commit()
    if sandbox_url:
        httpx.post(f"{sandbox_url}/_sandbox/recipients", json=dict.fromkeys(numbers, "user"), timeout=60
                   ).raise_for_status()
        with KivraClient(sandbox_url, "sandbox-client", "sandbox-secret") as client:
            activation.approve(company, admin, client, payslips=True, invoices=False)
    run = payroll.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    payroll.calculate_run(run)
    return run, admin


@contextlib.contextmanager
def web_queue(queue_path: Path):
    """This process's queue as the web process's: the workers' SQLite file instead of memory."""
    memory, current_app.config["QUEUE_URL"] = current_app.config["QUEUE_URL"], f"sqlite:///{queue_path}"
    try:
        yield
    finally:
        current_app.config["QUEUE_URL"] = memory
        app_queue.close(f"sqlite:///{queue_path}")


def unfinished(send_id: int) -> int:
    """Rows of the send not in a final state; the read transaction ends at once so it never pins the WAL."""
    count = db.session.scalar(
        select(func.count()).where(Dispatch.send_id == send_id, Dispatch.state.not_in(OUTCOMES + ("cancelled",))))
    db.session.rollback()
    return count


def outcomes(send_id: int) -> dict[str, int]:
    counts = dict(db.session.execute(
        select(Dispatch.state, func.count()).where(Dispatch.send_id == send_id).group_by(Dispatch.state)).all())
    db.session.rollback()
    return counts


@dataclass(frozen=True)
class Sent:
    send_id: int
    seconds: float  # from pressing send until every row is final
    requested: float  # of which the request itself: writing the rows, queueing the start
    longest_stall: float  # the longest time no row became final (a row stranded until its lease ran out shows here)


def send_and_wait(run: PayrollRun, admin: User, queue_path: Path, workers: list[Child], timeout: float,
                  poll: float = 0.05) -> Sent:
    """Press send, as the web process does, then wait until every row is final."""
    start = time.perf_counter()
    with web_queue(queue_path):
        send_id = dispatch.request_send(run, admin).id
    requested = time.perf_counter() - start
    left, changed, stall = -1, start, 0.0
    while True:
        now, now_left = time.perf_counter(), unfinished(send_id)
        if now_left != left:
            left, changed = now_left, now
        stall = max(stall, now - changed)
        if not left:
            return Sent(send_id, now - start, requested, stall)
        if now - start > timeout:
            raise TimeoutError(f"send {send_id} not final after {timeout:.0f} s: {outcomes(send_id)}")
        if not all(worker.alive for worker in workers):
            raise RuntimeError("a worker died:\n" + "\n".join(w.tail() for w in workers if not w.alive))
        time.sleep(poll)
