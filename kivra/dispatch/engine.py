"""The dispatch engine: claim one row at a time, send it once, record the outcome (routing.py routes a send's rows).

Every state change is a conditional UPDATE that names the state it expects (and, while sending, the claim token), so
the database decides races: two workers never both claim a row, a worker whose lease ran out cannot overwrite the
outcome of the worker that took over, and a row is finished once.
"""
import dataclasses
import hashlib
import logging
import random
import traceback
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import joinedload, undefer

from kivra.accounts.models import Company, utcnow
from kivra.agreement.models import KivraSender, SenderState
from kivra.dispatch import journal, leases, locks, notices, routing, slots
from kivra.dispatch.corrections import corrects_received
from kivra.dispatch.models import NEVER_SENT_AGAIN, OUTCOMES, Channel, Dispatch, DispatchState
from kivra.extensions import db
from kivra.logs import log_context
from kivra.payroll.kivra_payload import payslip_content
from kivra.payroll.models import Payslip, PayslipVersion
from kivra.payroll.service import render_pdf, store_pdf
from kivra.sender_api import KivraClient
from kivra.sender_api.content import PayloadError
from kivra.sender_api.errors import InvalidRequest, KivraError, RecipientNotEligible

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    lease: timedelta
    max_attempts: int
    retry_base: float
    retry_cap: float
    retention_days: int = 390

    @classmethod
    def from_config(cls, config) -> "Settings":
        return cls(
            lease=timedelta(seconds=float(config["DISPATCH_LEASE_SECONDS"])),
            max_attempts=int(config["DISPATCH_MAX_ATTEMPTS"]),
            retry_base=float(config["DISPATCH_RETRY_SECONDS"]),
            retry_cap=float(config["DISPATCH_RETRY_CAP_SECONDS"]),
        )


def settings() -> Settings:
    return Settings.from_config(current_app.config)


# --- claiming ----------------------------------------------------------------------------------------------------


def claimable(now: datetime, max_attempts: int | None = None):
    """Queued and due, or sending with a lease that ran out (its worker died or hangs) and, given `max_attempts`,
    attempts left (one without is failed by the sweep, `leases.fail_exhausted`)."""
    ran_out = and_(Dispatch.state == DispatchState.SENDING, Dispatch.lease_until < now)
    if max_attempts is not None:
        ran_out = and_(ran_out, Dispatch.attempts < max_attempts)
    return or_(and_(Dispatch.state == DispatchState.QUEUED, or_(Dispatch.due_at.is_(None), Dispatch.due_at <= now)),
               ran_out)


@dataclass(frozen=True)
class Claim:
    """A row taken for one attempt: what the attempt needs of it, read in the same statement that took it."""

    id: int
    send_id: int
    company_id: int
    employee_id: int
    version_id: int
    channel: str
    reason: str | None
    routed: bool
    attempts: int  # this attempt included
    payload_sha256: str | None  # set once the payload is stored
    token: str
    sender_state: str | None  # the company's Kivra access (None: never asked), read with the claim
    tenant_key: str | None


CLAIMED = (Dispatch.id, Dispatch.send_id, Dispatch.company_id, Dispatch.employee_id, Dispatch.version_id,
            Dispatch.channel, Dispatch.reason, Dispatch.routed, Dispatch.attempts, Dispatch.payload_sha256)


def claim(dispatch_id: int, config: Settings, now: datetime | None = None) -> Claim | None:
    """Take the row for one attempt, or None when it is not ours to take (done, someone else's, not due)."""
    now = now or utcnow()
    # The company's Kivra access is read with the look before the claim: a row held because access was granted a
    # moment later is released by the next access check (`settle_waiting`), and nothing was sent meanwhile.
    # (Not a subquery in RETURNING: SQLAlchemy renders its correlation unqualified on SQLite, which matches any row.)
    sender = db.session.execute(
        select(KivraSender.state, KivraSender.tenant_key, Dispatch.state.label("was"))
        .select_from(Dispatch).outerjoin(KivraSender, KivraSender.company_id == Dispatch.company_id)
        .where(Dispatch.id == dispatch_id, claimable(now, config.max_attempts))
    ).first()
    if sender is None:
        db.session.rollback()
        return None  # a second ring for a row that is done or taken: no write lock for nothing
    token = uuid.uuid4().hex
    # One statement takes the row and reads it back (RETURNING: SQLite 3.35+, PostgreSQL), so the attempt acts on
    # the row as it was when it was taken.
    taken = db.session.execute(
        update(Dispatch.__table__)
        .where(Dispatch.id == dispatch_id, claimable(now, config.max_attempts))
        .values(state=DispatchState.SENDING, claimed_by=token, lease_until=now + config.lease,
                attempts=Dispatch.attempts + 1)
        .returning(*CLAIMED)
    ).first()
    db.session.commit()
    if taken is None:
        return None
    if sender.was == DispatchState.SENDING:  # its worker stopped renewing the claim: died, or hangs
        journal.lease_takeover(taken.id, taken.send_id, taken.company_id, taken.attempts)
    return Claim(**taken._mapping, token=token, sender_state=sender.state, tenant_key=sender.tenant_key)


