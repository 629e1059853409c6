"""Status pages under load: the Kivra status page, Min lön and Kivra per employee, and the outcomes chart.

Run: .venv/bin/python bench/status_pages.py [--clients 4] [--requests 30] [--rounds 3] [--server gunicorn|werkzeug]
     [--datasets 1k,24k,100k,100k-dense] [--postgres] [--data DIR]
Bureau scale (issue 19.4): .venv/bin/python bench/status_pages.py --datasets 24k,bureau --postgres --data /tmp/bench-status
Databases built with bulk inserts (not through the engine), each run's rows dispatched as a send writes them (from
08:00 on the 24th, tests.status_history.as_sent), the dispatch tally compacted at the end as a worker's sweep would;
the company shown has 1 000 employees:
  1k         one month of payslips: 1 000 dispatch rows in all
  24k        24 months of history: 24 000 rows (12 000 of them in the chart's twelve months)
  100k       the 1k month, plus 99 000 rows the pages must not read: 49 older months of the same company and
             50 months of another company's (100 000 rows in all)
  100k-dense 100 months of the company's own history (12 000 rows in the chart's months, like 24k)
  bureau     a payroll bureau: 1 000 000 rows over 500 companies, the one shown the largest, with 5 000 employees and
             24 months (120 000 rows, 60 000 in the chart's months); sizes and build in bench/bureau_data.py. Built
             in about 1 minute on SQLite and 3.5 on PostgreSQL (COPY) on a quiet machine, 3.5 each at load 6.
With --postgres the same datasets are also served from PostgreSQL, a throwaway cluster each (tests/servers.py), in
the same rounds; --data keeps the SQLite files for the next run (PostgreSQL's are built anew).
Each is served on loopback by its own server in a subprocess: gunicorn with a worker process per core, as in
production (or werkzeug, threaded, with --server werkzeug). Each answer carries the app's own time in a Server-Timing
header. This process signs in and drives the servers with `--clients` httpx threads at once, the datasets
interleaved round by round so machine noise hits all alike, and More Solutions (a small page through the same stack)
as the baseline. Goals: the app's p95 under 50 ms with 24k; 100k no more than 1.5x the 1k time (the table's size
costs nothing: each page reads its month, the chart its twelve months, through the (company_id, dispatched_at)
index); 100k-dense against 24k shows the same with the chart's months full. Bureau: the largest company's pages'
p95 under 50 ms and within 1.5x of 24k, on SQLite and PostgreSQL; the months are summed from the dispatch
tally (kivra/dispatch/tally.py), the lists read through the covering (company_id, state, dispatched_at, ...) index. Each answer also carries the app's CPU time for it (`cpu`): on a machine
shared with other work the time swells with the load, the CPU time much less (on SQLite it holds the queries' work).
"""
import argparse
import contextlib
import logging
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench-only-secret")
os.environ.setdefault("HUEY_BACKEND", "memory")
os.environ["APP_ENV"] = "testing"

from bench.server_timing import server_timing  # noqa: E402

MONTH = date(2026, 10, 1)  # the month the pages show
PAGES = {
    "baseline": "/solutions",  # More Solutions: a small page through the same stack, for comparison
    "status page": f"/solutions/kivra?month={MONTH:%Y-%m}",
    "per employee": f"/solutions/dispatches?month={MONTH:%Y-%m}",
    "chart": f"/solutions/dispatches/chart?month={MONTH:%Y-%m}",
}
# dataset: (the company's months ending with MONTH, its older months before the chart's twelve, another company's)
DATASETS = {"1k": (1, 0, 0), "24k": (24, 0, 0), "100k": (1, 49, 50), "100k-dense": (100, 0, 0)}
EMAIL, PASSWORD = "admin@bench.se", "bench-password"


def build(url: str, name: str) -> int:
    """The dataset `name` in the empty database at `url`; returns the number of dispatch rows."""
    from werkzeug.security import generate_password_hash

    from bench import bureau_data
    from kivra import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    if name == "bureau":
        return bureau_data.build(app, MONTH, EMAIL, generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))
    return build_company(app, *DATASETS[name])


