"""A request to send a payroll run's payslips."""
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from kivra.accounts.models import utcnow
from kivra.extensions import db


class PayslipSend(db.Model):
    """One per run (a unique run id): a double click or a second tab cannot start a second send."""

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("payroll_run.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(10))  # kivra | minlon
    state: Mapped[str] = mapped_column(String(20))  # queued | waiting_for_kivra
    note: Mapped[str | None] = mapped_column(String(30))  # why Min lön: not_now | kivra_rejected | no_agreement
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
