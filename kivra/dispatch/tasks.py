"""The dispatch engine's tasks on Huey: SQLite by default (no server), Redis with many worker processes in production.

The database is the truth, the queue only a doorbell: a task carries a row id, the row says whether there is anything
to do. A task lost with a killed worker, or run twice, costs nothing — the sweep (maintenance.py) rings again for
every row that is due.
"""
import logging

from sqlalchemy import select

from kivra.accounts.models import utcnow
from kivra.clock import as_utc
from kivra.dispatch import batch, engine, journal, outages, routing
from kivra.dispatch.models import Dispatch, PayslipSend, SendState
from kivra.dispatch.queue import huey, in_app, on_outage
from kivra.extensions import db
from kivra.sender_api.app import kivra_client
from kivra.sender_api.errors import KivraError

log = logging.getLogger(__name__)
FAIR_SHARE = 10  # rows of one send per priority step: a small company's send overtakes a big one's tail
BATCH = FAIR_SHARE  # rows per task (kivra/dispatch/batch.py): one priority step of one send at most


def _priority(position: int) -> int:
    return -(position // FAIR_SHARE)


@huey.task(name="dispatch.send_one", retries=outages.OUTAGE_RETRIES, context=True)
@on_outage
@in_app
def send_one(dispatch_id: int) -> None:
    """One row: a retry after its backoff (and any ring queued by a version that rang row by row)."""
    _retry_later([(dispatch_id, engine.process(dispatch_id, kivra_client()))])


@huey.task(name="dispatch.send_rows", retries=outages.OUTAGE_RETRIES, context=True)
@on_outage
@in_app
def send_rows(dispatch_ids: list[int]) -> None:
    """A handful of rows, claimed, built, sent and recorded together (kivra/dispatch/batch.py)."""
    _retry_later(batch.process_many(dispatch_ids, kivra_client()))


def _retry_later(attempts: list[tuple[int, engine.Attempt]]) -> None:
    """Ring again for each row whose attempt should be retried: after its backoff, or now (handed back)."""
    for dispatch_id, result in attempts:
        if result.retry_in is None:
            continue
        position = db.session.scalar(select(Dispatch.position).where(Dispatch.id == dispatch_id)) or 0
        db.session.commit()
        if result.retry_in > 0:
            send_one.schedule((dispatch_id,), delay=result.retry_in, priority=_priority(position))
        else:
            huey.enqueue(send_one.s(dispatch_id, priority=_priority(position)))


@huey.task(name="dispatch.start_send", retries=outages.OUTAGE_RETRIES, context=True)
@on_outage
@in_app
def start_send(send_id: int) -> None:
    """Route the send with one usermatch, publish its Min lön rows, and ring for each Kivra row."""
    send = db.session.get(PayslipSend, send_id)
    if send is None or send.state != SendState.QUEUED:
        return
    try:
        routing.route(send_id, kivra_client())
    except Exception as error:  # noqa: BLE001 - Kivra unreachable or its answer unreadable: each row routes itself
        log.warning("send %d: usermatch failed (%s); rows will be routed as they are sent", send_id,
                    error if isinstance(error, KivraError) else type(error).__name__)
        db.session.rollback()
    journal.send_started(send_id, send.company_id)
    engine.publish_due_min_lon(send_id)
    enqueue(engine.due_rows(send_id))


def enqueue(rows: list[tuple[int, int]]) -> None:
    """Ring for these (id, position) rows, interleaved with other sends by priority: one task for each run of at
    most BATCH rows in a row with the same priority."""
    chunk: list[int] = []
    for n, (dispatch_id, position) in enumerate(rows):
        chunk.append(dispatch_id)
        following = rows[n + 1] if n + 1 < len(rows) else None
        if len(chunk) == BATCH or following is None or _priority(following[1]) != _priority(position):
            huey.enqueue(send_rows.s(chunk, priority=_priority(position)))
            chunk = []


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
