"""Dispatch memory: how much a `flask worker` process's peak resident memory grows while it sends a big run.

Run: .venv/bin/python bench/dispatch_memory.py [--payslips 20000] [--threads 4] [--limit-mb 100]
Starts the sandbox (no latency) and one worker (`flask --app app worker --threads N`) on their own SQLite database and
queue in a temporary directory; the worker first sends a warm-up run of `--warm-up` payslips, and its peak RSS then
(VmHWM in /proc/<pid>/status) is the baseline. It then sends `--payslips` payslips (fresh PDFs, payloads stored) and
prints the peak RSS at the end, the growth over the baseline and its ratio to the limit (goal: growth < limit),
with the RSS along the way so a steady climb (a leak) shows apart from a one-off step.
"""
import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dispatch_send import (  # noqa: E402
    calculated_run, make_app, memory_kb, orgnr, outcomes, personnummer, start_sandbox, start_worker, unfinished,
    web_queue,
)
from kivra.dispatch import service as dispatch  # noqa: E402
from kivra.extensions import db  # noqa: E402


def send_and_follow(run, admin, queue, worker, timeout: float, marks: int = 10) -> tuple[int, float, list]:
    """Send, then sample the worker's RSS until every row is final. Returns the send id, seconds, and
    (share done, VmRSS MB, VmHWM MB) at each tenth of the run."""
    start = time.perf_counter()
    with web_queue(queue):
        send_id = dispatch.request_send(run, admin).id
    total = len(run.payslips)
    samples, next_mark = [], 1
    while left := unfinished(send_id):
        if not worker.alive:
            raise RuntimeError(f"the worker died:\n{worker.tail()}")
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"send {send_id} not final after {timeout:.0f} s: {outcomes(send_id)}")
        if (total - left) >= next_mark * total / marks:
            memory = memory_kb(worker.pid)
            samples.append(((total - left) / total, memory["VmRSS"] / 1024, memory["VmHWM"] / 1024))
            next_mark = int((total - left) * marks / total) + 1
        time.sleep(0.2)
    return send_id, time.perf_counter() - start, samples


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payslips", type=int, default=20_000)
    parser.add_argument("--warm-up", type=int, default=20)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--limit-mb", type=float, default=100)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    queue, database_url = workdir / "queue.db", f"sqlite:///{workdir / 'payroll.db'}"
    sandbox, url = start_sandbox(workdir / "sandbox.log", latency_ms=0)
    worker = None
    try:
        app = make_app(database_url, url)
        with app.app_context(), app.test_request_context():
            start = time.perf_counter()
            warm_up = calculated_run("Uppvärmning AB", orgnr(10), personnummer(args.warm_up, 90_000), url)
            big = calculated_run("Stor Lön AB", orgnr(4), personnummer(args.payslips), url)
            db.session.rollback()
            print(f"setup: {args.payslips} payslips calculated in {time.perf_counter() - start:.1f} s", flush=True)

            worker = start_worker(args.threads, database_url, queue, url, workdir / "worker.log")
            send_and_follow(*warm_up, queue, worker, args.timeout)
            started = memory_kb(worker.pid)
            print(f"after the warm-up send of {args.warm_up}: VmHWM {started['VmHWM'] / 1024:.1f} MB, "
                  f"VmRSS {started['VmRSS'] / 1024:.1f} MB", flush=True)
            send_id, seconds, samples = send_and_follow(*big, queue, worker, args.timeout)
            ended = memory_kb(worker.pid)
            counts = outcomes(send_id)
    finally:
        if worker is not None:
            worker.stop()
        sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"sent {args.payslips} payslips in {seconds:.0f} s ({args.payslips / seconds:.1f}/s) with {args.threads} "
          f"threads; outcomes {counts}")
    for share, rss, hwm in samples:
        print(f"  {share:4.0%} done: VmRSS {rss:7.1f} MB, VmHWM {hwm:7.1f} MB")
    growth = (ended["VmHWM"] - started["VmHWM"]) / 1024
    print(f"peak RSS (VmHWM): {started['VmHWM'] / 1024:.1f} MB after the warm-up -> {ended['VmHWM'] / 1024:.1f} MB "
          f"at the end (x{ended['VmHWM'] / started['VmHWM']:.2f}); VmRSS at the end {ended['VmRSS'] / 1024:.1f} MB")
    print(f"growth: {growth:.1f} MB = {growth / args.limit_mb:.2f} of the {args.limit_mb:.0f} MB limit "
          f"(goal < 1.00)")
    delivered = counts == {"delivered": args.payslips}
    return 0 if growth < args.limit_mb and delivered else 1


if __name__ == "__main__":
    sys.exit(main())
