"""Claims that last as long as their worker, and rows whose worker or task was lost.

A claim's lease is short (DISPATCH_LEASE_SECONDS, 15 s by default): each worker process has a heartbeat thread that
renews the leases of the rows it is sending every third of a lease, so a slow Kivra call keeps its claim while the
process lives, and the rows of a process that died are taken over a lease after its last beat. The sweep
(`maintenance.sweep`) rings for those rows, and for due rows that have waited `lost_after` with nobody taking them (their
task was lost with a killed worker); it remembers what it rang, so a row waiting its turn in a busy queue gets one
ring per `lost_after` from each worker process, not one per sweep.
"""
import logging
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import and_, or_, select, update

from kivra.accounts.models import utcnow
from kivra.dispatch import journal, locks
from kivra.dispatch.models import Channel, Dispatch, DispatchState, PayslipSend, SendState
from kivra.extensions import db

log = logging.getLogger(__name__)
BEATS_PER_LEASE = 3  # two missed beats (a stalled database, a busy CPU) still keep the claim
# A claim held this many leases is an attempt that hangs (Kivra calls have timeouts, so nothing should): its lease is
# left to run out, and another worker takes the row over with the same stored bytes.
HOLD_LIMIT_LEASES = 40


def heartbeat_seconds(lease_seconds: float) -> float:
    return lease_seconds / BEATS_PER_LEASE


def lost_after(lease: timedelta) -> timedelta:
    """How long a due row may wait in a busy queue before the sweep takes its task for lost and rings again: with the
    shipped lease (15 s) and sweep (5 s), a lost ring is found within a minute however long the queue."""
    return max(3 * lease, timedelta(seconds=30))


class _Held:
    """The claims this process is working on: row id -> (claim token, when it was claimed, monotonic)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._claims: dict[int, tuple[str, float]] = {}

    def add(self, dispatch_id: int, token: str) -> None:
        with self._lock:
            self._claims[dispatch_id] = (token, time.monotonic())

    def discard(self, dispatch_id: int, token: str) -> None:
        with self._lock:
            if self._claims.get(dispatch_id, ("",))[0] == token:
                del self._claims[dispatch_id]

    def tokens(self, held_since: float) -> list[str]:
        with self._lock:
            return [token for token, since in self._claims.values() if since >= held_since]

    def claims(self) -> list[tuple[int, str]]:
        with self._lock:
            return [(dispatch_id, token) for dispatch_id, (token, _) in self._claims.items()]


_held = _Held()


@contextmanager
def holding(dispatch_id: int, token: str):
    """While the block runs, this process's heartbeat renews the claim."""
    _held.add(dispatch_id, token)
    try:
        yield
    finally:
        _held.discard(dispatch_id, token)


def renew(lease: timedelta, now: datetime | None = None) -> int:
    """Extend the leases of the claims this process holds; returns how many rows were renewed."""
    tokens = _held.tokens(held_since=time.monotonic() - HOLD_LIMIT_LEASES * lease.total_seconds())
    if not tokens:
        return 0
    ids = locks.lock_dispatches(Dispatch.state == DispatchState.SENDING, Dispatch.claimed_by.in_(tokens))
    renewed = db.session.execute(
        update(Dispatch.__table__).where(Dispatch.id.in_(ids), Dispatch.state == DispatchState.SENDING,
                                         Dispatch.claimed_by.in_(tokens))
        .values(lease_until=(now or utcnow()) + lease)
    ).rowcount
    db.session.commit()
    return renewed


def release_held(now: datetime | None = None) -> list[tuple[int, int]]:
    """A stopping worker hands back the claims it still holds: each row is queued and due now, its claim cleared and
    the attempt not counted, its stored payload kept (the next attempt sends the same bytes, so a copy Kivra got
    meanwhile is a duplicate it ignores). Returns the (id, position) of the rows released, to ring for them; a claim
    another worker took over meanwhile is left alone."""
    released = release(sorted(_held.claims()), now)
    db.session.commit()
    return released


def release(claims, now: datetime | None = None) -> list[tuple[int, int]]:
    """Hand back these claims — (id, token) pairs, or objects with both — in the caller's transaction, as
    `release_held` does; returns the (id, position) of the rows that were still ours."""
    now, released = now or utcnow(), []
    for claim in claims:
        dispatch_id, token = (claim.id, claim.token) if hasattr(claim, "token") else claim
        position = db.session.execute(
            update(Dispatch.__table__)
            .where(Dispatch.id == dispatch_id, Dispatch.state == DispatchState.SENDING, Dispatch.claimed_by == token)
            .values(state=DispatchState.QUEUED, claimed_by=None, lease_until=None, due_at=now,
                    attempts=Dispatch.attempts - 1)
            .returning(Dispatch.position)
        ).scalar()
        if position is not None:
            released.append((dispatch_id, position))
    return released


