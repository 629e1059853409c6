"""The web while a big send runs: Locust's simulated users browse the status page, the run list and Min lön, first with
no send (the baseline), then while `flask worker` processes send a run of 20 000 payslips, all on this machine.

Run: bash scripts/install bench    # once: Locust (requirements/bench.txt)
     .venv/bin/python bench/web_during_send.py [--payslips 20000] [--users 50] [--seconds 60] [--worker-processes 2]
     [--worker-threads 8] [--worker-nice 10] [--sandbox-nice 19] [--web-workers 4] [--latency-ms 50] [--nice 0]
The production shape on loopback, each a process of its own: a throwaway PostgreSQL and Redis (tests/servers.py), the
Kivra sandbox (`python -m kivra.sandbox --latency-ms 50 --keep-alive` under `nice -n 19`: Kivra's CPU is not on this
machine, so its stand-in takes only what the stack leaves; --sandbox-nice 0 for the web's priority), the app served
by gunicorn as deploy/payroll-web.service serves it (4 sync workers, the redacting access log) with a Server-Timing
header added (bench/server_timing.py), and `flask worker` processes on Redis's queue as
deploy/payroll-worker@.service starts them: under `nice -n 10` (the unit's Nice=10; its CPUWeight=20 needs systemd),
--worker-nice 0 for the web's priority. Data, written before the
clock starts: a company with --payslips employees, all Kivra users in the sandbox, Kivra approved, a calculated
November run and October's run already sent (--payslips dispatch rows, bulk inserted); administrators and Min lön
employees (e-mail and password, the hash made once) to sign in as.
Locust (bench/locust_web.py; headless, --users at 10 a second) signs each user in with the form's CSRF token, then
browses with 1-3 s between pages: 20 administrators the status page and the run list in turn, the rest Min lön. It
runs --seconds plus 30 for the sign-ins (scrypt); the figures are from the last sign-in on. Phase 1: no send.
Phase 2: the run's send is requested (as the web does: rows written, the start queued) and the same load runs while
the workers send; the payslips delivered during the load are counted.
Prints per page and overall, per phase: the app's own time (Server-Timing) median and p95, the client's p95 (Locust,
queueing and loopback HTTP included), requests and failures; the ratio of the p95s with and without the send; the CPU
seconds each part of the stack used in each window; the load average. Goal: server p95 under 100 ms during the send,
on every page, with no failed request in either phase.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import shutil
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dispatch_send import (  # noqa: E402
    ROOT, Child, calculated_run, child_env, engine_options, lowered, orgnr, personnummer, start_sandbox, tree_cpu,
)
from tests.servers import PostgresServer, RedisServer, free_port  # noqa: E402

HISTORY = date(2026, 10, 1)  # October's run, sent in October; calculated_run makes November's
PASSWORD = "bench-password-5c1e"
QUEUE_NAME = "kivra-bench-web"
PAGES = ("status page", "run list", "Min lön")
ADMIN_USERS = 20  # Locust users browsing as administrators; the rest of --users read Min lön
SIGN_IN_SECONDS = 30  # Locust runs this much longer than --seconds: the users sign in first (scrypt), unmeasured


def build(app, sandbox_url: str, payslips: int, admins: int, employees: int) -> tuple[int, int]:
    """The company, its runs and the accounts to sign in with; returns (the run to send, the admin who sends it)."""
    from sqlalchemy import select, text, update
    from werkzeug.security import generate_password_hash

    from kivra.accounts.models import Company, User, utcnow
    from kivra.employees.models import Employee
    from kivra.employees.portal_account import PortalAccount
    from kivra.extensions import db
    from kivra.payroll.models import PayrollRun
    from tests.status_history import PATTERN, add_month

    with app.app_context(), app.test_request_context():
        db.create_all()
        run, admin = calculated_run("Stora Bolaget AB", orgnr(7), personnummer(payslips), sandbox_url)
        company = db.session.get(Company, run.company_id)
        ids = list(db.session.scalars(select(Employee.id).where(Employee.company_id == company.id)
                                      .order_by(Employee.id)))
        # October's send, final in every row (a queued one would be picked up by the workers' sweep).
        october = add_month(company, admin, ids, HISTORY,
                            pattern={k: v for k, v in PATTERN.items() if v[1] != "queued"})
        # Its payslips counted, as calculating a run counts them (add_month writes the run as migration 0022 left it).
        db.session.execute(update(PayrollRun).where(PayrollRun.id == october).values(payslip_count=len(ids)))
        for table in ("payroll_run", "payslip_send", "payslip", "payslip_version", "dispatch"):  # ids given by hand
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"))
        password_hash = generate_password_hash(PASSWORD)  # once: every account shares it
        admin.email, admin.password_hash = "admin-0@bench.se", password_hash
        db.session.add_all(User(company_id=company.id, role="admin", email=f"admin-{n}@bench.se", name=f"Admin {n}",
                                locale="sv", password_hash=password_hash) for n in range(1, admins))
        chosen = ids[::max(1, len(ids) // employees)][:employees]
        for n, employee_id in enumerate(chosen):
            db.session.execute(update(Employee).where(Employee.id == employee_id).values(email=f"minlon-{n}@bench.se"))
        db.session.add_all(PortalAccount(employee_id=employee_id, password_hash=password_hash,
                                         notify_new_payslips=False, password_set_at=utcnow()) for employee_id in chosen)
        db.session.commit()
        run_id, admin_id = run.id, admin.id
        db.session.remove()
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return run_id, admin_id


# --- processes and their CPU -------------------------------------------------------------------------------------


def start_web(env: dict, workers: int, log: Path) -> tuple[Child, str]:
    """gunicorn as deploy/payroll-web.service runs it, on a free loopback port, the app timed (Server-Timing)."""
    url = f"http://127.0.0.1:{free_port()}"
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    web = Child([gunicorn, "--workers", str(workers), "--bind", url.removeprefix("http://"), "--timeout", "30",
                 "--no-control-socket", "--access-logfile", str(log.with_suffix(".access.log")),
                 "--logger-class", "kivra.access_log.RedactingLogger", "bench.server_timing:timed_app()"], env, log)
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and web.alive:
        try:
            if httpx.get(f"{url}/login", timeout=5).status_code == 200:
                return web, url
        except httpx.TransportError:
            time.sleep(0.2)
    web.stop()
    raise RuntimeError(f"gunicorn did not start:\n{web.tail()}")


def start_worker(env: dict, threads: int, nice: int, log: Path, idle: bool = False) -> Child:
    """`flask --app app worker --threads N`, as deploy/payroll-worker@.service starts it (under `nice` if asked, and
    under the idle scheduling policy, `chrt --idle 0`, if asked)."""
    command = [sys.executable, "-m", "flask", "--app", "app", "worker", "--threads", str(threads)]
    return Child(lowered(nice, idle) + command, env, log)


# --- the load ----------------------------------------------------------------------------------------------------


def load(url: str, args, workdir: Path, label: str, stack: dict[str, int]) -> dict:
    """Locust headless for args.seconds; the app's times per page, Locust's own figures, CPU by part, load average."""
    timings, prefix = workdir / f"{label}-timings.json", workdir / label
    env = child_env(BENCH_ADMINS=ADMIN_USERS, BENCH_EMPLOYEES=args.users, BENCH_PASSWORD=PASSWORD,
                    BENCH_TIMINGS=timings, BENCH_ADMIN_USERS=min(ADMIN_USERS, args.users), PYTHONPATH=ROOT)
    command = [str(Path(sys.executable).parent / "locust"), "-f", "bench/locust_web.py", "--headless",
               "-u", str(args.users), "-r", "10", "-t", f"{args.seconds + SIGN_IN_SECONDS}s", "--stop-timeout", "5",
               "--host", url,
               "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"]
    samples, done = [], threading.Event()

    def sample():
        while not done.wait(2):
            samples.append(os.getloadavg()[0])
    sampler = threading.Thread(target=sample, daemon=True)
    cpu_before = {name: tree_cpu(pid) for name, pid in stack.items()}
    sampler.start()
    with open(workdir / f"{label}-locust.log", "wb") as output:
        locust = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                  stderr=subprocess.STDOUT)
        stack = {**stack, "locust": locust.pid}
        cpu_before["locust"] = 0.0
        cpu_locust, deadline = 0.0, time.monotonic() + args.seconds + SIGN_IN_SECONDS + 60
        while locust.poll() is None and time.monotonic() < deadline:
            cpu_locust = max(cpu_locust, tree_cpu(locust.pid))  # its own, while it runs
            time.sleep(1)
        if locust.poll() is None:
            locust.kill()
            raise RuntimeError(f"Locust did not stop after {args.seconds} s")
    done.set()
    cpu = {name: tree_cpu(pid) - cpu_before[name] for name, pid in stack.items() if name != "locust"}
    cpu["workers"] = sum(cpu.pop(name) for name in list(cpu) if name.startswith("worker "))
    cpu["locust"] = cpu_locust
    requests = json.loads(timings.read_text())
    signed_in = max((ended for name, ended, *_ in requests if name == "sign in"), default=0.0)
    measured = [r for r in requests if not r[0].startswith("sign in") and r[1] > signed_in]
    return {"server": {page: [r[2] for r in measured if r[0] == page and r[2] is not None] for page in PAGES},
            "client": {page: [r[3] for r in measured if r[0] == page] for page in PAGES},
            "sign_ins": [r[2] for r in requests if r[0] == "sign in" and r[2] is not None],
            "window": max((r[1] for r in measured), default=signed_in) - signed_in,
            "failures": [f"{r[0]}: {r[4]}" for r in requests if r[4]], "cpu": cpu,
            "load": samples or [os.getloadavg()[0]]}


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else float("nan")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(phases: dict[str, dict], sent: dict, args) -> bool:
    print(f"\n{args.users} users for {args.seconds + SIGN_IN_SECONDS} s per phase, measured from the last sign-in on; "
          f"nice {args.nice}, workers {args.nice + args.worker_nice}{' (idle policy)' * args.worker_idle}, "
          f"sandbox {args.nice + args.sandbox_nice}{' (idle policy)' * args.sandbox_idle}; ms; "
          "server = the app's own time (Server-Timing), client = as Locust saw it (gunicorn's queue and loopback HTTP "
          "included)")
    print(f"{'phase':<14}{'page':<13}{'requests':>9}{'server median':>15}{'p95':>8}{'client median':>15}{'p95':>8}")
    for label, figures in phases.items():
        rows = [*((page, figures["server"][page], figures["client"][page]) for page in PAGES),
                ("overall", sum(figures["server"].values(), []), sum(figures["client"].values(), [])),
                ("(sign-ins)", figures["sign_ins"], [])]
        for page, server, client in rows:
            print(f"{label:<14}{page:<13}{len(server):>9}{median(server):>15.1f}{p95(server):>8.1f}"
                  f"{median(client):>15.1f}{p95(client):>8.1f}")
        print(f"{label:<14}window {figures['window']:.0f} s, {len(figures['failures'])} failed requests"
              + "".join(f"\n    {failure}" for failure in figures["failures"][:10]))
    quiet, busy = phases["without send"], phases["during send"]
    print("\nratio of server p95, during / without the send: " + ", ".join(
        f"{page} {p95(busy['server'][page]) / p95(quiet['server'][page]):.2f}" for page in PAGES)
        + f", overall {p95(sum(busy['server'].values(), [])) / p95(sum(quiet['server'].values(), [])):.2f}")
    for label, figures in phases.items():
        print(f"CPU seconds {label}: " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in figures["cpu"].items())
              + f"; load average mean {statistics.mean(figures['load']):.2f}, max {max(figures['load']):.2f} "
              f"({os.cpu_count()} cores)")
    rate = sent["during"] / (args.seconds + SIGN_IN_SECONDS)
    print(f"payslips delivered during the load: {sent['during']} ({rate:.1f}/s); "
          f"the send requested in {sent['requested']:.1f} s, {sent['before']} delivered before the load began, "
          f"{sent['after']} of {args.payslips} when it ended")
    worst = max(p95(values) for values in busy["server"].values())
    failures = len(quiet["failures"]) + len(busy["failures"])
    met = worst < args.goal_ms and failures == 0 and sent["during"] > 0
    print(f"\ngoal {'met' if met else 'NOT met'}: server p95 during the send {worst:.1f} ms on the slowest page "
          f"(goal < {args.goal_ms:.0f} ms), {failures} failed requests (goal 0)")
    return met


def delivered(app, run_id: int) -> int:
    from sqlalchemy import func, select

    from kivra.dispatch.models import OUTCOMES, Dispatch
    from kivra.extensions import db

    with app.app_context():
        count = db.session.scalar(select(func.count()).where(Dispatch.run_id == run_id,
                                                             Dispatch.state.in_(OUTCOMES)))
        db.session.remove()
    return count


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payslips", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--worker-processes", type=int, default=2)
    parser.add_argument("--worker-threads", type=int, default=8)
    parser.add_argument("--worker-nice", type=int, default=10,
                        help="start the workers under nice -n N (10: deploy/payroll-worker@.service's Nice=10)")
    parser.add_argument("--worker-idle", action="store_true",
                        help="start the workers under the idle scheduling policy (chrt --idle 0): they run only when "
                             "nothing else wants the CPU")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--goal-ms", type=float, default=100.0)
    parser.add_argument("--sandbox-nice", type=int, default=19,
                        help="start the sandbox under nice -n N: Kivra's CPU is not on this machine, so its stand-in "
                             "takes only what the stack leaves (0: at the web's priority)")
    parser.add_argument("--sandbox-idle", action="store_true",
                        help="start the sandbox under the idle scheduling policy (chrt --idle 0) as well")
    parser.add_argument("--nice", type=int, default=0,
                        help="niceness of the whole stack (this process and all it starts), e.g. -10 on a machine"
                             " shared with other work (needs root); --worker-nice is added to it for the workers")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, Locust's CSV)")
    args = parser.parse_args()
    if shutil.which("locust", path=str(Path(sys.executable).parent)) is None:
        parser.error("Locust is not installed: bash scripts/install bench")
    if args.nice:
        os.nice(args.nice)  # every process started from here on inherits it

    from kivra import create_app
    from kivra.dispatch import service as dispatch
    from kivra.extensions import db
    from kivra.payroll.models import PayrollRun
    from kivra.accounts.models import User

    workdir = Path(tempfile.mkdtemp(prefix="bench-web-send-"))
    children: list[Child] = []
    with PostgresServer("bench") as postgres, RedisServer() as redis:
        try:
            sandbox, sandbox_url = start_sandbox(workdir / "sandbox.log", args.latency_ms, nice=args.sandbox_nice,
                                                 idle=args.sandbox_idle)
            children.append(sandbox)
            app = create_app({"SQLALCHEMY_DATABASE_URI": postgres.url,
                              "SQLALCHEMY_ENGINE_OPTIONS": engine_options(postgres.url),
                              "KIVRA_API_URL": sandbox_url, "QUEUE_URL": redis.url, "HUEY_NAME": QUEUE_NAME})
            started = time.perf_counter()
            run_id, admin_id = build(app, sandbox_url, args.payslips, ADMIN_USERS, args.users)
            print(f"setup: {args.payslips} employees, a calculated run and October's {args.payslips} dispatch rows in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
            env = child_env(APP_ENV="testing", SECRET_KEY="bench-web-during-send-secret", DATABASE_URL=postgres.url,
                            REDIS_URL=redis.url, HUEY_NAME=QUEUE_NAME, KIVRA_API_URL=sandbox_url, MAIL_DISABLED="true",
                            DISPATCH_WORKERS=args.worker_threads, WORKER_STOP_GRACE_SECONDS=2)
            web, url = start_web(env, args.web_workers, workdir / "gunicorn.log")
            children.append(web)
            workers = [start_worker(env, args.worker_threads, args.worker_nice, workdir / f"worker-{n}.log",
                                    args.worker_idle)
                       for n in range(args.worker_processes)]
            children.extend(workers)
            time.sleep(10)  # their start-up (imports, the app) stays out of phase 1's CPU figures
            stack = {"web": web.pid, "sandbox": sandbox.pid, "postgres": postgres.process.pid,
                     "redis": redis.process.pid}
            phases = {"without send": load(url, args, workdir, "quiet", {**stack, **worker_pids(workers)})}
            print(f"phase 1 done: load average {os.getloadavg()[0]:.2f}", flush=True)

            requested = time.perf_counter()
            with app.app_context():
                dispatch.request_send(db.session.get(PayrollRun, run_id), db.session.get(User, admin_id))
                db.session.remove()
            sent = {"requested": time.perf_counter() - requested, "before": delivered(app, run_id)}
            phases["during send"] = load(url, args, workdir, "busy", {**stack, **worker_pids(workers)})
            sent["after"] = delivered(app, run_id)
            sent["during"] = sent["after"] - sent["before"]
            if not all(child.alive for child in children):
                raise RuntimeError("a process died:\n" + "\n".join(c.tail() for c in children if not c.alive))
        finally:
            for child in reversed(children):
                child.stop()
            if args.keep:
                print(f"kept {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    met = report(phases, sent, args)
    return 0 if met else 1


def worker_pids(workers: list[Child]) -> dict[str, int]:
    return {f"worker {n}": worker.pid for n, worker in enumerate(workers)}


if __name__ == "__main__":
    sys.exit(main())
