"""The dispatch engine's tasks on Huey: SQLite by default (no server), Redis with many worker processes in production.

The database is the truth, the queue only a doorbell: a task carries a row id, the row says whether there is anything
to do. A task lost with a killed worker, or run twice, costs nothing — `sweep` rings again for every row that is due.
"""
import logging
import threading
from datetime import datetime, timezone
from functools import wraps

from flask import Flask
from huey import Huey
from sqlalchemy import select

from kivra.accounts.models import utcnow
from kivra.dispatch import engine, journal, leases, outages
from kivra.dispatch.app_queue import AppStorage, app as _app, bind_app, queue_storage, unbind_app  # noqa: F401
from kivra.dispatch.models import Dispatch, PayslipSend
from kivra.dispatch.queue_memory import QueueMemory
from kivra.extensions import db
from kivra.payroll.service import as_utc
from kivra.sender_api.app import kivra_client
from kivra.sender_api.errors import KivraError

log = logging.getLogger(__name__)
NEVER = datetime.min.replace(tzinfo=timezone.utc)
FAIR_SHARE = 10  # rows of one send per priority step: a small company's send overtakes a big one's tail


# One Huey for the process, its tasks declared on it at import; each call reaches the queue the app in hand's config
# names (kivra.dispatch.app_queue), so nothing here reads the environment or opens a queue at import.
huey = Huey("kivra-payroll", results=False, utc=True, storage_class=AppStorage)


def in_app(fn):
    """Each task in its own app context, so its own database session, closed afterwards."""
    @wraps(fn)
    def inner(*args, **kwargs):
        with _app().app_context():
            try:
                return fn(*args, **kwargs)
            finally:
                db.session.remove()
    return inner


