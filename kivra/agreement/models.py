"""The Kivra agreement (an audit trail of approvals and endings) and the company's Kivra sender (tenant)."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from kivra.accounts.models import utcnow
from kivra.extensions import db, one_of

SCOPES = ("payslips", "invoices")


class AgreementSource(StrEnum):
    PAYROLL = "payroll"
    VLA = "vla"  # approved in the web payroll, imported when the company moved here
    SIGNUP = "signup"  # a new customer's, active from the start


class AgreementEnd(StrEnum):
    DISCONTINUED = "discontinued"
    SCOPE_CHANGED = "scope_changed"  # replaced by the agreement for the new scope


class SenderState(StrEnum):
    ACTIVE = "active"  # registered: payslips go
    PENDING = "pending"  # waiting for Kivra to grant access
    REJECTED = "rejected"  # Kivra refused access
    FAILED = "failed"  # Kivra could not be reached; tried again


class JobKind(StrEnum):
    """What a worker may be asked to do with Kivra: register the company or follow its access request (`access`),
    ask which employees are Kivra users (`usermatch`, the register's check), or give the tenant the company's new
    name (`tenantname`, Företagsinställningar)."""

    ACCESS = "access"
    USERMATCH = "usermatch"
    TENANT_NAME = "tenantname"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


JOB_OPEN = (JobState.QUEUED, JobState.RUNNING)


class KivraAgreement(db.Model):
    """One approval of Kivra's terms: who, when, which version, which scope. Never edited; ending it adds
    who ended it and when. A scope change ends one agreement and approves the next."""

    __table_args__ = (
        # At most one agreement in force per company, enforced by the database.
        Index("uq_kivra_agreement_in_force", "company_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        CheckConstraint(one_of("source", AgreementSource), name="source"),
        CheckConstraint(one_of("end_reason", AgreementEnd), name="end_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    version: Mapped[str] = mapped_column(String(20))
    covers_payslips: Mapped[bool]
    covers_invoices: Mapped[bool]
    approved_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    approved_by_name: Mapped[str] = mapped_column(String(200))  # kept as written, also for imported agreements
    source: Mapped[str] = mapped_column(String(10), default=AgreementSource.PAYROLL)
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    ended_by_name: Mapped[str | None] = mapped_column(String(200))
    end_reason: Mapped[str | None] = mapped_column(String(20))  # see AgreementEnd

    @property
    def in_force(self) -> bool:
        return self.ended_at is None

    @property
    def scope(self) -> tuple[str, ...]:
        return tuple(s for s, on in zip(SCOPES, (self.covers_payslips, self.covers_invoices)) if on)


class KivraSender(db.Model):
    """The company as a Kivra tenant: registered, waiting for Kivra to grant access, or refused."""

    __table_args__ = (CheckConstraint(one_of("state", SenderState), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), unique=True)
    state: Mapped[str] = mapped_column(String(20))  # see SenderState
    tenant_key: Mapped[str | None] = mapped_column(String(64))
    access_request_key: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(200))  # Kivra's code and correlation id when it failed
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def error_parts(self) -> tuple[str, str]:
        """Kivra's code and correlation id, as `error` keeps them ("50301 corr-id")."""
        code, _, correlation_id = (self.error or "").partition(" ")
        return code or "—", correlation_id or "—"


class KivraJob(db.Model):
    """A Kivra call a web request asked for and a worker makes, so no request waits for Kivra. At most one open job
    per company and kind (the database refuses a second: a double click or a second tab joins the first); a worker
    claims it with a conditional update, and a job a killed worker left running is taken again after its lease."""

    __table_args__ = (
        Index("uq_kivra_job_open", "company_id", "kind", unique=True,
              sqlite_where=text(one_of("state", JOB_OPEN)), postgresql_where=text(one_of("state", JOB_OPEN))),
        CheckConstraint(one_of("kind", JobKind), name="kind"),
        CheckConstraint(one_of("state", JobState), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # see JobKind
    state: Mapped[str] = mapped_column(String(10), default=JobState.QUEUED)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # none: the periodic check
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]  # while running: when the worker claimed it
    finished_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    # usermatch: how many employees are Kivra users (found) of how many asked (total); access: sends released (found)
    found: Mapped[int | None]
    total: Mapped[int | None]
    error_code: Mapped[str | None] = mapped_column(String(20))  # Kivra's code, or `not_active`, or `error`
    error_message: Mapped[str | None] = mapped_column(String(200))  # Kivra's words for the error, as it answered
    correlation_id: Mapped[str | None] = mapped_column(String(64))

    @property
    def is_open(self) -> bool:
        return self.state in JOB_OPEN
