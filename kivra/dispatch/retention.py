"""How long a send's stored bytes and its history are kept (docs/operations.md, "Storage and retention").

A row that reaches an outcome never sent again drops its payload bytes as it finishes (`engine.finish`); its
checksum and its history stay. A failed row keeps its bytes so "Resend failed" sends the very same ones, until it has
been failed for DISPATCH_FAILED_PAYLOAD_DAYS (0: kept); then it stays failed and its employee reads it in Min lön.
The history itself (who got which payslip, when, by which channel, with what outcome) is kept until an operator
prunes it, never sooner than bokföringslagen's seven years unless forced. `flask dispatch prune` does both.
"""
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select, update

from kivra.dispatch.models import FINISHED, Dispatch, DispatchState
from kivra.extensions import db

LEGAL_YEARS = 7  # bokföringslagen: a calendar year's records are kept until the end of the seventh year after it
BATCH = 1000  # rows per statement and commit: a big table is never locked in one long transaction


class TooRecent(ValueError):
    """Pruning history this recent needs `force`: bokföringslagen keeps it seven years."""


def latest_cutoff(today: date) -> date:
    """The most recent date history may be pruned before: what a calendar year recorded stays seven more years."""
    return date(today.year - LEGAL_YEARS, 1, 1)


def _in_batches(*where, drop_payload: bool) -> int:
    """Drop the payload bytes of (or delete) the rows `where` names, a batch per transaction. Each statement names
    its condition again, so a row that changed meanwhile (a failed row resent) is left alone."""
    done = 0
    while ids := db.session.scalars(select(Dispatch.id).where(*where).order_by(Dispatch.id).limit(BATCH)).all():
        statement = update(Dispatch).values(payload=None) if drop_payload else delete(Dispatch)
        done += db.session.execute(statement.where(Dispatch.id.in_(ids), *where)
                                   .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
    return done


def drop_final_payloads() -> int:
    """Rows finished before their bytes were dropped as they finished (a database from before): drop them now."""
    return _in_batches(Dispatch.state.in_(FINISHED), Dispatch.state != DispatchState.FAILED,
                       Dispatch.payload.is_not(None), drop_payload=True)


def drop_failed_payloads(finished_before: datetime) -> int:
    """Failed rows failed since before then no longer keep their bytes: they can no longer be resent."""
    return _in_batches(Dispatch.state == DispatchState.FAILED, Dispatch.payload.is_not(None),
                       Dispatch.finished_at < finished_before, drop_payload=True)


def failed_payload_cutoff(days: int, now: datetime) -> datetime | None:
    """From DISPATCH_FAILED_PAYLOAD_DAYS: failed rows finished before this drop their bytes (None: none do)."""
    return now - timedelta(days=days) if days > 0 else None


def prune_history(before: date, today: date, force: bool = False) -> int:
    """Delete the finished rows dispatched before `before` (UTC): their history. Rows still waiting or sending are
    never touched, and the sends stay (a run sent once is never sent again). Refused for a date less than seven
    calendar years back (TooRecent) unless `force`. Returns how many rows went."""
    if before > latest_cutoff(today) and not force:
        raise TooRecent(before)
    cutoff = datetime(before.year, before.month, before.day)
    return _in_batches(Dispatch.state.in_(FINISHED), Dispatch.dispatched_at < cutoff, drop_payload=False)
