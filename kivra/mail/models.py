"""The outbox: each e-mail the app sends, and where it stands."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kivra.clock import now as utcnow
from kivra.extensions import db, one_of


class MailState(StrEnum):
    QUEUED = "queued"  # waiting for a worker (again, after a temporary failure, from `due_at`)
    SENDING = "sending"  # claimed by a worker until `claimed_until`
    SENT = "sent"  # the SMTP server took it
    FAILED = "failed"  # refused for good (5xx), or temporary failures until the attempts ran out


class MailKind(StrEnum):
    INVITATION = "invitation"  # to Min lön
    PAYSLIP_NOTICE = "payslip_notice"  # "Du har ett nytt lönebesked"
    PASSWORD_RESET = "password_reset"  # Min lön's or a company user's
    SIGNUP_CONFIRMATION = "signup_confirmation"  # the first admin of a company that signed up confirms the address
    USER_INVITATION = "user_invitation"  # a colleague invited to the company (Användare)


class OutboundEmail(db.Model):
    """An e-mail to send, written in the same transaction as what it tells; a worker sends it (kivra/mail/delivery.py).

    Who it is for is kept beside the address (an employee, or a company user) so an admin can see it on the
    employee's row. `once_key` makes a message that must go once per event (one notice per send per employee) a
    single row however often the event is recorded."""

    __tablename__ = "outbound_email"
    __table_args__ = (
        CheckConstraint(one_of("state", tuple(MailState)), name="state"),
        CheckConstraint(one_of("kind", tuple(MailKind)), name="kind"),
        Index("ix_outbound_email_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    once_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    state: Mapped[str] = mapped_column(String(10), default=MailState.QUEUED)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    # The SMTP server's last answer to a failed attempt (or what kept us from reaching it).
    last_error: Mapped[str | None] = mapped_column(Text)
