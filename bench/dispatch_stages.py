"""Where a payslip's CPU goes in the worker, stage by stage: issue 19's breakdown per stage, without threads.

Run: .venv/bin/python bench/dispatch_stages.py [--payslips 400] [--rounds 5]
One process and one thread do what a worker's thread does for a send (`tasks.drain`: the start task's usermatch, then
each task of ten rows claimed, built, stored, sent and recorded) against the sandbox in its own process with no
latency, on a SQLite file. Each stage's function is wrapped to add up its CPU time (`time.process_time`: user and
system, this process only; with one thread that is the stage's own). A round is one send of `--payslips` payslips to a
company of its own, made before the clock starts; the first round warms the caches and is not counted. Printed: each
stage's milliseconds per payslip, the median over the rounds, and its share of the whole (the baseline, measured in
the same rounds); "in no stage" is each round's whole less its top stages (Huey's task handling, the session), the
median of those.

The same breakdown in the threaded workers: `bench/dispatch_throughput.py --stages` starts each `flask worker`
through this file (`--worker OUT -- FLASK_ARGS`), which times the stages on each thread's own clock
(`time.thread_time`) and writes the totals so far to OUT every 0.2 s, for the throughput bench to read before and
after its send.
"""
import argparse
import functools
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dispatch_send import calculated_run, make_app, orgnr, personnummer, start_sandbox  # noqa: E402
from kivra.dispatch import batch, engine, journal, routing, tasks  # noqa: E402
from kivra.dispatch import service as dispatch  # noqa: E402
from kivra.extensions import db  # noqa: E402
from kivra.payroll import kivra_payload  # noqa: E402
from kivra.sender_api import content  # noqa: E402
from kivra.sender_api.client import KivraClient  # noqa: E402

# (owner, function, stage): a stage indented under another is part of it on the common path, a batch of routed Kivra
# rows. A row that goes alone (not routed yet, a Min lön row, a payload stored before) spends its PDF, content and
# send under "a task of one row" or its batch's task, outside "claim" and "build and store". Each function is wrapped
# where its callers look it up, so that the wrapper is what they call; a call inside the same stage on the same
# thread (stored_payloads rebuilding around a PDF another worker stored) is counted once.
WEB = "pressing send (the web's part)"  # in this bench's own process only; a worker never presses send
STAGES = [
    (dispatch, "request_send", WEB),
    (routing, "route", "routing (usermatch)"),
    (engine, "process", "a task of one row"),
    (batch, "process_many", "a task of ten rows"),
    (batch, "claim_many", "  claim"),
    (batch, "stored_payloads", "  build and store"),
    (engine, "render_pdf", "    PDF"),
    (engine, "payslip_content", "    content"),
    (kivra_payload, "html_part", "      HTML part"),
    (content, "check_salaryslip", "      salaryslip checked"),
    (content, "check_html", "      HTML part checked"),
    (batch, "_stored_elsewhere", "    PDF and payload stored"),
    (KivraClient, "send_content", "  send (httpx)"),
    (batch, "_record", "  record"),
    (journal, "finished_sends", "    send finished?"),
]
# The stages no other stage holds: the whole less these is what no stage accounts for.
TOP = (WEB, "routing (usermatch)", "a task of one row", "a task of ten rows")


def install(spent: Counter, clock=time.process_time, lock=None) -> None:
    """Wrap each stage's function so that its time on `clock` adds up in `spent`, by stage."""
    lock = lock or threading.Lock()
    inside = threading.local()  # the stages this thread is in now

    def timed(stage: str, function):
        @functools.wraps(function)
        def inner(*args, **kwargs):
            open_stages = inside.__dict__.setdefault("stages", set())
            if stage in open_stages:
                return function(*args, **kwargs)
            open_stages.add(stage)
            start = clock()
            try:
                return function(*args, **kwargs)
            finally:
                took = clock() - start
                open_stages.discard(stage)
                with lock:
                    spent[stage] += took
        return inner

    for owner, name, stage in STAGES:
        setattr(owner, name, timed(stage, getattr(owner, name)))


