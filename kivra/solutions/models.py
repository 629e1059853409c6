"""The Kivra agreement (an audit trail of approvals and endings) and the company's Kivra sender (tenant)."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from kivra.accounts.models import utcnow
from kivra.extensions import db

SCOPES = ("payslips", "invoices")


class KivraAgreement(db.Model):
    """One approval of Kivra's terms: who, when, which version, which scope. Never edited; ending it adds
    who ended it and when. A scope change ends one agreement and approves the next."""

    __table_args__ = (
        # At most one agreement in force per company, enforced by the database.
        Index("uq_kivra_agreement_in_force", "company_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    version: Mapped[str] = mapped_column(String(20))
    covers_payslips: Mapped[bool]
    covers_invoices: Mapped[bool]
    approved_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    approved_by_name: Mapped[str] = mapped_column(String(200))  # kept as written, also for imported agreements
    source: Mapped[str] = mapped_column(String(10), default="payroll")  # payroll | vla (the web payroll)
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    ended_by_name: Mapped[str | None] = mapped_column(String(200))
    end_reason: Mapped[str | None] = mapped_column(String(20))  # discontinued | scope_changed

    @property
    def in_force(self) -> bool:
        return self.ended_at is None

    @property
    def scope(self) -> tuple[str, ...]:
        return tuple(s for s, on in zip(SCOPES, (self.covers_payslips, self.covers_invoices)) if on)


class KivraSender(db.Model):
    """The company as a Kivra tenant: registered, waiting for Kivra to grant access, or refused."""

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), unique=True)
    state: Mapped[str] = mapped_column(String(20))  # active | pending | rejected | failed
    tenant_key: Mapped[str | None] = mapped_column(String(64))
    access_request_key: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(200))  # Kivra's code and correlation id when it failed
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
