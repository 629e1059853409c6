"""Who downloaded a month's payslips with full personnummer, and when: written in the request that makes the CSV,
listed on the Kivra status page for the company's administrators, never rewritten."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from kivra.accounts.models import User, utcnow
from kivra.extensions import db

SHOWN = 10


class PersonnummerExport(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    user_name: Mapped[str] = mapped_column(String(200))  # as it was: a name changed later does not rewrite it
    exported_at: Mapped[datetime] = mapped_column(default=utcnow)
    month: Mapped[date]
    outcome: Mapped[str | None] = mapped_column(String(20))  # the list's outcome filter, if any
    searched: Mapped[bool] = mapped_column(default=False)  # a name filter was set (its text is not kept)
    rows: Mapped[int]


def record(user: User, month: date, outcome: str | None, searched: bool, rows: int) -> PersonnummerExport:
    export = PersonnummerExport(company_id=user.company_id, user_id=user.id, user_name=user.name,
                                exported_at=utcnow(), month=month, outcome=outcome, searched=searched, rows=rows)
    db.session.add(export)
    db.session.commit()
    return export


def latest(company_id: int, count: int = SHOWN) -> list[PersonnummerExport]:
    return list(db.session.scalars(select(PersonnummerExport).where(PersonnummerExport.company_id == company_id)
                                   .order_by(PersonnummerExport.exported_at.desc(), PersonnummerExport.id.desc())
                                   .limit(count)))