def _priority(position: int) -> int:
    return -(position // FAIR_SHARE)


_queue = QueueMemory()
# A task that meets a database or Redis outage runs again after a pause, rather than waiting for the sweep.
on_outage = outages.retry_on_outage(lambda: _app().config["DISPATCH_OUTAGE_RETRY_SECONDS"], _queue.unreachable)


@huey.task(name="dispatch.send_one", retries=outages.OUTAGE_RETRIES, context=True)
@on_outage
@in_app
def send_one(dispatch_id: int) -> None:
    result = engine.process(dispatch_id, kivra_client())
    if result.retry_in is not None:
        position = db.session.scalar(select(Dispatch.position).where(Dispatch.id == dispatch_id)) or 0
        send_one.schedule((dispatch_id,), delay=result.retry_in, priority=_priority(position))


@huey.task(name="dispatch.start_send", retries=outages.OUTAGE_RETRIES, context=True)
@on_outage
@in_app
def start_send(send_id: int) -> None:
    """Route the send with one usermatch, publish its Min lön rows, and ring for each Kivra row."""
    send = db.session.get(PayslipSend, send_id)
    if send is None or send.state != "queued":
        return
    try:
        engine.route(send_id, kivra_client())
    except Exception as error:  # noqa: BLE001 - Kivra unreachable or its answer unreadable: each row routes itself
        log.warning("send %d: usermatch failed (%s); rows will be routed as they are sent", send_id,
                    error if isinstance(error, KivraError) else type(error).__name__)
        db.session.rollback()
    journal.send_started(send_id, send.company_id)
    engine.publish_due_min_lon(send_id)
    enqueue(engine.due_rows(send_id))


def enqueue(rows: list[tuple[int, int]]) -> None:
    """Ring for these (id, position) rows, interleaved with other sends by priority."""
    for dispatch_id, position in rows:
        huey.enqueue(send_one.s(dispatch_id, priority=_priority(position)))


def kick(send: PayslipSend) -> None:
    """After the request's commit: start now, or at the scheduled time. If the queue cannot be reached the rows are
    already written, and the next sweep starts them."""
    try:
        # Read back from the database the time has no zone; Huey would take a naive time as the server's local time.
        scheduled_for = as_utc(send.scheduled_for) if send.scheduled_for is not None else None
        if scheduled_for is not None and scheduled_for > utcnow():
            start_send.schedule((send.id,), eta=scheduled_for)
        else:
            start_send(send.id)
    except Exception:  # noqa: BLE001
        log.exception("send %d could not be queued now; the sweep will start it", send.id)


_rings = leases.Rings()


def sweep() -> int:
    """Ring for rows that should be moving: claims whose worker stopped renewing them, and due rows whose task was
    lost (a killed worker, a Redis that came back empty) or never made (a scheduled send came due); and for Kivra jobs
    whose task was lost. Rows whose worker died on their last attempt are failed. Returns how many rows and sends it
    rang for."""
    now, config = utcnow(), engine.settings()
    leases.fail_exhausted(config.max_attempts, now)
    try:
        queue_lost = _queue.lost(queue_storage())
        busy = not queue_lost and huey.pending_count() > 0
    except Exception as error:
        if outages.is_outage(error):
            _queue.unreachable()  # once it answers again, what it should hold counts as lost
        raise
    if queue_lost:
        # The queue forgot its tasks (or refused them for a while): every due row is rung now, whatever was rung.
        log.warning("the queue is new, lost its tasks or was unreachable: ringing again for every due row")
        _rings.forget()
        lost = routed_lost = now
    else:
        # A routed row due for a lease while the queue is empty has lost its ring. An unrouted one may still be being
        # routed by its start_send (a usermatch can outlast a lease), and in a busy queue a ring may be waiting its
        # turn: those count as lost after `lost_after`.
        lost = now - leases.lost_after(config.lease)
        routed_lost = lost if busy else now - config.lease
    sends = db.session.scalars(
        select(Dispatch.send_id).where(Dispatch.state == "queued", Dispatch.channel == "minlon",
                                       Dispatch.due_at <= routed_lost).distinct()
    ).all()
    for send_id in sends:
        engine.publish_due_min_lon(send_id)
    window = leases.lost_after(config.lease)
    # Unrouted rows are rung through their send's start_send (one usermatch), routed ones each on its own.
    rows = _rings.not_rung_within(leases.expired(now) + leases.waiting(routed_lost, NEVER), window=window)
    starts = _rings.not_rung_within(leases.unrouted_sends(lost), window=window)
    db.session.commit()
    _ring(lambda: enqueue(rows))
    _ring(lambda: [huey.enqueue(start_send.s(send_id)) for send_id, _ in starts])
    from kivra.solutions import jobs as kivra_jobs  # Kivra calls a page asked for, whose task was lost

    _ring(lambda: kivra_jobs.ring_lost(forget=queue_lost))
    return len(rows) + len(starts)


def _ring(ring) -> None:
    try:
        ring()
    except Exception as error:
        _rings.forget()  # nothing it refused counts as rung
        if outages.is_outage(error):
            _queue.unreachable()
        raise


def start_maintenance(app: Flask, sweep_seconds: float, access_check_seconds: float) -> threading.Event:
    """The worker's housekeeping: the sweep every few seconds, and Kivra's access checks now and then — in threads of
    their own, so a slow or silent Kivra never holds up the sweep that recovers a killed worker's payslips."""
    from kivra.solutions import tasks as kivra_tasks

    stop = threading.Event()
    _every(app, stop, sweep_seconds, sweep, "dispatch-sweep")
    _every(app, stop, access_check_seconds, kivra_tasks.check_access, "kivra-access-check")
    return stop


def _every(app: Flask, stop: threading.Event, seconds: float, job, name: str) -> None:
    """Run `job` in an app context now and then every `seconds` until `stop` is set; a failure waits for the next."""
    def loop():
        while True:
            with app.app_context():
                try:
                    job()
                except Exception:  # noqa: BLE001 - try again next round
                    log.exception("%s failed", name)
                    db.session.rollback()
                finally:
                    db.session.remove()
            if stop.wait(seconds):
                return

    threading.Thread(target=loop, name=name, daemon=True).start()


def drain(max_tasks: int = 100_000) -> int:
    """Run every task that is ready now, in this thread (tests and the in-memory queue). Returns how many ran."""
    ran = 0
    while ran < max_tasks:
        task = huey.dequeue()
        if task is None:
            ready = huey.read_schedule(huey._get_timestamp())
            if not ready:
                return ran
            for item in ready:
                huey.enqueue(item)
            continue
        huey.execute(task)
        ran += 1
    return ran
