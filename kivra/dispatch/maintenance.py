"""A worker's housekeeping, in threads of its own: the sweep that rings for every row that should be moving (a killed
worker's claims, tasks the queue lost, scheduled sends come due, lost Kivra calls), Kivra's access checks, and
sending the e-mail outbox."""
import logging
import threading
from datetime import datetime, timezone

from flask import Flask
from sqlalchemy import select

from kivra.accounts.models import utcnow
from kivra.dispatch import access, engine, kivra_jobs, leases, outages, tally
from kivra.dispatch.app_queue import queue_storage
from kivra.dispatch.models import Channel, Dispatch, DispatchState
from kivra.dispatch.queue import _queue, huey
from kivra.dispatch.tasks import enqueue, send_one, send_rows, start_send
from kivra.extensions import db
from kivra.mail import delivery

log = logging.getLogger(__name__)
NEVER = datetime.min.replace(tzinfo=timezone.utc)


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
        select(Dispatch.send_id).where(Dispatch.state == DispatchState.QUEUED, Dispatch.channel == Channel.MINLON,
                                       Dispatch.due_at <= routed_lost).distinct()
    ).all()
    for send_id in sends:
        engine.publish_due_min_lon(send_id)
    window = leases.lost_after(config.lease)
    waiting = leases.waiting(routed_lost, NEVER)
    if busy and waiting:  # a big send's rows wait longer than `lost` for their turn: only a ring not queued is lost
        queued = _rung_in_queue()
        waiting = [row for row in waiting if row[0] not in queued]
    # Unrouted rows are rung through their send's start_send (one usermatch), routed ones each on its own.
    rows = _rings.not_rung_within(leases.expired(now) + waiting, window=window)
    starts = _rings.not_rung_within(leases.unrouted_sends(lost), window=window)
    db.session.commit()
    _ring(lambda: enqueue(rows))
    _ring(lambda: [huey.enqueue(start_send.s(send_id)) for send_id, _ in starts])
    _ring(lambda: kivra_jobs.ring_lost(forget=queue_lost))  # Kivra calls a page asked for, whose task was lost
    return len(rows) + len(starts)


def _rung_in_queue() -> set[int]:
    """The rows a task waiting in the queue rings for. Every worker's sweep used to ring again for each row of a big
    send still waiting its turn after `lost_after` (a 20 000-payslip send's queue doubled at 45 s, and again 45 s
    later); a row whose task was taken and lost with its worker is not in the queue, and is rung as before."""
    rung: set[int] = set()
    for task in huey.pending():
        if task.name == send_rows.name:
            rung.update(task.args[0])
        elif task.name == send_one.name:
            rung.add(task.args[0])
    return rung


def _ring(ring) -> None:
    try:
        ring()
    except Exception as error:
        _rings.forget()  # nothing it refused counts as rung
        if outages.is_outage(error):
            _queue.unreachable()
        raise


def compact_tally() -> int:
    """Fold the dispatch tally's fresh deltas (kivra/dispatch/tally.py), so a month's figures stay a few rows."""
    keys = tally.compact()
    db.session.commit()
    return keys


def start_maintenance(app: Flask, sweep_seconds: float, access_check_seconds: float) -> threading.Event:
    """The worker's housekeeping: the sweep every few seconds, and Kivra's access checks now and then — in threads of
    their own, so a slow or silent Kivra never holds up the sweep that recovers a killed worker's payslips."""
    stop = threading.Event()
    _every(app, stop, sweep_seconds, sweep, "dispatch-sweep")
    _every(app, stop, sweep_seconds, compact_tally, "dispatch-tally")
    _every(app, stop, access_check_seconds, access.check_access, "kivra-access-check")
    # The outbox, sent through SMTP (kivra/mail/delivery.py): a thread of its own, so a slow mail server holds up
    # neither the sweep nor a payslip.
    if app.config["SMTP_URL"] and not app.config["MAIL_DISABLED"]:
        _every(app, stop, app.config["MAIL_POLL_SECONDS"], delivery.drain, "mail-drain")
    elif not app.config["MAIL_DISABLED"]:
        log.warning("SMTP_URL is not set: e-mail stays in the outbox until a worker with SMTP_URL sends it")
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
