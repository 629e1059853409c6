"""`flask worker`: Huey's consumer running the dispatch tasks, plus the housekeeping thread (sweep, access checks).

Run one per machine or several; on Redis (REDIS_URL) any number of processes share the queue, and the database's
conditional updates keep every row single whichever process claims it.

SIGTERM (what systemd and most supervisors send) and SIGINT stop it the same way: no new task is taken (one a
thread had just taken is put back), the sends in hand get WORKER_STOP_GRACE_SECONDS to finish, and the claims still
held then are handed back and rung for, so another worker carries on at once rather than after a lease.
"""
import logging
import threading
import time

from flask import Flask
from huey.exceptions import CancelExecution

from kivra.config import log_effective
from kivra.dispatch import (app_queue, batch, doorbell, heartbeat, kivra_jobs as jobs, leases, maintenance, slots,
                            tasks)
from kivra.extensions import db
from kivra.payroll import pdf
from kivra.sender_api import content

log = logging.getLogger(__name__)


def run_worker(app: Flask, threads: int) -> None:
    log_effective(app.config, "worker", threads=threads)
    _warm_up(app)
    app_queue.bind_app(app)
    grace = app.config["WORKER_STOP_GRACE_SECONDS"]
    alive = heartbeat.start(app, app.config["WORKER_HEARTBEAT_SECONDS"])
    stop = maintenance.start_maintenance(
        app, app.config["DISPATCH_SWEEP_SECONDS"], app.config["KIVRA_ACCESS_CHECK_SECONDS"]
    )
    renewing = leases.start_heartbeat(app, app.config["DISPATCH_LEASE_SECONDS"])
    # `threads` payslips go to Kivra at once (slots.py); two more threads build the next batches' payloads
    # meanwhile, so a slot is not left empty while its thread draws PDFs. Huey's graceful signal becomes SIGTERM,
    # joined for at most the grace; its other one (SIGINT here) stops without waiting, and the wait below gives it
    # the same grace.
    slots.limit(threads)
    consumer = doorbell.WakingConsumer(
        tasks.huey, workers=consumer_threads(threads), worker_type="thread", periodic=False, initial_delay=0.05,
        backoff=1.5, max_delay=0.5, scheduler_interval=1, check_worker_health=True, graceful_signal="TERM",
        shutdown_timeout=grace,
    )
    stopping_since = _watch(consumer.stop_flag)
    tasks.huey.pre_execute(name="put-back-when-stopping")(_put_back_when(consumer.stop_flag))
    try:
        consumer.run()
    finally:
        _wait_for_sends_in_hand(consumer, stopping_since, grace)
        with app.app_context():
            _hand_back_claims()
        stop.set()
        renewing.set()
        alive.stop()


def consumer_threads(sends: int) -> int:
    """The consumer's threads for `sends` payslips in flight: two more, which build payloads while the others wait
    for Kivra. Building is about a tenth of a payslip's time at 50 ms a call; where the cores are the limit (32 sends
    in a process on 2 cores) more threads only shared them out further: a quarter more (8) sent 148.5 and 155.9
    payslips/s where two more sent 173.4 and 194.0 (docs/benchmarks.md, "Dispatch throughput")."""
    return sends + 2


def _warm_up(app: Flask) -> None:
    """What every payslip uses, made once before the first: the salary slip schema compiled and the PDF's faces
    parsed and subset (0.3 s of CPU the first send would pay otherwise, in each worker process, more under threads).
    If that fails, the worker still starts: its sweeps, Min lön and e-mail go on, and each payslip meets the same
    error on its own attempt, where it is recorded."""
    try:
        with app.app_context():
            content.warm_up()
            pdf.warm_up()
    except Exception:  # noqa: BLE001
        log.exception("warming up the payslip's schema and fonts failed; the worker starts without")


def _watch(stop_flag: threading.Event) -> list[float]:
    """When the consumer began to stop (whichever signal): the grace counts from then, and a task's batch of rows
    sends no further row from then (kivra/dispatch/batch.py)."""
    since: list[float] = []
    batch.stopping.clear()

    def watch():
        stop_flag.wait()
        since.append(time.monotonic())
        batch.stopping.set()
        doorbell.doorbell.ring()  # idle threads see the stop now, not at their next poll

    threading.Thread(target=watch, name="stop-watch", daemon=True).start()
    return since


def _put_back_when(stop_flag: threading.Event):
    """A task a worker thread took just as the stop began is put back for another worker, not started."""
    def put_back(task):
        if stop_flag.is_set():
            try:
                tasks.huey.enqueue(task)
            except Exception:  # noqa: BLE001 - the queue is away: the sweep of another worker rings for its row
                log.warning("a task taken while stopping could not be put back; the sweep rings for its row")
            raise CancelExecution(retry=False)
    return put_back


def _wait_for_sends_in_hand(consumer, stopping_since: list[float], grace: float) -> None:
    began = stopping_since[0] if stopping_since else time.monotonic()
    try:
        for _, thread in consumer.worker_threads:
            thread.join(max(0.0, began + grace - time.monotonic()))
    except KeyboardInterrupt:  # asked again to stop: hand back at once
        pass


def _hand_back_claims() -> None:
    """The claims (and Kivra jobs) still in hand after the grace go back to the queue, rung for at once."""
    try:
        rows, job_ids = leases.release_held(), jobs.release_in_hand()
    except Exception:  # noqa: BLE001 - the database is away: the claims run out after their lease instead
        log.exception("handing back this worker's claims failed; their leases run out instead")
        db.session.rollback()
        return
    finally:
        db.session.remove()
    if rows or job_ids:
        log.warning("stopping: %d dispatch rows and %d Kivra jobs handed back unfinished", len(rows), len(job_ids))
    try:
        tasks.enqueue(rows)
        for job_id in job_ids:
            jobs.ring(job_id)
    except Exception:  # noqa: BLE001 - the queue is away: the sweep rings for them once it is back
        log.warning("ringing for the rows handed back failed; the sweep rings for them")