def finish(row: Claim, **values) -> bool:
    """Record the attempt's end, only if the claim is still ours. An outcome never sent again drops the stored
    payload bytes in the same statement (the checksum stays); a failed row keeps them for "Resend failed"."""
    values.setdefault("lease_until", None)
    if values.get("state") in NEVER_SENT_AGAIN:
        values["payload"] = None
    if values.get("finished_at") is not None:
        values["dispatched_at"] = values["finished_at"]
    final = values.get("state") in OUTCOMES
    if final:
        locks.lock_sends([row.send_id])  # the send before its row, as every writer does (kivra/dispatch/locks.py)
    done = db.session.execute(
        update(Dispatch.__table__)
        .where(Dispatch.id == row.id, Dispatch.state == DispatchState.SENDING, Dispatch.claimed_by == row.token)
        .values(**values)
    ).rowcount
    if done and values.get("state") == DispatchState.PUBLISHED:
        # In this transaction: once, with the outcome.
        notices.payslips_published(row.send_id, [(row.employee_id, row.version_id)])
    # The send's end is logged once, by the transaction that finished its last row (see journal).
    finished = journal.finished_sends([row.send_id]) if done and final else []
    db.session.commit()
    journal.log_finished(finished)
    if not done:
        log.warning("dispatch %d: claim lost before the outcome was recorded; the new claimant finishes it", row.id)
    return bool(done)


# --- the payload, made once --------------------------------------------------------------------------------------


def stored_payload(row: Claim, config: Settings) -> bytes:
    """The bytes to send: built and stored before the first attempt, read back unchanged for every later one.

    The first attempt renders the version's PDF (if nobody has yet), builds the content around it, and stores both
    in one transaction. Whoever stores first wins: a worker that lost either race sends what is stored."""
    if row.payload_sha256 is not None:
        return read_payload(row.id)
    version = db.session.scalar(
        select(PayslipVersion).where(PayslipVersion.id == row.version_id)
        .options(undefer(PayslipVersion.pdf), joinedload(PayslipVersion.payslip).joinedload(Payslip.run))
    )
    company = db.session.get(Company, row.company_id)
    correction = corrects_received(version)

    def content(pdf: bytes) -> bytes:
        return payslip_content(version, company, correction, pdf=pdf, retain=row.reason == "retain",
                               retention_days=config.retention_days)

    kept = version.pdf
    pdf = kept if kept is not None else render_pdf(version, correction)
    body = content(pdf)
    if kept is None and not store_pdf(version.id, pdf):
        # Another worker stored this version's PDF a moment ago. Rendering is deterministic, so these are the same
        # bytes; but the stored PDF is the one Min lön shows, so the content is built around it.
        body = content(db.session.scalar(select(PayslipVersion.pdf).where(PayslipVersion.id == version.id)))
    stored = db.session.execute(
        update(Dispatch.__table__).where(Dispatch.id == row.id, Dispatch.payload_sha256.is_(None))
        .values(payload=body, payload_sha256=hashlib.sha256(body).hexdigest())
    ).rowcount
    db.session.commit()
    if stored:
        return body
    return read_payload(row.id)


class PayloadDropped(LookupError):
    """The row's payload was stored once and its bytes have since been dropped: other bytes must not go instead."""


def read_payload(dispatch_id: int) -> bytes:
    """The stored bytes, with the read's transaction ended: nothing stays open while Kivra is called."""
    payload = db.session.scalar(select(Dispatch.payload).where(Dispatch.id == dispatch_id))
    db.session.commit()
    if payload is None:
        raise PayloadDropped(dispatch_id)
    return payload


# --- one attempt -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """What one call of `process` did, for the task that schedules the next step."""

    outcome: str | None  # the final state reached, or None
    retry_in: float | None = None  # seconds until the next attempt, when it should be retried


