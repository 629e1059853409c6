"""A payroll bureau's database for bench/status_pages.py: 1 000 000 dispatch rows over 500 companies.

Company sizes follow Zipf's law, as client lists of bureaus do (most clients small, a few large): the k-th company
has round(5 000 / k) employees, at least 5, so the largest has 5 000, the tenth 500, the hundredth 50 and the median
about 20 (about 34 000 employees in all). The largest company (the one signed in) has 24 months of history ending
with the pages' month: 120 000 rows, 60 000 of them in the chart's twelve months, five times the 24k dataset's.
Every other company has sent every month for about 30 months, back from the same month; the last older month is cut
short so the total is exactly 1 000 000 rows. Outcomes per employee as in tests/status_history.py (mostly delivered,
some of every other outcome), each run's rows dispatched as a send writes them (tests.status_history.as_sent):
within minutes of the 24th's 08:00, the failed an hour and a quarter later. The dispatch tally's triggers count
the rows as they are loaded, and the load ends by compacting the tally, as a worker's sweep would.

Built fast: companies, users, employees, runs and sends through SQLAlchemy Core; payslips, versions and dispatch
rows, three million rows in all, straight through the driver, with COPY on PostgreSQL and executemany on SQLite.
"""
import time
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import insert, text

from tests.status_history import DELIVERED, PATTERN, as_sent, months_back, utc

TOTAL_ROWS = 1_000_000
COMPANIES = 500
LARGEST = 5000
LARGEST_MONTHS = 24
BENCH_ORGNR = "5568402266"

PAYSLIP = ("id", "run_id", "employee_id")
VERSION = ("id", "payslip_id", "number", "created_at", "company_name", "orgnr", "employee_name", "personnummer",
           "tax_rate", "lines", "gross_ore", "tax_ore", "net_ore", "contributions_ore")
DISPATCH = ("id", "company_id", "send_id", "run_id", "payslip_id", "version_id", "employee_id", "channel", "state",
            "reason", "routed", "position", "attempts", "error_code", "correlation_id", "created_at", "finished_at",
            "dispatched_at")


def sizes() -> list[int]:
    return [max(5, round(LARGEST / k)) for k in range(1, COMPANIES + 1)]


def plan(last: date) -> list[tuple[int, date, int]]:
    """(company index, month, employees paid) for every run: the largest company's 24 months, then the others'
    months going back from `last` until the rows add up to TOTAL_ROWS (the last run cut short)."""
    staff = sizes()
    runs = [(0, month, staff[0]) for month in months_back(last, LARGEST_MONTHS)]
    rows = staff[0] * LARGEST_MONTHS
    for month in reversed(months_back(last, 120)):
        for index in range(1, COMPANIES):
            count = min(staff[index], TOTAL_ROWS - rows)
            if count <= 0:
                return runs
            runs.append((index, month, count))
            rows += count
    return runs


def personnummer(i: int) -> str:
    from kivra.identity import with_check_digit

    return with_check_digit(f"19{50 + i % 50:02d}{1 + i // 50 % 12:02d}{1 + i // 600 % 28:02d}{i % 1000:03d}")


