"""Payroll run operations: create, calculate, correct and post. No Flask requests here."""
import calendar
import hashlib
from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from kivra.accounts.models import Company, User, utcnow
from kivra.clock import as_utc
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.payroll import pdf
from kivra.payroll.calculation import Line, Totals, calculate
from kivra.payroll.models import PayrollRun, Payslip, PayslipLine, PayslipVersion, Voucher, VoucherRow
from kivra.payroll.printable import check_printable
from kivra.payroll.voucher import Row, difference, is_balanced, rows_for
from kivra.payroll.year_to_date import YearToDate, earlier_in_year

VOUCHER_SERIES = "L"
EMPLOYER_DETAILS = ("street_address", "postal_code", "city", "email", "phone")  # frozen with each version


class RunExistsError(ValueError):
    """The company already has a payroll run for that month."""


class AlreadyCalculatedError(ValueError):
    """The run was calculated already."""


class NothingToPostError(ValueError):
    """Everything in the run is already posted."""


class CorrectedMeanwhileError(ValueError):
    """Another request created the payslip's next version at the same time."""


def last_day(period: date) -> date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def employed_in(company_id: int, period: date) -> list[Employee]:
    first, last = period, last_day(period)
    employees = db.session.scalars(
        select(Employee).where(Employee.company_id == company_id, Employee.employment_start <= last).order_by(Employee.name)
    )
    return [e for e in employees if e.employed_during(first, last)]


def company_runs(company_id: int) -> list[PayrollRun]:
    """The company's runs, newest period first, with their vouchers: the run list."""
    return list(db.session.scalars(
        select(PayrollRun).where(PayrollRun.company_id == company_id).order_by(PayrollRun.period.desc())
        .options(selectinload(PayrollRun.vouchers))
    ))


def payslip_counts(runs: list[PayrollRun]) -> dict[int, int]:
    """Payslips per run: a calculated run's as counted when it was calculated, the others' counted by the database
    (a run of 20 000 is not loaded to be counted, and years of runs are not counted again on every look)."""
    counts = {run.id: run.payslip_count for run in runs if run.payslip_count is not None}
    uncounted = [run.id for run in runs if run.payslip_count is None]
    if uncounted:
        counted = db.session.execute(select(Payslip.run_id, func.count()).where(Payslip.run_id.in_(uncounted))
                                     .group_by(Payslip.run_id))
        counts |= {run_id: 0 for run_id in uncounted} | dict(counted.all())
    return counts


def first_free_period(company_id: int, start: date) -> date:
    """The first month from `start` on without a run: what a new run proposes, never a month already run."""
    taken = set(db.session.scalars(
        select(PayrollRun.period).where(PayrollRun.company_id == company_id, PayrollRun.period >= start.replace(day=1))))
    period = start.replace(day=1)
    while period in taken:
        period = (period + timedelta(days=32)).replace(day=1)
    return period


def create_run(company: Company, period: date, payout_date: date) -> PayrollRun:
    """A draft run with a payslip per employee employed in the period, each starting with the monthly salary."""
    period = period.replace(day=1)
    run = PayrollRun(
        company_id=company.id,
        period=period,
        payout_date=payout_date,
        employer_contribution_rate=company.employer_contribution_rate,
    )
    sync_draft(run)
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise RunExistsError(period) from None
    return run


def sync_draft(run: PayrollRun) -> None:
    """While a run is a draft it follows the register: today's salaries, and everyone employed in the month."""
    with db.session.no_autoflush:
        employed = {e.id: e for e in employed_in(run.company_id, run.period)}
    for payslip in list(run.payslips):
        if payslip.employee_id not in employed:
            run.payslips.remove(payslip)
    present = {p.employee_id for p in run.payslips}
    for employee in employed.values():
        if employee.id not in present:
            payslip = Payslip(employee=employee)
            payslip.lines.append(PayslipLine(kind="salary", description="", amount_ore=employee.monthly_salary_ore))
            run.payslips.append(payslip)
    for payslip in run.payslips:
        for line in payslip.lines:
            if line.kind == "salary":
                line.amount_ore = payslip.employee.monthly_salary_ore