def worker(out: Path, flask_args: list[str]) -> None:
    """`flask <flask_args>` (a worker) with its stages timed on each thread's clock; the totals so far are written to
    `out` (JSON) every 0.2 s, for the throughput bench to read before and after a send."""
    from flask.cli import main as flask_main

    spent, lock = Counter(), threading.Lock()
    install(spent, time.thread_time, lock)

    def write() -> None:
        while True:
            with lock:
                totals = dict(spent)
            try:
                out.with_suffix(".tmp").write_text(json.dumps(totals | {"written_at": time.time()}))
                out.with_suffix(".tmp").replace(out)
            except OSError as error:  # the bench sees the file go stale and says so
                print(f"stage totals not written: {error}", file=sys.stderr, flush=True)
            time.sleep(0.2)

    threading.Thread(target=write, daemon=True, name="stage-totals").start()
    sys.argv = ["flask", *flask_args]
    flask_main()


def print_row(name: str, ms: float, whole: float) -> None:
    """One line of a breakdown: milliseconds per payslip and the share of the whole."""
    print(f"  {name:40} {ms:6.2f} ms  {ms / whole * 100:3.0f} %", flush=True)


def read_totals(path: Path) -> dict[str, float]:
    """A worker's totals so far, written within the last second (else its writer has stopped: an error)."""
    try:
        totals = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise RuntimeError(f"the worker's stage totals cannot be read: {error}") from None
    if time.time() - totals.pop("written_at") > 1.0:
        raise RuntimeError(f"the worker's stage totals in {path} are stale: its writer stopped")
    return totals


def main() -> int:
    if sys.argv[1:2] == ["--worker"]:
        if len(sys.argv) < 5 or sys.argv[3] != "--":
            sys.exit("usage: dispatch_stages.py --worker OUT -- FLASK_ARGS...")
        worker(Path(sys.argv[2]), sys.argv[4:])
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--payslips", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.payslips < 10 or args.rounds < 1:
        parser.error("--payslips is at least 10 (a task's rows) and --rounds at least 1")
    spent: Counter = Counter()
    install(spent)

    rounds: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-stages-") as workdir:
        sandbox, url = start_sandbox(Path(workdir) / "sandbox.log", 0)
        try:
            app = make_app(f"sqlite:///{Path(workdir) / 'payroll.db'}", url)
            logging.getLogger("kivra").setLevel(logging.WARNING)  # not a "send finished" line per round
            with app.app_context(), app.test_request_context():
                load_before = os.getloadavg()
                for n in range(args.rounds + 1):
                    run, admin = calculated_run(f"Bygg {n} AB", orgnr(n + 1),
                                                personnummer(args.payslips, n * args.payslips), url)
                    db.session.commit()
                    spent.clear()
                    start = time.process_time()
                    dispatch.request_send(run, admin)
                    tasks.drain()
                    whole = time.process_time() - start
                    db.session.remove()
                    if n:  # the first round warms the caches (fonts, schema, templates, the token)
                        outside = whole - sum(spent[stage] for stage in TOP)
                        rounds.append({"whole": whole, "in no stage": outside} | dict(spent))
                load_after = os.getloadavg()
        finally:
            sandbox.stop()

    def per_payslip(stage: str) -> float:
        return statistics.median(each.get(stage, 0.0) for each in rounds) / args.payslips * 1000

    whole = per_payslip("whole")
    print(f"{args.payslips} payslips x {args.rounds} rounds, one thread, sandbox without latency; CPU per payslip "
          "(median round) and share of the whole:")
    print_row("the whole send", whole, whole)
    for _, _, stage in STAGES:
        ms = per_payslip(stage)
        print_row(stage, ms, whole)
    outside = per_payslip("in no stage")  # each round's own remainder, then the median
    print_row("in no stage", outside, whole)
    print("load average (1, 5, 15 min): before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
        *load_before, *load_after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
