"""Dispatch throughput: a run's payslips end to end (usermatch, fresh PDF, payload, send) through real `flask worker`
processes against the sandbox with latency on every call, vs the ceiling that latency sets and vs one thread.

Run: .venv/bin/python bench/dispatch_throughput.py [--payslips 2000] [--threads 16] [--processes 1]
     [--sequential 200] [--latency-ms 50]
Prints payslips per second from the moment the send is requested until every dispatch row is final, for
`--processes` workers of `--threads` threads (C = processes x threads sends at once) and for one worker with one
thread on the first `--sequential` payslips of the same run (its per-payslip rate stands for the whole run); and the
ratios to the ceiling C / latency (goal >= 0.8) and to one thread (goal >= 10x). Also CPU milliseconds per payslip of
the workers and the sandbox over the timed window: with two cores, their sum bounds what any C can reach.
The sandbox (`python -m kivra.sandbox --latency-ms`) and the workers are separate processes on their own SQLite
database and Huey queue in a temporary directory; companies, employees and calculated runs are made before the clock
starts; each worker first sends a small warm-up run so its caches, token and connections are warm; PDFs are made
during the timed send. Figures vary with the machine: the ratios are the measure.
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

from bench.dispatch_send import (  # noqa: E402
    calculated_run, cpu_seconds, make_app, orgnr, outcomes, personnummer, send_and_wait, start_sandbox, start_worker,
)
from kivra.extensions import db  # noqa: E402
from kivra.agreement import onboarding  # noqa: E402

WARM_UP = 10


def timed_send(label, run, admin, workers, sandbox, queue, timeout) -> dict:
    """One send to the end, with the CPU its workers and the sandbox spent on it."""
    pids = [w.pid for w in workers] + [sandbox.pid]
    cpu_before = [cpu_seconds(pid) for pid in pids]
    sent = send_and_wait(run, admin, queue, workers, timeout)
    cpu = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before)]
    counts = outcomes(sent.send_id)
    payslips = sum(counts.values())
    figures = {"payslips": payslips, "rate": payslips / sent.seconds, "counts": counts,
               "worker_cpu_ms": sum(cpu[:-1]) * 1000 / payslips, "sandbox_cpu_ms": cpu[-1] * 1000 / payslips}
    print(f"{label}: {payslips} payslips in {sent.seconds:.2f} s = {figures['rate']:.1f} payslips/s "
          f"(request {sent.requested * 1000:.0f} ms, longest stall {sent.longest_stall:.1f} s); CPU per payslip: "
          f"workers {figures['worker_cpu_ms']:.1f} ms, sandbox {figures['sandbox_cpu_ms']:.1f} ms; outcomes {counts}; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payslips", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=16, help="threads per worker process")
    parser.add_argument("--processes", type=int, default=1, help="worker processes sharing the queue")
    parser.add_argument("--sequential", type=int, default=200, help="payslips sent by one thread (0: skip)")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    args = parser.parse_args()
    if args.latency_ms <= 0:
        parser.error("--latency-ms must be positive: the ceiling is C / latency")
    concurrency = args.threads * args.processes

    workdir = Path(tempfile.mkdtemp(prefix="bench-dispatch-"))
    queue, database_url = workdir / "queue.db", f"sqlite:///{workdir / 'payroll.db'}"
    sandbox, url = start_sandbox(workdir / "sandbox.log", args.latency_ms)
    workers = []
    try:
        app = make_app(database_url, url)
        with app.app_context(), app.test_request_context():
            start = time.perf_counter()
            numbers = personnummer(args.payslips)
            warm_ups = [calculated_run(f"Uppvärmning {n} AB", orgnr(10 + n), personnummer(WARM_UP, 90_000 + 100 * n),
                                       url) for n in range(2)]
            one_thread = calculated_run("En Tråd AB", orgnr(2), numbers[:args.sequential], url)
            many = calculated_run("Många Trådar AB", orgnr(3), numbers, url)
            tenant = onboarding.sender_of(many[0].company_id).tenant_key
            db.session.rollback()
            print(f"setup: {args.payslips} + {args.sequential} payslips calculated in "
                  f"{time.perf_counter() - start:.1f} s; sandbox latency {args.latency_ms} ms per call", flush=True)

            sequential = None
            if args.sequential:
                workers = [start_worker(1, database_url, queue, url, workdir / "worker-sequential.log")]
                send_and_wait(*warm_ups[0], queue, workers, args.timeout)
                sequential = timed_send("1 process x 1 thread", *one_thread, workers, sandbox, queue, args.timeout)
                workers.pop().stop()

            workers = [start_worker(args.threads, database_url, queue, url, workdir / f"worker-{n}.log")
                       for n in range(args.processes)]
            send_and_wait(*warm_ups[1], queue, workers, args.timeout)
            parallel = timed_send(f"{args.processes} process(es) x {args.threads} threads", *many, workers, sandbox,
                                  queue, args.timeout)
            for worker in workers:
                worker.stop()
            workers = []

        ledger = httpx.get(f"{url}/_sandbox/ledger", timeout=60).json()["contents"]
        received = sum(1 for entry in ledger if entry["tenant_key"] == tenant and entry["delivered_count"] == 1)
    finally:
        for worker in workers:
            worker.stop()
        sandbox.stop()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    ceiling = concurrency * 1000 / args.latency_ms
    cores = os.cpu_count()
    cpu_ms = parallel["worker_cpu_ms"] + parallel["sandbox_cpu_ms"]
    print(f"Kivra received {received} of {parallel['payslips']} payslips once each; "
          f"all final rows delivered: {parallel['counts'] == {'delivered': parallel['payslips']}}")
    print(f"ceiling C / latency = {concurrency} / {args.latency_ms} ms = {ceiling:.0f} payslips/s")
    print(f"ratio to the ceiling: {parallel['rate'] / ceiling:.2f}  (goal >= 0.80)")
    met = parallel["rate"] / ceiling >= 0.8 and received == parallel["payslips"]
    cpu_bound = cores * 1000 / cpu_ms
    if sequential:
        speedup = parallel["rate"] / sequential["rate"]
        print(f"ratio to one thread: {speedup:.1f}x  (goal >= 10x; one thread measured on {sequential['payslips']} "
              f"payslips of the same run, {1000 / sequential['rate']:.1f} ms per payslip)")
        met = met and speedup >= 10
    print(f"CPU per payslip, workers + sandbox: {cpu_ms:.1f} ms: {cores} cores fully used would send at most "
          f"{cpu_bound:.0f} payslips/s, whatever C = {cpu_bound / ceiling:.2f} of the ceiling"
          + (f", {cpu_bound / sequential['rate']:.1f}x one thread" if sequential else ""))
    if sequential:
        # Each send slot builds its payload (PDF included) and waits for Kivra in turn: its round is the latency plus
        # that CPU, whatever C. And one thread's round is the same, so 10x it needs the CPU spread over the cores.
        serial_ms = sequential["worker_cpu_ms"] + sequential["sandbox_cpu_ms"]
        budget_ms = cores * args.latency_ms / (10 - cores) if cores < 10 else float("inf")
        print(f"bounds: a slot's round is {args.latency_ms} ms + {serial_ms:.1f} ms CPU, so at most "
              f"{args.latency_ms / (args.latency_ms + serial_ms):.2f} of the ceiling at any C; 10x one thread on "
              f"{cores} cores needs at most {budget_ms:.1f} ms CPU per payslip (workers + sandbox)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
