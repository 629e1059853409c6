"""The employee register."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from kivra.extensions import Ore, db
from kivra.identity import Personnummer


class Employee(db.Model):
    __table_args__ = (
        UniqueConstraint("company_id", "personnummer"),
        # The status page lists a month's payslips by name, 100 at a time: read in this order, the first page of a
        # 20 000-row month joins 100 employees to their rows instead of sorting all 20 000.
        Index("ix_employee_company_name", "company_id", "name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed as the first column of (company_id, personnummer) and of (company_id, name, id).
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    name: Mapped[str] = mapped_column(String(200))
    personnummer: Mapped[str] = mapped_column(String(12))  # 12 digits, YYYYMMDDNNNN
    email: Mapped[str | None] = mapped_column(String(254))
    employment_start: Mapped[date]
    employment_end: Mapped[date | None]  # last day employed; none while employed
    monthly_salary_ore: Mapped[int] = mapped_column(Ore)
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))  # preliminary tax, per cent
    bank_account: Mapped[str | None] = mapped_column(String(40))
    # "Send payslip with Min lön only": the admin's choice, whatever Kivra's usermatch says.
    min_lon_only: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The last usermatch: user | not_user (or opted out; Kivra does not say which) | id_not_accepted | invalid
    kivra_status: Mapped[str | None] = mapped_column(String(20))
    kivra_checked_at: Mapped[datetime | None]

    @property
    def pnr(self) -> Personnummer:
        return Personnummer(self.personnummer)

    def employed_during(self, first: date, last: date) -> bool:
        return self.employment_start <= last and (self.employment_end is None or self.employment_end >= first)

    @property
    def kivra_accepts_id(self) -> bool:
        """Kivra does not accept samordningsnummer; such employees need Min lön."""
        return not self.pnr.is_coordination_number
