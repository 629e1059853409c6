"""Dispatch throughput: a run's payslips end to end (usermatch, fresh PDF, payload, send) through real `flask worker`
processes against the sandbox with latency on every call, against the bound that latency and the CPU set.

Run: .venv/bin/python bench/dispatch_throughput.py [--concurrency 16 64] [--processes 2] [--payslips 2000]
     [--large 20000] [--sequential 0] [--latency-ms 50] [--close-connections] [--postgres] [--idle-seconds 3]
     [--stages]
For each C of `--concurrency`, `--processes` workers of C / processes threads send `--payslips` payslips; the same
workers then send `--large` payslips (0: skip). Each line prints payslips per second from the moment the send is
requested until every dispatch row is final, and the CPU milliseconds per payslip of the workers and of the sandbox
over that window (from /proc). The bound for a send is min(C / latency, cores / CPU per payslip), the CPU being the
workers' and the sandbox's on the same cores; goal: each send at >= 0.8 of its bound, the workers' CPU per payslip
<= 5 ms, and the large send's time per payslip within 1.2x of the small one's (the run's size costs nothing).
`--sequential N` also times one worker with one thread on N payslips (a round is the latency plus the CPU).
`--stages` starts the workers through bench/dispatch_stages.py and prints, after each send, their CPU per payslip by
stage (claim, PDF, content, store, send, record...) on each thread's own clock, and what no stage holds.
The sandbox (`python -m kivra.sandbox --latency-ms --keep-alive`: connections kept open between calls, as Kivra
keeps them; `--close-connections` for Werkzeug's server, which opens one per call) and the workers are separate
processes on their own SQLite database and Huey queue in a temporary directory (`--postgres`: the database on a
PostgreSQL server of their own, whose CPU is counted and bounds the send with the others'); companies, employees and
calculated runs are made before the clock starts; each worker set first sends a warm-up run of ten payslips per thread
(a task each), so that every worker process's caches, token and connections are warm, not only those of the process
that took a smaller warm-up's one task; each timed send is pressed after the workers have been idle `--idle-seconds`,
as a payroll run's send is, so their threads have backed off to their longest poll; PDFs are made during the timed
send. Figures vary with the machine's load, printed with each line: the ratios are the measure. Each summary line
also gives what a queueing model of the same C, latency and CPU allows (bench/queueing.py): where the two limits of
the bound meet, waiting for Kivra and for the cores costs a share of the bound that no engine wins back.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import dispatch_stages, queueing  # noqa: E402
from bench.dispatch_send import (  # noqa: E402
    calculated_run, cpu_seconds, make_app, orgnr, outcomes, personnummer, send_and_wait, start_sandbox, start_worker,
    tree_cpu,
)
from kivra.extensions import db  # noqa: E402
from kivra.agreement import onboarding  # noqa: E402
from tests.servers import PostgresServer  # noqa: E402

WARM_UP = 10  # payslips per thread of a worker set: one task each


def timed_send(label, run, admin, workers, sandbox, queue, timeout, postgres=None, idle=0.0, stages=()) -> dict:
    """One send to the end, with the CPU its workers, the sandbox and PostgreSQL (if used) spent on it, pressed after
    the workers have been idle `idle` seconds; and, given the workers' `stages` files, their CPU by stage."""
    # Each worker writes its stage totals every 0.2 s: after half a second idle they hold all the work before the press.
    time.sleep(max(idle, 0.5) if stages else idle)
    stages_before = [dispatch_stages.read_totals(path) for path in stages]
    pids = [w.pid for w in workers] + [sandbox.pid] + ([postgres.process.pid] if postgres else [])
    # The sandbox's gunicorn answers in a worker process; PostgreSQL in a backend per connection.
    measure = [cpu_seconds] * len(workers) + [tree_cpu] * (1 + bool(postgres))
    cpu_before = [cpu(pid) for cpu, pid in zip(measure, pids)]
    sent = send_and_wait(run, admin, queue, workers, timeout)
    cpu = [cpu(pid) - before for cpu, pid, before in zip(measure, pids, cpu_before)]
    counts = outcomes(sent.send_id)
    payslips = sum(counts.values())
    figures = {"payslips": payslips, "rate": payslips / sent.seconds, "counts": counts,
               "worker_cpu_ms": sum(cpu[:len(workers)]) * 1000 / payslips,
               "sandbox_cpu_ms": cpu[len(workers)] * 1000 / payslips,
               "database_cpu_ms": cpu[len(workers) + 1] * 1000 / payslips if postgres else 0.0}
    database = f", PostgreSQL {figures['database_cpu_ms']:.1f} ms" if postgres else ""
    print(f"{label}: {payslips} payslips in {sent.seconds:.2f} s = {figures['rate']:.1f} payslips/s "
          f"(request {sent.requested * 1000:.0f} ms, longest stall {sent.longest_stall:.1f} s); CPU per payslip: "
          f"workers {figures['worker_cpu_ms']:.1f} ms, sandbox {figures['sandbox_cpu_ms']:.1f} ms{database}; "
          f"outcomes {counts}; load average {os.getloadavg()[0]:.1f}", flush=True)
    if stages:
        time.sleep(0.5)  # each worker writes its totals every 0.2 s
        print_stages(stages_before, [dispatch_stages.read_totals(path) for path in stages], figures)
    return figures