def build_company(app, recent: int, older: int, others: int) -> int:
    """Kivra in force for Bench AB, 1 000 employees, `recent` sent runs ending with MONTH and `older` ones ending
    before the chart's twelve months; another company with `others` months. Returns the number of dispatch rows."""
    from werkzeug.security import generate_password_hash

    from kivra.accounts.models import Company, User
    from kivra import agreement
    from kivra.dispatch import tally
    from kivra.dispatch.models import Dispatch
    from kivra.extensions import db
    from kivra.agreement.models import KivraSender
    from tests.status_history import add_employees, add_month, as_sent, months_back

    with app.app_context():
        db.create_all()
        for orgnr, email, months in (("5568402266", EMAIL, [months_back(MONTH, recent),
                                                             months_back(add(MONTH, -12), older) if older else []]),
                                     ("5560360793", "other@bench.se", [months_back(MONTH, others) if others else []])):
            company = Company(name=f"Bench {orgnr}", orgnr=orgnr, employer_contribution_rate=31.42)
            user = User(company=company, email=email, name="Bench Admin", role="admin", locale="sv",
                        password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))
            db.session.add_all([company, user])
            db.session.commit()
            agreement.approve(company, user)
            db.session.add(KivraSender(company_id=company.id, state="active", tenant_key=f"bench-{orgnr}"))
            db.session.commit()
            employees = add_employees(company, 1000)
            for month in sorted(m for group in months for m in group):
                add_month(company, user, employees, month, at=as_sent(month))
        tally.compact_all()  # as a worker's sweep would
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        rows = db.session.scalar(db.select(db.func.count()).select_from(Dispatch))
        db.session.remove()
        db.engine.dispose()
    return rows


def add(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def serve(url: str, port: int) -> None:
    """The subprocess: the app on loopback, threaded, quiet; each answer says how long the app took to make it."""
    from werkzeug.serving import make_server

    from kivra import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    make_server("127.0.0.1", port, server_timing(app), threaded=True).serve_forever()


def timed_app():
    """For gunicorn: the app from the environment (DATABASE_URL), with Server-Timing."""
    from kivra import create_app

    return server_timing(create_app())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(database: str, server: str, workers: int, nice: int = 0) -> tuple[subprocess.Popen, str]:
    port = free_port()
    raise_priority = (lambda: os.nice(nice)) if nice else None
    if server == "gunicorn":  # the production layout: process workers, each request in one of them
        command = [str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
                   "--log-level", "warning", "bench.status_pages:timed_app()"]
        environ = {**os.environ, "DATABASE_URL": database}
        process = subprocess.Popen(command, cwd=ROOT, env=environ, preexec_fn=raise_priority)
    else:  # one process, a thread per request
        process = subprocess.Popen([sys.executable, __file__, "--serve", database, str(port)], cwd=ROOT,
                                   preexec_fn=raise_priority)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{url}/login", timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the app did not start")


def signed_in_cookies(url: str) -> httpx.Cookies:
    with httpx.Client(base_url=url) as client:
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', client.get("/login").text).group(1)
        response = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 303, response.status_code
        return client.cookies


def burst(url: str, cookies: httpx.Cookies, path: str, clients: int, requests: int) -> list[tuple[float, float]]:
    """`clients` threads, each with its own keep-alive connection, `requests` GETs each: (seconds as the client saw
    it, seconds the app took and seconds of its CPU, by its Server-Timing) per request."""
    def one_client(_):
        times = []
        with httpx.Client(base_url=url, cookies=cookies, timeout=30) as client:
            client.get(path).raise_for_status()  # warm the connection
            for _ in range(requests):
                start = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - start
                assert response.status_code == 200 and len(response.content) > 1000
                app, cpu = re.findall(r"dur=([\d.]+)", response.headers["server-timing"])
                times.append((elapsed, float(app) / 1000, float(cpu) / 1000))
        return times
    with ThreadPoolExecutor(clients) as pool:
        return [t for times in pool.map(one_client, range(clients)) for t in times]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


