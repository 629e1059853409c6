"""Dispatch history written straight into the tables (bulk inserts, not through the engine): for the status pages'
tests and bench/status_pages.py. Every row is a real payslip version of a real run, so foreign keys hold."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from kivra.accounts.models import Company, User
from kivra.dispatch.models import Dispatch, PayslipSend
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.identity import with_check_digit
from kivra.payroll.models import PayrollRun, Payslip, PayslipVersion

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# (channel, state, reason, error code) by employee index modulo 20: mostly delivered, some of every other outcome.
PATTERN = {
    0: ("kivra", "failed", "technical", 50000),
    1: ("kivra", "rejected", "invalid_personnummer", 40009),
    2: ("minlon", "published", "not_kivra_user", None),
    3: ("minlon", "published", "not_kivra_user", None),
    4: ("minlon", "published", "id_not_accepted", None),
    5: ("kivra", "retained", "retain", None),
    6: ("kivra", "queued", None, None),
    7: ("minlon", "published", "min_lon_only", None),
}
DELIVERED = ("kivra", "delivered", None, None)


def utc(local: datetime) -> datetime:
    """A Swedish wall-clock time as the naive UTC the database stores."""
    return local.replace(tzinfo=STOCKHOLM).astimezone(timezone.utc).replace(tzinfo=None)


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def add_employees(company: Company, count: int, prefix: str = "Anställd") -> list[int]:
    """`count` employees with valid, distinct personnummer; returns their ids."""
    first = _next_id(Employee)
    rows = [dict(
        id=first + i, company_id=company.id, name=f"{prefix} {i:04d}",
        personnummer=with_check_digit(f"19{50 + i % 50:02d}{1 + i // 50 % 12:02d}{1 + i // 600 % 28:02d}{i % 1000:03d}"),
        employment_start=date(2020, 1, 1), monthly_salary_ore=3_000_000, tax_rate=Decimal("30"), min_lon_only=False,
    ) for i in range(count)]
    db.session.execute(insert(Employee), rows)
    db.session.commit()
    return [row["id"] for row in rows]


def as_sent(month: date):
    """`at` for add_month as a real send writes dispatched_at: the run's payslips go out from 08:00 Swedish time on
    the 24th, 25 ms apart (5 000 in two minutes), and the failed ones finish an hour and a quarter later, when their
    retries ran out. (add_month's default spreads a month's rows over its days and hours instead.)"""
    start = datetime(month.year, month.month, 24, 8, 0)

    def at(index: int) -> datetime:
        failed = PATTERN.get(index % 20, DELIVERED)[1] == "failed"
        return start + timedelta(milliseconds=25 * index, minutes=75 if failed else 0)

    return at


def add_month(company: Company, user: User, employee_ids: list[int], month: date, pattern=PATTERN,
              at=None) -> int:
    """A sent run for `month`: one payslip, version and dispatch row per employee, dispatched within the month
    (Swedish time; `at(index)` chooses the local time). Returns the run id."""
    run_id, send_id = _next_id(PayrollRun), _next_id(PayslipSend)
    db.session.execute(insert(PayrollRun), [dict(
        id=run_id, company_id=company.id, period=month, payout_date=month.replace(day=25), status="calculated",
        employer_contribution_rate=Decimal("31.42"), created_at=utc(datetime(month.year, month.month, 1)))])
    db.session.execute(insert(PayslipSend), [dict(
        id=send_id, company_id=company.id, run_id=run_id, channel="kivra", state="queued", requested_by_id=user.id,
        requested_at=utc(datetime(month.year, month.month, 1)))])
    payslip_id, version_id, dispatch_id = _next_id(Payslip), _next_id(PayslipVersion), _next_id(Dispatch)
    names = dict(db.session.execute(select(Employee.id, Employee.name).where(Employee.id.in_(employee_ids))).all())
    numbers = dict(db.session.execute(
        select(Employee.id, Employee.personnummer).where(Employee.id.in_(employee_ids))).all())
    payslips, versions, dispatches = [], [], []
    for index, employee_id in enumerate(employee_ids):
        channel, state, reason, code = pattern.get(index % 20, DELIVERED)
        local = at(index) if at else datetime(month.year, month.month, 1 + index % 28, index % 24, index % 60)
        moment = utc(local)
        payslips.append(dict(id=payslip_id + index, run_id=run_id, employee_id=employee_id))
        versions.append(dict(
            id=version_id + index, payslip_id=payslip_id + index, number=1, created_at=moment,
            company_name=company.name, orgnr=company.orgnr, employee_name=names[employee_id],
            personnummer=numbers[employee_id], tax_rate=Decimal("30"), lines=[], gross_ore=3_000_000,
            tax_ore=900_000, net_ore=2_100_000, contributions_ore=942_600))
        dispatches.append(dict(
            id=dispatch_id + index, company_id=company.id, send_id=send_id, run_id=run_id,
            payslip_id=payslip_id + index, version_id=version_id + index, employee_id=employee_id, channel=channel,
            state=state, reason=reason, routed=True, position=index, attempts=1, error_code=code,
            correlation_id=f"corr-{dispatch_id + index}" if code else None, created_at=moment,
            finished_at=None if state == "queued" else moment, dispatched_at=moment))
    db.session.execute(insert(Payslip), payslips)
    db.session.execute(insert(PayslipVersion), versions)
    db.session.execute(insert(Dispatch), dispatches)
    db.session.commit()
    return run_id


def months_back(last: date, count: int) -> list[date]:
    """`count` months ending with `last`, oldest first."""
    index = last.year * 12 + last.month - 1
    return [date((index - k) // 12, (index - k) % 12 + 1, 1) for k in range(count - 1, -1, -1)]

