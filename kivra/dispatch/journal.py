"""What an operator reads about sends, one INFO line each: a send started, a send finished, a claim taken over after
its worker's lease ran out, a payslip failed after its last attempt. Ids and counts only (send, company, dispatch
row; Kivra's code and correlation id): never a personnummer or a name.

"Finished" is logged once however many workers finish a send's last rows at the same moment: every transaction that
makes rows final then locks the send's row (PostgreSQL; SQLite has one writer at a time anyway) and asks whether any
of its rows is still waiting. Holding that lock until they commit, they ask one after the other, and each sees the
rows of those before it committed: only the last one sees none left. (The callers lock the send before they change
its rows, the one order every writer keeps: kivra/dispatch/locks.py.)
"""
import logging
from datetime import datetime

from sqlalchemy import func, select

from kivra.accounts.models import utcnow
from kivra.clock import as_utc
from kivra.dispatch import locks
from kivra.dispatch.models import OUTCOMES, UNFINISHED, Dispatch, DispatchState, PayslipSend
from kivra.extensions import db

log = logging.getLogger(__name__)


def _counts(counts: dict[str, int]) -> str:
    return " ".join(f"{key}={value}" for key, value in sorted(counts.items())) or "none"


def send_started(send_id: int, company_id: int) -> None:
    """After a send's routing: its rows by channel (Kivra rows whose usermatch failed still count as Kivra)."""
    rows = dict(db.session.execute(
        select(Dispatch.channel, func.count())
        .where(Dispatch.send_id == send_id, Dispatch.state != DispatchState.CANCELLED)
        .group_by(Dispatch.channel)
    ).all())
    db.session.commit()
    log.info("send started: %s", _counts(rows), extra={"send_id": send_id, "company_id": company_id, "rows": rows})


def finished_sends(send_ids) -> list[dict]:
    """In the transaction that made rows of these sends final, before its commit: what to log for each send now left
    with no row waiting. Call `log_finished` with the result once the transaction is committed."""
    ids = sorted(set(send_ids))
    if not ids:
        return []
    locks.lock_sends(ids)  # usually taken already by the caller, before the rows (kivra/dispatch/locks.py)
    finished = []
    for send_id in ids:
        waiting = db.session.scalar(waiting_row(send_id))
        if waiting is not None:
            continue
        send = db.session.execute(
            select(PayslipSend.company_id, PayslipSend.requested_at, PayslipSend.scheduled_for)
            .where(PayslipSend.id == send_id)).one()
        outcomes = dict(db.session.execute(
            select(Dispatch.state, func.count())
            .where(Dispatch.send_id == send_id, Dispatch.state.in_(OUTCOMES)).group_by(Dispatch.state)
        ).all())
        finished.append({"send_id": send_id, "company_id": send.company_id, "outcomes": outcomes,
                         "duration_seconds": _since(send.scheduled_for or send.requested_at, send.requested_at)})
    return finished


def waiting_row(send_id: int):
    """One of the send's rows still waiting, if any. Read backwards through its (send_id, state) index: a send's
    entries are in the order of their state's name, and `sending` and `queued` sort after the `delivered` and
    `failed` a send in progress piles up. Read forwards, the check walked every row already delivered first, and
    PostgreSQL, expecting a match at once, turned to reading the table (0.5 -> 4 ms over the first 4 000 of a 20 000
    send, once per batch recorded); backwards it stops at the first waiting row (0.03 ms). Only a finished send is
    read whole, once."""
    return (select(Dispatch.id).where(Dispatch.send_id == send_id, Dispatch.state.in_(UNFINISHED))
            .order_by(Dispatch.send_id.desc(), Dispatch.state.desc()).limit(1))


def _since(scheduled: datetime, requested: datetime) -> float:
    """Seconds from when the send could start (requested, or its scheduled time if later) until now."""
    start = max(as_utc(scheduled), as_utc(requested))
    return round(max(0.0, (utcnow() - start).total_seconds()), 1)


def log_finished(finished: list[dict]) -> None:
    for fields in finished:
        log.info("send finished: %s in %.1f s", _counts(fields["outcomes"]), fields["duration_seconds"],
                 extra=fields)


def lease_takeover(dispatch_id: int, send_id: int, company_id: int, attempt: int) -> None:
    log.info("lease takeover: dispatch %d of send %d claimed again after its worker's lease ran out (attempt %d)",
             dispatch_id, send_id, attempt,
             extra={"dispatch_id": dispatch_id, "send_id": send_id, "company_id": company_id, "attempt": attempt})


def retries_exhausted(dispatch_id: int, send_id: int, company_id: int, attempts: int, reason: str,
                      error_code: int | None = None, correlation_id: str | None = None) -> None:
    log.info("retries exhausted: dispatch %d of send %d failed after %d attempts (%s, Kivra code %s, "
             "correlation id %s)", dispatch_id, send_id, attempts, reason, error_code, correlation_id,
             extra={"dispatch_id": dispatch_id, "send_id": send_id, "company_id": company_id, "attempts": attempts,
                    "reason": reason, "error_code": error_code, "correlation_id": correlation_id})
