"""Where a payslip's CPU goes in the worker, stage by stage: issue 19's breakdown per stage, without threads.

Run: .venv/bin/python bench/dispatch_stages.py [--payslips 400] [--rounds 5]
One process and one thread do what a worker's thread does for a send (`tasks.drain`: the start task's usermatch, then
each task of ten rows claimed, built, stored, sent and recorded) against the sandbox in its own process with no
latency, on a SQLite file. Each stage's function is wrapped to add up its CPU time (`time.process_time`: user and
system, this process only; with one thread that is the stage's own). A round is one send of `--payslips` payslips to a
company of its own, made before the clock starts; the first round warms the caches and is not counted. Printed: each
stage's milliseconds per payslip, the median over the rounds, and its share of the whole (the baseline, measured in
the same rounds); "in no stage" is the whole less the top stages (Huey's task handling, the session, the loop).

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

# (owner, function, stage): a stage indented under another is part of it. Each is looked up where its caller looks
# it up, so that the wrapper is what the caller calls.
STAGES = [
    (dispatch, "request_send", "pressing send (the web's part)"),
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
TOP = ("pressing send (the web's part)", "routing (usermatch)", "a task of one row", "a task of ten rows")


def install(spent: Counter, clock=time.process_time, lock=None) -> None:
    """Wrap each stage's function so that its time on `clock` adds up in `spent`, by stage."""
    lock = lock or threading.Lock()

    def timed(stage: str, function):
        @functools.wraps(function)
        def inner(*args, **kwargs):
            start = clock()
            try:
                return function(*args, **kwargs)
            finally:
                took = clock() - start
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
            out.with_suffix(".tmp").write_text(json.dumps(totals))
            out.with_suffix(".tmp").replace(out)
            time.sleep(0.2)

    threading.Thread(target=write, daemon=True, name="stage-totals").start()
    sys.argv = ["flask", *flask_args]
    flask_main()


def read_totals(path: Path) -> dict[str, float]:
    return json.loads(path.read_text()) if path.exists() else {}


def main() -> int:
    if sys.argv[1:2] == ["--worker"]:  # --worker OUT -- FLASK_ARGS...
        worker(Path(sys.argv[2]), sys.argv[4:])
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--payslips", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
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
                        rounds.append({"whole": whole} | dict(spent))
                load_after = os.getloadavg()
        finally:
            sandbox.stop()

    def per_payslip(stage: str) -> float:
        return statistics.median(each.get(stage, 0.0) for each in rounds) / args.payslips * 1000

    whole = per_payslip("whole")
    print(f"{args.payslips} payslips x {args.rounds} rounds, one thread, sandbox without latency; CPU per payslip "
          "(median round) and share of the whole:")
    print(f"  {'the whole send':40} {whole:6.2f} ms  100 %")
    for _, _, stage in STAGES:
        ms = per_payslip(stage)
        print(f"  {stage:40} {ms:6.2f} ms  {ms / whole * 100:3.0f} %")
    outside = whole - sum(per_payslip(stage) for stage in TOP)
    print(f"  {'in no stage':40} {outside:6.2f} ms  {outside / whole * 100:3.0f} %")
    print("load average (1, 5, 15 min): before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
        *load_before, *load_after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
