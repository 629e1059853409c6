"""A run's send request, and the outbox: one dispatch row per payslip version and channel."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    and_,
    case,
    not_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kivra.accounts.models import utcnow
from kivra.dispatch import tally
from kivra.extensions import db, one_of, stored_as_is


class Channel(StrEnum):
    KIVRA = "kivra"
    MINLON = "minlon"


class SendState(StrEnum):
    """A run's send request: its rows are held while it waits for the agreement or for Kivra, else the workers'."""

    AWAITING_AGREEMENT = "awaiting_agreement"
    WAITING_FOR_KIVRA = "waiting_for_kivra"
    QUEUED = "queued"


class DispatchState(StrEnum):
    """Where a dispatch row is: waiting to go, on its way, or done (an outcome, or cancelled)."""

    HELD = "held"  # scheduled, or waiting for the agreement or Kivra's access
    QUEUED = "queued"
    SENDING = "sending"
    DELIVERED = "delivered"
    RETAINED = "retained"
    PUBLISHED = "published"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"  # superseded by a correction before it went (resends.send_corrections)


WAITING = (DispatchState.HELD, DispatchState.QUEUED)
# Not finished yet: in the order `flask dispatch status` shows them (kivra/dispatch/backlog.py).
UNFINISHED = (DispatchState.SENDING, DispatchState.QUEUED, DispatchState.HELD)
OUTCOMES = (DispatchState.DELIVERED, DispatchState.RETAINED, DispatchState.PUBLISHED, DispatchState.REJECTED,
            DispatchState.FAILED)
# The outcomes by which a payslip version reached its employee: every one. Held by Kivra counts (Kivra keeps it for
# them), and so do rejected and failed, which Min lön shows so the employee never loses a payslip.
RECEIVED = OUTCOMES
# The outcomes never sent again: their stored payload bytes are dropped in the statement that reaches them (the
# checksum stays, saying a payload was stored and sent). A failed row keeps its bytes for "Resend failed".
NEVER_SENT_AGAIN = tuple(outcome for outcome in OUTCOMES if outcome != DispatchState.FAILED)
FINISHED = OUTCOMES + (DispatchState.CANCELLED,)


class PayslipSend(db.Model):
    """One per run (a unique run id): a double click or a second tab cannot start a second send."""

    __table_args__ = (
        CheckConstraint(one_of("channel", Channel), name="channel"),
        CheckConstraint(one_of("state", SendState), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("payroll_run.id"), unique=True)
    # The channel the run was sent to, and (for Min lön) why: not_now | kivra_rejected | no_agreement | not_in_scope |
    # kivra_ended. Where each payslip went, and why, is its row's: the send is relabelled only when every row moves.
    channel: Mapped[str] = mapped_column(String(10))  # see Channel
    # awaiting_agreement | waiting_for_kivra: its rows are held. queued: its rows are the workers' and say, each,
    # where the payslip is; the send never finishes on its own. (A scheduled send called off is deleted.)
    state: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(30))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Send on the payout date at a chosen time rather than now (UTC); rows stay held until then.
    scheduled_for: Mapped[datetime | None]


class Dispatch(db.Model):
    """The outbox: one payslip version on its way to one channel, written with the send request.

    A worker claims a row with a conditional update (state and lease), so two workers never send it twice; a row
    left in `sending` by a crash is claimed again once its lease has expired, and sent with the same stored bytes."""

    __table_args__ = (
        UniqueConstraint("version_id", "channel"),
        Index("ix_dispatch_due", "state", "due_at"),
        Index("ix_dispatch_send_state", "send_id", "state"),
        Index("ix_dispatch_company_finished", "company_id", "finished_at"),
        Index("ix_dispatch_company_dispatched", "company_id", "dispatched_at"),
        # A run's rows, and whether it has any in a month (the status page's run filter probes each run once).
        Index("ix_dispatch_run_month", "run_id", "dispatched_at"),
        # An employee's rows, and their rows of a month: the status page walks a big month's employees in name
        # order and probes each for its rows of the month, instead of sorting the month.
        Index("ix_dispatch_employee_month", "employee_id", "dispatched_at"),
        # The status pages' counts by month (kivra.status): every column they read, so a month of a company's rows
        # is counted from the index alone, a range per state with no sort, whatever the table's size.
        Index("ix_dispatch_company_state_month", "company_id", "state", "dispatched_at", "channel", "reason",
              "run_id", "employee_id"),
        CheckConstraint(one_of("channel", Channel), name="channel"),
        CheckConstraint(one_of("state", DispatchState), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    send_id: Mapped[int] = mapped_column(ForeignKey("payslip_send.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("payroll_run.id"))
    payslip_id: Mapped[int] = mapped_column(ForeignKey("payslip.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("payslip_version.id"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    channel: Mapped[str] = mapped_column(String(10))  # see Channel
    state: Mapped[str] = mapped_column(String(12))  # see DispatchState
    # Min lön: why not Kivra. Kivra: why it was refused or failed (a reason key; Kivra's code is in error_code).
    reason: Mapped[str | None] = mapped_column(String(30))
    routed: Mapped[bool] = mapped_column(default=False)  # Kivra's usermatch has decided the channel
    position: Mapped[int] = mapped_column(Integer, default=0)  # order within the send, for fair interleaving
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime | None]  # the next attempt, not before
    lease_until: Mapped[datetime | None]  # while `sending`: the claim runs out then
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[int | None]
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    content_key: Mapped[str | None] = mapped_column(String(64))
    # The exact request body, made once before the first attempt and sent unchanged on every retry; dropped (NULL) once
    # the row reaches an outcome never sent again, or by retention (kivra/dispatch/retention.py). Its checksum stays.
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # loaded only when sent
    payload_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # When it went (finished_at) or, until then, when it was requested: the month it belongs to on the status pages.
    dispatched_at: Mapped[datetime] = mapped_column(default=utcnow)

    send: Mapped[PayslipSend] = relationship()


stored_as_is(Dispatch.__table__.c.payload)


# A row not yet tried: waiting, never claimed, nothing ever sent to Kivra (no payload stored). Only such a row may
# change channel; a row tried once may have reached Kivra even if its answer was lost.
UNTRIED = and_(Dispatch.state.in_(WAITING), Dispatch.attempts == 0, Dispatch.payload_sha256.is_(None))

# Resending a failed row: one whose payload was never built (the employer's details were missing) is routed again,
# so Kivra's usermatch decides its channel and retain afresh; a row with stored bytes keeps them and their routing.
RE_ROUTE_UNLESS_STORED = case((Dispatch.payload_sha256.is_(None), False), else_=Dispatch.routed)

# A payload stored once whose bytes are gone (dropped when the row finished, or by retention). A failed row may go
# again unless so: its payload was never built (it is built now), or its stored bytes are kept. A failed row without
# them cannot be sent again with the same bytes, so it stays failed (its employee reads it in Min lön).
PAYLOAD_DROPPED = and_(Dispatch.payload_sha256.is_not(None), Dispatch.payload.is_(None))
RESENDABLE = not_(PAYLOAD_DROPPED)

# The dispatch tally's triggers, made wherever the dispatch table is made (create_all, the tests).
tally.install(UNFINISHED, DispatchState.CANCELLED)