def start_heartbeat(app: Flask, lease_seconds: float) -> threading.Event:
    """The worker process's heartbeat thread; set the returned event to stop it."""
    stop, lease = threading.Event(), timedelta(seconds=lease_seconds)

    def beat():
        while not stop.wait(heartbeat_seconds(lease_seconds)):
            with app.app_context():
                try:
                    renew(lease)
                except Exception:  # noqa: BLE001 - beat again; a lease lost meanwhile is taken over, never sent twice
                    log.exception("renewing this worker's claims failed")
                    db.session.rollback()
                finally:
                    db.session.remove()

    threading.Thread(target=beat, name="dispatch-heartbeat", daemon=True).start()
    return stop


# --- what the sweep finds ----------------------------------------------------------------------------------------


def fail_exhausted(max_attempts: int, now: datetime) -> int:
    """Rows whose worker died during their last attempt are failed (a technical error on our side), not sent on
    forever. "Resend failed" sends their stored bytes again; Kivra's duplicate control keeps one copy."""
    exhausted = (Dispatch.state == DispatchState.SENDING, Dispatch.lease_until < now,
                 Dispatch.attempts >= max_attempts)
    sends = db.session.scalars(select(Dispatch.send_id).where(*exhausted).distinct()).all()
    if not sends:
        db.session.rollback()
        return 0
    locks.lock_sends(sends)  # sends, then their rows (kivra/dispatch/locks.py)
    failed = db.session.execute(
        update(Dispatch.__table__).where(Dispatch.id.in_(locks.lock_dispatches(*exhausted)), *exhausted)
        .values(state=DispatchState.FAILED, reason="internal_error", error_code=None, correlation_id=None,
                lease_until=None, finished_at=now, dispatched_at=now)
        .returning(Dispatch.id, Dispatch.send_id, Dispatch.company_id, Dispatch.attempts)
    ).all()
    finished = journal.finished_sends(row.send_id for row in failed)  # the end of a send, logged once
    db.session.commit()
    if failed:
        log.warning("%d dispatch rows failed: their worker stopped during their last attempt", len(failed))
    for row in failed:
        journal.retries_exhausted(row.id, row.send_id, row.company_id, row.attempts, "internal_error")
    journal.log_finished(finished)
    return len(failed)


def expired(now: datetime) -> list[tuple[int, int, str]]:
    """(id, position, claim token) of rows whose worker stopped renewing its claim."""
    return [tuple(row) for row in db.session.execute(
        select(Dispatch.id, Dispatch.position, Dispatch.claimed_by)
        .where(Dispatch.state == DispatchState.SENDING, Dispatch.lease_until < now)
    )]


def waiting(routed_before: datetime, unrouted_before: datetime) -> list[tuple[int, int, datetime]]:
    """(id, position, due time) of queued rows due since before `routed_before` (routed ones) or `unrouted_before`
    (the rest), in the order they should go."""
    return [tuple(row) for row in db.session.execute(
        select(Dispatch.id, Dispatch.position, Dispatch.due_at)
        .where(Dispatch.state == DispatchState.QUEUED, Dispatch.due_at <= max(routed_before, unrouted_before),
               or_(Dispatch.due_at <= unrouted_before, and_(Dispatch.routed.is_(True), Dispatch.due_at <= routed_before)))
        .order_by(Dispatch.position, Dispatch.id)
    )]


def unrouted_sends(before: datetime) -> list[tuple[int, int, str]]:
    """(send id, 0, "start") of sends with queued Kivra rows, due since before `before`, that no usermatch routed:
    their start_send was lost (or its usermatch failed and their own rings were lost). One start_send routes them
    all with one usermatch, rather than each row routing itself at once."""
    return [(send_id, 0, "start") for send_id in db.session.scalars(
        select(Dispatch.send_id).join(PayslipSend, PayslipSend.id == Dispatch.send_id)
        .where(Dispatch.state == DispatchState.QUEUED, Dispatch.channel == Channel.KIVRA, Dispatch.routed.is_(False),
               Dispatch.due_at <= before, PayslipSend.state == SendState.QUEUED)
        .distinct().order_by(Dispatch.send_id)
    )]


class Rings:
    """What this process's sweep rang for lately, so it rings at most once per `window` for a row in one condition
    (a claim that ran out, named by its token; a due time that passed): a new claim or a retry is a new condition."""

    def __init__(self):
        self._lock = threading.Lock()
        self._rung: dict[tuple, float] = {}

    def not_rung_within(self, rows: list[tuple[int, int, object]], window: timedelta) -> list[tuple[int, int]]:
        """(id, position) of the rows not rung for within `window`; they count as rung from now."""
        now = time.monotonic()
        with self._lock:
            cutoff = now - window.total_seconds()
            self._rung = {mark: at for mark, at in self._rung.items() if at > cutoff}
            fresh = [row for row in rows if (row[0], row[2]) not in self._rung]
            self._rung.update(((dispatch_id, condition), now) for dispatch_id, _, condition in fresh)
        return list(dict.fromkeys((dispatch_id, position) for dispatch_id, position, _ in fresh))

    def forget(self) -> None:
        """The rings were lost (the queue forgot them, or refused them): ring again for whatever is due."""
        with self._lock:
            self._rung.clear()