def build(app, last: date, email: str, password_hash: str, log=print) -> int:
    """Fill the app's (empty) database; returns the number of dispatch rows."""
    from kivra import agreement
    from kivra.accounts.models import Company, User
    from kivra.agreement.models import KivraSender
    from kivra.dispatch import tally
    from kivra.dispatch.models import PayslipSend
    from kivra.employees.models import Employee
    from kivra.extensions import db
    from kivra.payroll.models import PayrollRun

    started = time.perf_counter()
    staff = sizes()
    with app.app_context():
        db.create_all()
        bench = Company(name="Bench Byrå Största AB", orgnr=BENCH_ORGNR, employer_contribution_rate=31.42)
        admin = User(company=bench, email=email, name="Bench Admin", role="admin", locale="sv",
                     password_hash=password_hash)
        db.session.add_all([bench, admin])
        db.session.commit()
        agreement.approve(bench, admin)
        db.session.add(KivraSender(company_id=bench.id, state="active", tenant_key="bench-largest"))
        db.session.commit()
        first = bench.id + 1
        db.session.execute(insert(Company), [dict(
            id=first + k, name=f"Kund {k + 2:03d} AB", orgnr=f"55{k + 2:08d}", employer_contribution_rate=31.42)
            for k in range(COMPANIES - 1)])
        company_ids = [bench.id] + [first + k for k in range(COMPANIES - 1)]
        db.session.execute(insert(User), [dict(
            id=admin.id + 1 + k, company_id=company_ids[k + 1], email=f"admin{k + 2}@kund.se", name="Admin",
            role="admin", locale="sv", password_hash=None) for k in range(COMPANIES - 1)])
        user_ids = [admin.id] + [admin.id + 1 + k for k in range(COMPANIES - 1)]
        employees, next_id = [], 1
        for index, count in enumerate(staff):
            employees.append([(next_id + i, f"Anställd {i:04d}", personnummer(i)) for i in range(count)])
            next_id += count
        db.session.execute(insert(Employee), [dict(
            id=employee_id, company_id=company_ids[index], name=name, personnummer=number,
            employment_start=date(2020, 1, 1), monthly_salary_ore=3_000_000, tax_rate=Decimal("30"),
            min_lon_only=False) for index, people in enumerate(employees) for employee_id, name, number in people])
        runs = plan(last)
        db.session.execute(insert(PayrollRun), [dict(
            id=run_id, company_id=company_ids[index], period=month, payout_date=month.replace(day=25),
            status="calculated", employer_contribution_rate=Decimal("31.42"),
            created_at=utc(datetime(month.year, month.month, 1))) for run_id, (index, month, _n) in
            enumerate(runs, start=1)])
        db.session.execute(insert(PayslipSend), [dict(
            id=run_id, company_id=company_ids[index], run_id=run_id, channel="kivra", state="queued",
            requested_by_id=user_ids[index], requested_at=utc(datetime(month.year, month.month, 1)))
            for run_id, (index, month, _n) in enumerate(runs, start=1)])
        db.session.commit()
        log(f"  companies, {next_id - 1:,} employees and {len(runs):,} runs in {time.perf_counter() - started:.1f} s")
        connection = db.session.connection().connection.dbapi_connection
        postgres = db.engine.dialect.name == "postgresql"
        rows = _bulk_rows(runs, company_ids, staff, employees, postgres)
        (_copy if postgres else _executemany)(connection, rows)
        connection.commit()
        log(f"  payslips, versions and dispatch rows in {time.perf_counter() - started:.1f} s")
        compacted = tally.compact_all()  # the triggers' deltas of the bulk load, folded as a worker's sweep would
        log(f"  {compacted:,} tally keys compacted in {time.perf_counter() - started:.1f} s")
        if postgres:
            for table in ("company", "user", "employee", "payroll_run", "payslip_send", "payslip", "payslip_version",
                          "dispatch"):
                db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'),"
                                        f" (SELECT max(id) FROM \"{table}\"))"))
            db.session.commit()
            connection.autocommit = True
            connection.execute("VACUUM ANALYZE")
            connection.autocommit = False
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        total = db.session.scalar(text("SELECT count(*) FROM dispatch"))
        db.session.remove()
        db.engine.dispose()
    log(f"  analysed in {time.perf_counter() - started:.1f} s")
    return total


def _bulk_rows(runs, company_ids, staff, employees, postgres: bool):
    """The three tables' rows as tuples, run by run (a generator per table would read `runs` three times)."""
    def stamp(moment: datetime):  # SQLite stores SQLAlchemy's text form; psycopg's COPY takes the datetime
        return moment if postgres else moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    tax, lines = (Decimal("30"), "[]") if postgres else ("30", "[]")
    payslips, versions, dispatches = [], [], []
    row_id = 0
    sent = {month: as_sent(month) for month in {month for _index, month, _count in runs}}
    for run_id, (index, month, count) in enumerate(runs, start=1):
        company_id = company_ids[index]
        name, orgnr = ("Bench Byrå Största AB", BENCH_ORGNR) if index == 0 else (f"Kund {index + 1:03d} AB",
                                                                              f"55{index + 1:08d}")
        for position, (employee_id, employee_name, number) in enumerate(employees[index][:count]):
            row_id += 1
            channel, state, reason, code = PATTERN.get(position % 20, DELIVERED)
            moment = stamp(utc(sent[month](position)))
            payslips.append((row_id, run_id, employee_id))
            versions.append((row_id, row_id, 1, moment, name, orgnr, employee_name, number, tax, lines, 3_000_000,
                             900_000, 2_100_000, 942_600))
            dispatches.append((row_id, company_id, run_id, run_id, row_id, row_id, employee_id, channel, state, reason,
                               True, position, 1, code, f"corr-{row_id}" if code else None, moment,
                               None if state == "queued" else moment, moment))
    return {"payslip": (PAYSLIP, payslips), "payslip_version": (VERSION, versions), "dispatch": (DISPATCH, dispatches)}


def _copy(connection, tables) -> None:
    with connection.cursor() as cursor:
        for table, (columns, rows) in tables.items():
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


def _executemany(connection, tables) -> None:
    cursor = connection.cursor()
    for table, (columns, rows) in tables.items():
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                           rows)
    cursor.close()