def print_stages(before: list[dict], after: list[dict], figures: dict) -> None:
    """The workers' CPU per payslip by stage (each thread's own clock, summed over the workers), and what no stage
    holds: the consumers' polls and dequeues, the heartbeats and sweeps, and what threads cost outside their own
    clocks."""
    payslips, whole = figures["payslips"], figures["worker_cpu_ms"]
    spent = {stage: sum(a.get(stage, 0.0) - b.get(stage, 0.0) for a, b in zip(after, before)) * 1000 / payslips
             for _, _, stage in dispatch_stages.STAGES}
    dispatch_stages.print_row("the workers, whole", whole, whole)
    for _, _, stage in dispatch_stages.STAGES:
        if stage != dispatch_stages.WEB:
            dispatch_stages.print_row(stage, spent[stage], whole)
    outside = whole - sum(spent[stage] for stage in dispatch_stages.TOP)
    dispatch_stages.print_row("in no stage", outside, whole)


def bound(figures: dict, concurrency: int, latency_ms: int) -> float:
    """min(C / latency, cores / CPU per payslip): what the latency allows and what the cores allow."""
    return min(concurrency * 1000 / latency_ms, (os.cpu_count() or 1) * 1000 / cpu_ms(figures))


def cpu_ms(figures: dict) -> float:
    """The CPU per payslip of everything on the machine's cores: the workers, the sandbox, PostgreSQL if used."""
    return figures["worker_cpu_ms"] + figures["sandbox_cpu_ms"] + figures["database_cpu_ms"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64], help="sends at once (C), each in turn")
    parser.add_argument("--processes", type=int, default=2, help="worker processes sharing the queue")
    parser.add_argument("--payslips", type=int, default=2000)
    parser.add_argument("--large", type=int, default=20_000, help="a second send by the last C's workers (0: skip)")
    parser.add_argument("--sequential", type=int, default=0, help="payslips sent by one thread (0: skip)")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--close-connections", action="store_true",
                        help="the sandbox on Werkzeug's server, which closes each connection (Kivra keeps them open)")
    parser.add_argument("--postgres", action="store_true",
                        help="the database on a PostgreSQL server of its own (default: a SQLite file)")
    parser.add_argument("--idle-seconds", type=float, default=3.0,
                        help="the workers idle before each timed send is pressed, as between payroll runs")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--stages", action="store_true",
                        help="also print the workers' CPU by stage (bench/dispatch_stages.py times them in each)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    args = parser.parse_args()
    if args.latency_ms <= 0:
        parser.error("--latency-ms must be positive: the bound is C / latency")
    if any(c % args.processes for c in args.concurrency):
        parser.error("each --concurrency must be a multiple of --processes")

    workdir = Path(tempfile.mkdtemp(prefix="bench-dispatch-"))
    postgres = PostgresServer("bench").start() if args.postgres else None
    queue, database_url = workdir / "queue.db", postgres.url if postgres else f"sqlite:///{workdir / 'payroll.db'}"
    sandbox, url = start_sandbox(workdir / "sandbox.log", args.latency_ms, keep_alive=not args.close_connections)
    workers, results, tenants = [], [], []
    try:
        app = make_app(database_url, url)
        with app.app_context(), app.test_request_context():
            start = time.perf_counter()
            plan = [(f"C = {c}", c, args.payslips) for c in args.concurrency]
            if args.large:
                plan.append((f"C = {args.concurrency[-1]}, large", args.concurrency[-1], args.large))
            offset, runs = 0, []
            for n, (label, _, count) in enumerate(plan):
                runs.append(calculated_run(f"Bolag {n} AB", orgnr(20 + n), personnummer(count, offset), url))
                tenants.append(onboarding.sender_of(runs[-1][0].company_id).tenant_key)
                offset += count
            warm_ups = [calculated_run(f"Uppvärmning {n} AB", orgnr(10 + n),
                                       personnummer(WARM_UP * c, 900_000 + 10_000 * n), url)
                        for n, c in enumerate(args.concurrency + [1])]
            sequential = (calculated_run("En Tråd AB", orgnr(2), personnummer(args.sequential, 800_000), url)
                          if args.sequential else None)
            db.session.rollback()
            print(f"setup: {sum(count for _, _, count in plan) + args.sequential} payslips calculated in "
                  f"{time.perf_counter() - start:.1f} s; sandbox latency {args.latency_ms} ms per call; "
                  f"{os.cpu_count()} cores", flush=True)

            if sequential:
                workers = [start_worker(1, database_url, queue, url, workdir / "worker-sequential.log")]
                send_and_wait(*warm_ups[-1], queue, workers, args.timeout)
                one = timed_send("1 process x 1 thread", *sequential, workers, sandbox, queue, args.timeout, postgres,
                                 args.idle_seconds)
                print(f"  one thread: {1000 / one['rate']:.1f} ms per payslip = {args.latency_ms} ms latency + "
                      f"{1000 / one['rate'] - args.latency_ms:.1f} ms", flush=True)
                workers.pop().stop()

            current = None
            for n, (label, concurrency, _) in enumerate(plan):
                if concurrency != current:
                    for worker in workers:
                        worker.stop()
                    stages = [workdir / f"stages-{concurrency}-{p}.json" for p in range(args.processes)]
                    stages = stages if args.stages else []
                    workers = [start_worker(concurrency // args.processes, database_url, queue, url,
                                            workdir / f"worker-{concurrency}-{p}.log", stages[p] if stages else None)
                               for p in range(args.processes)]
                    send_and_wait(*warm_ups[min(n, len(warm_ups) - 1)], queue, workers, args.timeout)
                    current = concurrency
                figures = timed_send(f"{label} ({args.processes} x {concurrency // args.processes} threads)",
                                     *runs[n], workers, sandbox, queue, args.timeout, postgres, args.idle_seconds,
                                     stages)
                results.append((label, concurrency, figures))
            for worker in workers:
                worker.stop()
            workers = []

        ledger = httpx.get(f"{url}/_sandbox/ledger", timeout=120).json()["contents"]
    finally:
        for worker in workers:
            worker.stop()
        sandbox.stop()
        if postgres:
            postgres.close()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    met = True
    print()
    for (label, concurrency, figures), tenant in zip(results, tenants):
        received = sum(1 for entry in ledger if entry["tenant_key"] == tenant and entry["delivered_count"] == 1)
        once = received == figures["payslips"] and figures["counts"] == {"delivered": figures["payslips"]}
        limit = bound(figures, concurrency, args.latency_ms)
        ratio = figures["rate"] / limit
        met = met and once and ratio >= 0.8 and figures["worker_cpu_ms"] <= 5
        model = queueing.throughput(concurrency, args.latency_ms, cpu_ms(figures), os.cpu_count() or 1)
        print(f"{label}: {figures['rate']:.1f} payslips/s = {ratio:.2f} of its bound {limit:.0f}/s "
              f"(C / latency {concurrency * 1000 / args.latency_ms:.0f}/s, cores / CPU "
              f"{(os.cpu_count() or 1) * 1000 / cpu_ms(figures):.0f}/s; "
              f"goal >= 0.80); workers' CPU {figures['worker_cpu_ms']:.1f} ms per payslip (goal <= 5); "
              f"Kivra received {received} of {figures['payslips']} once each: {once}; the queueing model "
              f"(bench/queueing.py) allows {model:.0f}/s = {model / limit:.2f} of the bound, the send reached "
              f"{figures['rate'] / model:.2f} of it")
    if args.large:
        small, large = results[-2][2], results[-1][2]
        per_payslip = small["rate"] / large["rate"]
        met = met and per_payslip <= 1.2
        print(f"{large['payslips']} against {small['payslips']} payslips at the same C: {per_payslip:.2f}x the time "
              f"per payslip (goal <= 1.20)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