def payslip_lines(payslip: Payslip) -> list[Line]:
    return [Line(line.kind, line.description, line.amount_ore) for line in payslip.lines]


def check_printed(payslip: Payslip) -> None:
    """UnprintableText before freezing a payslip whose PDF could not be made: texts typed before the forms refused
    what the payslip cannot print."""
    employee = payslip.employee
    company = db.session.get(Company, payslip.run.company_id)
    texts = [("the company name", company.name), ("the employee name", employee.name),
             ("the bank account", employee.bank_account or "")]
    texts += [(f"the company's {name.replace('_', ' ')}", getattr(company, name) or "") for name in EMPLOYER_DETAILS]
    for where, text in texts + [("a line's description", line.description) for line in payslip.lines]:
        check_printable(text, where)


def payslip_totals(payslip: Payslip) -> Totals:
    return calculate(payslip_lines(payslip), payslip.employee.tax_rate, payslip.run.employer_contribution_rate)


def _snapshot(payslip: Payslip) -> dict:
    employee = payslip.employee
    return {
        "employee_name": employee.name,
        "personnummer": employee.personnummer,
        "employment_start": employee.employment_start,
        "bank_account": employee.bank_account,
        "tax_rate": employee.tax_rate,
        "lines": [{"kind": l.kind, "description": l.description, "amount_ore": l.amount_ore} for l in payslip.lines],
    }


def has_changes(payslip: Payslip) -> bool:
    """Whether the payslip's lines or employee details differ from its latest version."""
    current = payslip.current_version
    if current is None:
        return True
    snapshot = _snapshot(payslip)
    return any(getattr(current, key) != value for key, value in snapshot.items())


def new_version(payslip: Payslip, earlier: YearToDate | None = None) -> PayslipVersion:
    """Freeze the payslip as it is now; its PDF is made from this snapshot alone. `earlier`: the employee's year so
    far before this run (`earlier_in_year`), looked up here when not given."""
    company = db.session.get(Company, payslip.run.company_id)
    totals = payslip_totals(payslip)
    if earlier is None:
        earlier = earlier_in_year(payslip.run, [payslip.employee_id]).get(payslip.employee_id, YearToDate())
    year = earlier.plus(totals)
    version = PayslipVersion(
        number=len(payslip.versions) + 1,
        created_at=utcnow().replace(microsecond=0),
        company_name=company.name,
        orgnr=company.orgnr,
        gross_ore=totals.gross_ore,
        tax_ore=totals.tax_ore,
        net_ore=totals.net_ore,
        contributions_ore=totals.contributions_ore,
        ytd_gross_ore=year.gross_ore,
        ytd_tax_ore=year.tax_ore,
        ytd_net_ore=year.net_ore,
        **{f"employer_{name}": getattr(company, name) for name in EMPLOYER_DETAILS},
        **_snapshot(payslip),
    )
    payslip.versions.append(version)
    return version


def render_pdf(version: PayslipVersion, correction: bool) -> bytes:
    """The version's PDF: a pure function of the frozen version, so the same bytes every time. `correction`: an
    earlier version reached the employee (kivra.dispatch.corrections decides), so this one says it corrects it."""
    run = version.payslip.run
    return pdf.render(pdf.PayslipDocument(
        company_name=version.company_name,
        orgnr=version.orgnr,
        employee_name=version.employee_name,
        personnummer=version.personnummer,
        bank_account=version.bank_account,
        employer_address=pdf.Address(version.employer_street_address, version.employer_postal_code,
                                     version.employer_city),
        employer_email=version.employer_email,
        employer_phone=version.employer_phone,
        year_to_date=None if version.ytd_gross_ore is None else (
            version.ytd_gross_ore, version.ytd_tax_ore, version.ytd_net_ore),
        period=run.period,
        payout_date=run.payout_date,
        tax_rate=version.tax_rate,
        lines=version.lines,
        gross_ore=version.gross_ore,
        tax_ore=version.tax_ore,
        net_ore=version.net_ore,
        contributions_ore=version.contributions_ore,
        version=version.number,
        correction=correction,
        created_at=as_utc(version.created_at),
    ))


