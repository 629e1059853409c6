"""Payroll runs, payslips with their frozen versions, and posted vouchers."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, LargeBinary, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kivra.accounts.models import utcnow
from kivra.employees.models import Employee
from kivra.extensions import Ore, db, stored_as_is

LINE_KINDS = ("salary", "addition", "deduction")


class PayrollRun(db.Model):
    __table_args__ = (UniqueConstraint("company_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    period: Mapped[date]  # first day of the month paid for
    payout_date: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft | calculated
    # How many payslips the run has, counted when it is calculated (its payslips are fixed from then on): the run list
    # reads it rather than count every payslip of every run. None while a draft, or where nothing counted it.
    payslip_count: Mapped[int | None]
    employer_contribution_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    payslips: Mapped[list["Payslip"]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="Payslip.id"
    )
    vouchers: Mapped[list["Voucher"]] = relationship(back_populates="run", order_by="Voucher.id")

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"


class Payslip(db.Model):
    __table_args__ = (UniqueConstraint("run_id", "employee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("payroll_run.id"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)

    run: Mapped[PayrollRun] = relationship(back_populates="payslips")
    employee: Mapped[Employee] = relationship()
    lines: Mapped[list["PayslipLine"]] = relationship(
        back_populates="payslip", cascade="all, delete-orphan", order_by="PayslipLine.id"
    )
    versions: Mapped[list["PayslipVersion"]] = relationship(
        back_populates="payslip", cascade="all, delete-orphan", order_by="PayslipVersion.number"
    )

    @property
    def current_version(self) -> "PayslipVersion | None":
        return self.versions[-1] if self.versions else None


class PayslipLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    payslip_id: Mapped[int] = mapped_column(ForeignKey("payslip.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # salary | addition | deduction
    description: Mapped[str] = mapped_column(String(100))
    amount_ore: Mapped[int] = mapped_column(Ore)  # always positive; the kind gives the sign

    payslip: Mapped[Payslip] = relationship(back_populates="lines")


class PayslipVersion(db.Model):
    """A payslip frozen: its figures, employer and employee as they were, and the PDF made from them once."""

    __table_args__ = (UniqueConstraint("payslip_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payslip_id: Mapped[int] = mapped_column(ForeignKey("payslip.id"), index=True)
    number: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    company_name: Mapped[str] = mapped_column(String(200))
    orgnr: Mapped[str] = mapped_column(String(10))
    employee_name: Mapped[str] = mapped_column(String(200))
    personnummer: Mapped[str] = mapped_column(String(12))
    employment_start: Mapped[date | None]
    bank_account: Mapped[str | None] = mapped_column(String(40))
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    lines: Mapped[list] = mapped_column(JSON)  # [{"kind", "description", "amount_ore"}]
    gross_ore: Mapped[int] = mapped_column(Ore)
    tax_ore: Mapped[int] = mapped_column(Ore)
    net_ore: Mapped[int] = mapped_column(Ore)
    contributions_ore: Mapped[int] = mapped_column(Ore)
    # The employer's address and contact as they were (None in versions made before they were frozen: left out).
    employer_street_address: Mapped[str | None] = mapped_column(String(200))
    employer_postal_code: Mapped[str | None] = mapped_column(String(10))
    employer_city: Mapped[str | None] = mapped_column(String(100))
    employer_email: Mapped[str | None] = mapped_column(String(254))
    employer_phone: Mapped[str | None] = mapped_column(String(30))
    # The calendar year's totals up to and including this version (kivra.payroll.year_to_date); None before.
    ytd_gross_ore: Mapped[int | None] = mapped_column(Ore)
    ytd_tax_ore: Mapped[int | None] = mapped_column(Ore)
    ytd_net_ore: Mapped[int | None] = mapped_column(Ore)
    # Rendered from the fields above on first need, then stored and never rendered again.
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # loaded only when read
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))

    payslip: Mapped[Payslip] = relationship(back_populates="versions")

    @property
    def is_correction(self) -> bool:
        """A later version: a correction on the admin's pages. For the employee a version is a correction only
        if they had received an earlier one (kivra.dispatch.corrections.corrects_received)."""
        return self.number > 1


stored_as_is(PayslipVersion.__table__.c.pdf)


class Voucher(db.Model):
    """A posted verifikation. A run's first voucher posts it; later ones post corrections."""

    __table_args__ = (
        UniqueConstraint("company_id", "series", "number"),
        UniqueConstraint("run_id", "sequence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("payroll_run.id"), index=True)
    series: Mapped[str] = mapped_column(String(4))
    number: Mapped[int]  # verifikationsnummer within the company's series
    sequence: Mapped[int]  # 1 for the run's voucher, 2.. for its corrections
    voucher_date: Mapped[date]
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)
    posted_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    run: Mapped[PayrollRun] = relationship(back_populates="vouchers")
    rows: Mapped[list["VoucherRow"]] = relationship(
        back_populates="voucher", cascade="all, delete-orphan", order_by="VoucherRow.id"
    )


class VoucherRow(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("voucher.id"), index=True)
    account: Mapped[int]
    amount_ore: Mapped[int] = mapped_column(Ore)  # debit positive, credit negative

    voucher: Mapped[Voucher] = relationship(back_populates="rows")