def backoff(attempt: int, config: Settings, rng: random.Random = random.Random()) -> float:
    """Exponential backoff with full jitter: spreads a burst of retries so they do not return together."""
    return rng.uniform(config.retry_base / 2, min(config.retry_cap, config.retry_base * 2 ** (attempt - 1)))


def process(dispatch_id: int, client: KivraClient, config: Settings | None = None) -> Attempt:
    """One attempt at one row (a retry's ring); a task's handful of rows goes through kivra/dispatch/batch.py."""
    config = config or settings()
    row = claim(dispatch_id, config)
    if row is None:
        return Attempt(None)
    # This process's heartbeat renews the claim while the attempt runs; every log line names the row and its send.
    with leases.holding(row.id, row.token), \
            log_context(dispatch_id=row.id, send_id=row.send_id, company_id=row.company_id):
        return attempt(row, client, config)


def attempt(row: Claim, client: KivraClient, config: Settings) -> Attempt:
    """The attempt at a row this process has claimed, its outcome recorded whatever ends it."""
    try:
        return _attempt(row, client, config)
    except Exception as error:  # noqa: BLE001 - every attempt counts, whatever ended it
        db.session.rollback()  # a database error leaves the transaction unusable for recording the outcome
        return broken_attempt(row, error, config)


def _attempt(row: Claim, client: KivraClient, config: Settings) -> Attempt:
    if row.channel == Channel.MINLON:
        finish(row, state=DispatchState.PUBLISHED, finished_at=utcnow())
        return Attempt(DispatchState.PUBLISHED)
    if row.sender_state != SenderState.ACTIVE:
        # Kivra has not granted access (or the company was refused meanwhile): hold until it is settled.
        finish(row, state=DispatchState.HELD, attempts=row.attempts - 1)
        return Attempt(DispatchState.HELD)
    if not row.routed:  # the send's usermatch did not happen (Kivra was unreachable): route now, this row included
        try:
            routing.route(row.send_id, client)
        except KivraError as error:
            db.session.rollback()
            return failed_attempt(row, error, config)
        current = db.session.execute(
            select(Dispatch.claimed_by, Dispatch.routed, Dispatch.channel, Dispatch.reason).where(Dispatch.id == row.id)
        ).one()
        db.session.commit()
        if current.claimed_by != row.token:  # our lease ran out while routing: the worker that took over sends it
            log.warning("dispatch %d: claim lost while routing; the new claimant sends it", row.id)
            return Attempt(None)
        if not current.routed:  # Kivra's access went away meanwhile, so routing was skipped: hold until it is settled
            finish(row, state=DispatchState.HELD, attempts=row.attempts - 1)
            return Attempt(DispatchState.HELD)
        row = dataclasses.replace(row, channel=current.channel, reason=current.reason, routed=True)
        if row.channel == Channel.MINLON:
            finish(row, state=DispatchState.PUBLISHED, finished_at=utcnow())
            return Attempt(DispatchState.PUBLISHED)
    try:
        body = stored_payload(row, config)
    except PayloadError as error:
        # The company's details are incomplete: nothing was sent. Failed, so "Resend failed" sends it once they
        # are filled in (the payload is stored only once it could be built).
        db.session.rollback()
        log.warning("dispatch %d: payload refused before sending: %s", row.id, error)
        finish(row, state=DispatchState.FAILED, reason="payload_invalid", finished_at=utcnow())
        return Attempt(DispatchState.FAILED)
    except PayloadDropped:
        # Never reached by "Resend failed" (it leaves such rows failed): whatever queued it, nothing goes to Kivra.
        db.session.rollback()
        log.error("dispatch %d: its stored payload was dropped; nothing was sent", row.id)
        # (Or our lease ran out and the worker that took over sent it and finished: then the row is its.)
        failed = finish(row, state=DispatchState.FAILED, reason="internal_error", finished_at=utcnow())
        return Attempt(DispatchState.FAILED if failed else None)
    try:
        with slots.slot():
            sent = client.send_content(row.tenant_key, body)
    except RecipientNotEligible as error:
        # Matched (or sent to be retained) and still refused: the person has declined payslips from this sender.
        finish(row, channel=Channel.MINLON, state=DispatchState.PUBLISHED, reason="opted_out",
                error_code=error.code, correlation_id=error.correlation_id, finished_at=utcnow())
        return Attempt(DispatchState.PUBLISHED)
    except KivraError as error:
        return failed_attempt(row, error, config)
    state = DispatchState.RETAINED if sent.retained else DispatchState.DELIVERED
    finish(row, state=state, content_key=sent.key, correlation_id=sent.correlation_id, error_code=None,
            finished_at=utcnow())
    return Attempt(state)


