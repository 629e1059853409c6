"""Which dispatch workers are alive: each `flask worker` process writes a heartbeat row every few seconds, so the web
can tell a user their payslips are stuck, and a supervisor or load balancer can ask whether sending works at all."""
import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import String, delete, func, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from kivra.accounts.models import utcnow
from kivra.clock import as_utc
from kivra.dispatch.models import Dispatch, DispatchState
from kivra.extensions import db

log = logging.getLogger(__name__)
KEEP = timedelta(days=1)  # a worker not seen for this long is forgotten (it was killed and never said goodbye)


class WorkerHeartbeat(db.Model):
    """One row per running `flask worker` process; its own housekeeping renews `seen_at`, a clean exit deletes it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), index=True)  # host:pid, what the logs and journal call it
    host: Mapped[str] = mapped_column(String(100))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def this_process() -> tuple[str, str, int]:
    host, pid = socket.gethostname()[:100], os.getpid()
    return f"{host}:{pid}", host, pid


def beat(row_id: int | None = None) -> int:
    """Say this process is alive now; returns its row id (a pruned or missing row is written again)."""
    now = utcnow()
    if row_id is not None and db.session.execute(
        update(WorkerHeartbeat).where(WorkerHeartbeat.id == row_id).values(seen_at=now)
    ).rowcount:
        db.session.commit()
        return row_id
    name, host, pid = this_process()
    # A row of the same host and pid belongs to a process that is gone: the pid is ours now.
    db.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.name == name))
    row = WorkerHeartbeat(name=name, host=host, pid=pid, started_at=now, seen_at=now)
    db.session.add(row)
    db.session.commit()
    return row.id


def prune(now: datetime | None = None) -> int:
    """Forget workers not seen for a day; returns how many."""
    gone = db.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.seen_at < (now or utcnow()) - KEEP))
    db.session.commit()
    return gone.rowcount


def goodbye(row_id: int) -> None:
    db.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.id == row_id))
    db.session.commit()


def start(app: Flask, every_seconds: float) -> "Heartbeat":
    """The worker's heartbeat thread: a beat now and every `every_seconds`, until stopped."""
    heartbeat = Heartbeat(app, every_seconds)
    heartbeat.thread.start()
    heartbeat.first.wait(10)  # the worker is listed before it takes its first task
    return heartbeat


class Heartbeat:
    def __init__(self, app: Flask, every_seconds: float):
        self.app, self.every = app, every_seconds
        self.stopping, self.first = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._loop, name="worker-heartbeat", daemon=True)

    def _loop(self) -> None:
        row_id = None
        while not self.stopping.is_set():
            with self.app.app_context():
                try:
                    row_id = beat(row_id)
                    prune()
                except Exception:  # noqa: BLE001 - the database is away; the next beat tries again
                    log.exception("worker heartbeat failed")
                    db.session.rollback()
                finally:
                    db.session.remove()
            self.first.set()
            self.stopping.wait(self.every)
        if row_id is not None:  # a clean exit: the worker is gone, not silent
            with self.app.app_context():
                _quietly(goodbye, row_id)
                db.session.remove()

    def stop(self, timeout: float = 5) -> None:
        self.stopping.set()
        self.thread.join(timeout)


def _quietly(fn, *args) -> None:
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - a stale row is pruned later
        db.session.rollback()


# --- what the web reads ------------------------------------------------------------------------------------------


def last_seen() -> datetime | None:
    seen = db.session.scalar(select(func.max(WorkerHeartbeat.seen_at)))
    return as_utc(seen) if seen is not None else None


def silent(stale_after: timedelta, now: datetime | None = None) -> bool:
    """No worker has been seen for `stale_after` (or ever)."""
    seen = last_seen()
    return seen is None or seen < (now or utcnow()) - stale_after


def waiting_now(now: datetime | None = None):
    """Rows a worker should be moving now: queued and due, or sending (claimed)."""
    now = now or utcnow()
    return or_(
        (Dispatch.state == DispatchState.QUEUED) & or_(Dispatch.due_at.is_(None), Dispatch.due_at <= now),
        Dispatch.state == DispatchState.SENDING,
    )


def send_stalled(send_id: int, stale_after: timedelta) -> bool:
    """Payslips of this send wait for a worker, and none has been seen for `stale_after`."""
    if not silent(stale_after):
        return False
    return db.session.scalar(select(Dispatch.id).where(Dispatch.send_id == send_id, waiting_now()).limit(1)) is not None


@dataclass(frozen=True)
class WorkersHealth:
    workers: list[dict]
    queue_depth: int | None  # None: the queue did not answer
    oldest_due_seconds: float | None  # the oldest row waiting for a worker, how long it has been due
    healthy: bool


def workers_health(stale_after: timedelta, queue_depth: int | None) -> WorkersHealth:
    """What a supervisor polls: every known worker's last beat, the queue's depth and the oldest due row's age.
    Unhealthy when rows are due and no worker was seen within `stale_after`, or the queue cannot be reached."""
    now = utcnow()
    rows = db.session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.seen_at.desc())).all()
    workers = [
        {"name": row.name, "host": row.host, "pid": row.pid,
         "started_at": _iso(row.started_at), "seen_at": _iso(row.seen_at),
         "seen_seconds_ago": round((now - as_utc(row.seen_at)).total_seconds(), 1),
         "alive": as_utc(row.seen_at) >= now - stale_after}
        for row in rows
    ]
    oldest_due = oldest_due_seconds(now)
    anyone_alive = any(worker["alive"] for worker in workers)
    healthy = queue_depth is not None and (anyone_alive or oldest_due is None)
    return WorkersHealth(workers, queue_depth, oldest_due, healthy)


def oldest_due_seconds(now: datetime, *where) -> float | None:
    """How long the oldest row waiting for a worker (of the rows `where` narrows to) has been due, or None."""
    oldest = min((moment for moment in (
        db.session.scalar(select(func.min(func.coalesce(Dispatch.due_at, Dispatch.created_at))).where(
            Dispatch.state == DispatchState.QUEUED, or_(Dispatch.due_at.is_(None), Dispatch.due_at <= now), *where)),
        db.session.scalar(select(func.min(Dispatch.lease_until)).where(
            # a dead worker's claim, due again
            Dispatch.state == DispatchState.SENDING, Dispatch.lease_until < now, *where)),
    ) if moment is not None), key=as_utc, default=None)
    return round(max(0.0, (now - as_utc(oldest)).total_seconds()), 1) if oldest is not None else None


def _iso(moment: datetime) -> str:
    return as_utc(moment).isoformat().replace("+00:00", "Z")