def store_pdf(version_id: int, content: bytes) -> bool:
    """Store a version's first PDF in the caller's transaction; False if one was stored already (the first wins)."""
    return bool(db.session.execute(
        update(PayslipVersion.__table__)
        .where(PayslipVersion.id == version_id, PayslipVersion.pdf.is_(None))
        .values(pdf=content, pdf_sha256=hashlib.sha256(content).hexdigest())
    ).rowcount)


def version_pdf(version: PayslipVersion, correction: bool) -> bytes:
    """The stored PDF; rendered and stored the first time it is needed, never again after that."""
    if version.pdf is None:
        store_pdf(version.id, render_pdf(version, correction))
        db.session.commit()
        db.session.refresh(version)
    return version.pdf


def calculate_run(run: PayrollRun) -> None:
    """Draft → calculated: every payslip gets its first version. Raises NegativeGrossError on a bad payslip."""
    sync_draft(run)
    for payslip in run.payslips:
        payslip_totals(payslip)  # refuse before freezing anything
        check_printed(payslip)
    claimed = db.session.execute(
        update(PayrollRun).where(PayrollRun.id == run.id, PayrollRun.status == "draft").values(
            status="calculated",
            payslip_count=select(func.count()).where(Payslip.run_id == run.id).scalar_subquery())
    ).rowcount
    if not claimed:  # calculated meanwhile by another click or tab
        db.session.rollback()
        raise AlreadyCalculatedError(run.id)
    earlier = earlier_in_year(run, [payslip.employee_id for payslip in run.payslips])
    for payslip in run.payslips:
        new_version(payslip, earlier.get(payslip.employee_id, YearToDate()))
    db.session.commit()
    db.session.refresh(run)


def correct(payslip: Payslip) -> PayslipVersion | None:
    """A corrected version, if anything changed since the latest one."""
    if not has_changes(payslip):
        return None
    payslip_totals(payslip)
    check_printed(payslip)
    version = new_version(payslip)
    try:
        db.session.commit()
    except IntegrityError:  # the unique (payslip, number) let another click's version through first
        db.session.rollback()
        raise CorrectedMeanwhileError(payslip.id) from None
    return version


def current_totals(run: PayrollRun) -> list[Totals]:
    return [
        Totals(v.gross_ore, v.tax_ore, v.net_ore, v.contributions_ore)
        for v in (p.current_version for p in run.payslips)
        if v is not None
    ]


def posted_rows(run: PayrollRun) -> list[Row]:
    return [Row(r.account, r.amount_ore) for v in run.vouchers for r in v.rows]


def rows_to_post(run: PayrollRun) -> list[Row]:
    """The run's voucher rows, less whatever earlier vouchers already posted."""
    return difference(rows_for(current_totals(run)), posted_rows(run))


def post_voucher(run: PayrollRun, user: User, attempts: int = 3) -> Voucher:
    """Post the run (or its corrections) as a balanced voucher; refuse when nothing is left to post.

    The unique constraints decide races: posting the same run twice at once lets one through; two runs taking the
    same verifikationsnummer at once make the loser try again with the next number."""
    for _ in range(attempts):
        rows = rows_to_post(run)
        if not rows:
            raise NothingToPostError(run.id)
        assert is_balanced(rows), rows
        last_number = db.session.scalar(
            select(func.max(Voucher.number)).where(Voucher.company_id == run.company_id, Voucher.series == VOUCHER_SERIES)
        )
        voucher = Voucher(
            company_id=run.company_id,
            run=run,
            series=VOUCHER_SERIES,
            number=(last_number or 0) + 1,
            sequence=len(run.vouchers) + 1,
            voucher_date=run.payout_date,
            posted_by_id=user.id,
            rows=[VoucherRow(account=r.account, amount_ore=r.amount_ore) for r in rows],
        )
        db.session.add(voucher)
        try:
            db.session.commit()
            return voucher
        except IntegrityError:
            db.session.rollback()
            db.session.refresh(run)
    raise NothingToPostError(run.id)