def broken_attempt(row: Claim, error: Exception, config: Settings) -> Attempt:
    """An attempt ended by something other than Kivra's answer (an answer the client could not read, a database
    error, a bug): retried with backoff like a server error, then failed as a technical error on our side."""
    # Only the error's type and where it happened: its message may quote the payslip (an SQL statement's parameters).
    where = "".join(traceback.format_tb(error.__traceback__)[-3:])
    log.error("dispatch %d attempt %d of %d: unexpected %s\n%s", row.id, row.attempts, config.max_attempts,
              type(error).__name__, where.rstrip())
    if row.attempts >= config.max_attempts:
        if finish(row, state=DispatchState.FAILED, reason="internal_error", error_code=None, correlation_id=None,
                   finished_at=utcnow()):
            journal.retries_exhausted(row.id, row.send_id, row.company_id, row.attempts, "internal_error")
        return Attempt(DispatchState.FAILED)
    delay = backoff(row.attempts, config)
    finish(row, state=DispatchState.QUEUED, due_at=utcnow() + timedelta(seconds=delay))
    return Attempt(None, retry_in=delay)


def failed_attempt(row: Claim, error: KivraError, config: Settings) -> Attempt:
    log.warning("dispatch %d attempt %d: %s", row.id, row.attempts, error)
    details = {"error_code": error.code or None, "correlation_id": error.correlation_id}
    if isinstance(error, InvalidRequest) or (not error.retryable and 400 <= error.status < 500 and error.status != 401
                                              and error.status != 403):
        # Kivra refused the content itself: sending it again cannot help. The employee still sees it in Min lön.
        reason = "invalid_personnummer" if error.code == 40009 else "kivra_rejected"
        finish(row, state=DispatchState.REJECTED, reason=reason, finished_at=utcnow(), **details)
        return Attempt(DispatchState.REJECTED)
    if row.attempts >= config.max_attempts:
        if finish(row, state=DispatchState.FAILED, reason="technical", finished_at=utcnow(), **details):
            journal.retries_exhausted(row.id, row.send_id, row.company_id, row.attempts, "technical", **details)
        return Attempt(DispatchState.FAILED)
    delay = backoff(row.attempts, config)
    finish(row, state=DispatchState.QUEUED, due_at=utcnow() + timedelta(seconds=delay), **details)
    return Attempt(None, retry_in=delay)


# --- what is due -------------------------------------------------------------------------------------------------


def due_rows(send_id: int, now: datetime | None = None) -> list[tuple[int, int]]:
    """(id, position) of the send's rows a worker could claim now, in the order they should go."""
    now = now or utcnow()
    return [tuple(row) for row in db.session.execute(
        select(Dispatch.id, Dispatch.position).where(Dispatch.send_id == send_id, claimable(now))
        .order_by(Dispatch.position, Dispatch.id)
    )]


def publish_due_min_lon(send_id: int, now: datetime | None = None) -> int:
    """Min lön needs no call: the send's due Min lön rows are published in one statement."""
    now = now or utcnow()
    locks.lock_sends([send_id])  # see kivra/dispatch/locks.py; and the journal's check below
    rows = db.session.execute(
        update(Dispatch)
        .where(Dispatch.send_id == send_id, Dispatch.channel == Channel.MINLON,
               Dispatch.state == DispatchState.QUEUED,
               or_(Dispatch.due_at.is_(None), Dispatch.due_at <= now))
        .values(state=DispatchState.PUBLISHED, finished_at=now, dispatched_at=now, payload=None)
        .returning(Dispatch.employee_id, Dispatch.version_id)
        .execution_options(synchronize_session=False)
    ).all()
    published = len(rows)
    notices.payslips_published(send_id, [tuple(row) for row in rows])
    finished = journal.finished_sends([send_id]) if published else []
    db.session.commit()
    journal.log_finished(finished)
    return published


def progress(send_id: int) -> dict[str, int]:
    counts = dict(db.session.execute(
        select(Dispatch.state, func.count()).where(Dispatch.send_id == send_id).group_by(Dispatch.state)
    ).all())
    return counts


def is_final(state: str) -> bool:
    return state in OUTCOMES