LOAD_BEFORE = os.getloadavg()
PAIRS = (("100k", "1k"), ("100k-dense", "24k"), ("bureau", "24k"))  # (large, small): the ratio's goal holds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=30, help="per client, per page, per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--goal-ms", type=float, default=50.0)
    parser.add_argument("--ratio", type=float, default=1.5)
    parser.add_argument("--datasets", default="1k,24k,100k,100k-dense",
                        help=f"comma separated, of {', '.join(DATASETS)}, bureau")
    parser.add_argument("--postgres", action="store_true",
                        help="also on PostgreSQL: a throwaway cluster per dataset (tests/servers.py)")
    parser.add_argument("--data", help="keep the SQLite databases in this directory and reuse them next time")
    parser.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn",
                        help="gunicorn with --workers processes (the production layout), or werkzeug threaded")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--nice", type=int, default=0,
                        help="niceness for the servers and the load generator, e.g. -10 on a machine shared with"
                             " other work (needs root), so its noise stays out of the figures")
    parser.add_argument("--serve", nargs=2, metavar=("DB", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return 0
    args.datasets = [name for name in args.datasets.split(",") if name]
    unknown = set(args.datasets) - {*DATASETS, "bureau"}
    if unknown:
        parser.error(f"no dataset {', '.join(sorted(unknown))}")
    args.databases = ["SQLite", "PostgreSQL"] if args.postgres else ["SQLite"]

    if args.nice:
        os.nice(args.nice)
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        folder = Path(args.data or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        servers = {}
        try:
            for database in args.databases:
                for name in args.datasets:
                    url = database_url(stack, database, folder, name)
                    servers[database, name] = start_server(url, args.server, args.workers, args.nice)
            cookies = {key: signed_in_cookies(url) for key, (_, url) in servers.items()}
            times = {(*key, page): [] for key in servers for page in PAGES}
            for _ in range(args.rounds):
                for page, path in PAGES.items():
                    for key, (_, url) in servers.items():
                        times[(*key, page)].extend(burst(url, cookies[key], path, args.clients, args.requests))
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait()
    return report(times, args)


def database_url(stack: contextlib.ExitStack, database: str, folder: Path, name: str) -> str:
    """The dataset's database, built unless a kept SQLite file has it: a file in `folder`, or a throwaway cluster."""
    if database == "SQLite":
        path = folder / f"{name}.db"
        url = f"sqlite:///{path}"
        if path.exists():
            return url
    else:
        from tests.servers import postgres_server

        url = stack.enter_context(postgres_server(database=f"bench_{name.replace('-', '_')}"))
    started, load = time.perf_counter(), os.getloadavg()[0]
    rows = build(url, name)
    print(f"built {name:>10} on {database}: {rows:>9,} dispatch rows in {time.perf_counter() - started:.1f} s"
          f" (load {load:.2f})", flush=True)
    return url


def report(times: dict, args) -> int:
    def figures(database, name, page, side):  # side 0: the client's time, 1: the app's own, 2: its CPU time
        return [t[side] * 1000 for t in times[database, name, page]]

    where = f"gunicorn, {args.workers} workers" if args.server == "gunicorn" else "werkzeug, threaded"
    where += f", nice {args.nice}" if args.nice else ""
    print(f"load average before: {LOAD_BEFORE[0]:.2f}, after: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    print(f"\n{where}; {args.clients} clients at once, {args.rounds} rounds x {args.requests} requests per page and"
          " dataset, ms;"
          " server = the app's own time (Server-Timing), client = as the load generator saw it (queueing and"
          " loopback HTTP included), cpu = the app's CPU time for the request (the database's included on SQLite,"
          " not on PostgreSQL, where it runs in its own server)")
    ok = True
    for database in args.databases:
        print(f"\n{database}")
        print(f"{'page':<14}{'dataset':>11}{'server median':>15}{'p95':>8}{'cpu median':>12}{'p95':>8}"
              f"{'client median':>15}{'p95':>8}")
        for page in PAGES:
            for name in args.datasets:
                server, client = figures(database, name, page, 1), figures(database, name, page, 0)
                cpu = figures(database, name, page, 2)
                print(f"{page:<14}{name:>11}{statistics.median(server):>15.1f}{p95(server):>8.1f}"
                      f"{statistics.median(cpu):>12.1f}{p95(cpu):>8.1f}"
                      f"{statistics.median(client):>15.1f}{p95(client):>8.1f}")
                if page != "baseline" and name in ("24k", "bureau"):
                    ok &= p95(server) < args.goal_ms
        for large, small in PAIRS:
            if large not in args.datasets or small not in args.datasets:
                continue
            print(f"ratio {large} / {small}, server time (goal <= {args.ratio}), and of the app's CPU time")
            for page in PAGES:
                large_times, small_times = figures(database, large, page, 1), figures(database, small, page, 1)
                median_ratio = statistics.median(large_times) / statistics.median(small_times)
                p95_ratio = p95(large_times) / p95(small_times)
                large_cpu, small_cpu = figures(database, large, page, 2), figures(database, small, page, 2)
                print(f"  {page:<14} median {median_ratio:.2f}   p95 {p95_ratio:.2f}      cpu median"
                      f" {statistics.median(large_cpu) / statistics.median(small_cpu):.2f}"
                      f"   p95 {p95(large_cpu) / p95(small_cpu):.2f}")
                if page != "baseline":
                    ok &= median_ratio <= args.ratio and p95_ratio <= args.ratio
    print(f"\ngoals {'met' if ok else 'NOT met'}: server p95 < {args.goal_ms:.0f} ms with 24k rows and bureau's 1M;"
          f" 100k within {args.ratio}x of 1k, 100k-dense and bureau of 24k")
    return 0 if ok else 1


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
