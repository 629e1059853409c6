"""Money in öre is 64-bit on PostgreSQL: a bureau's big runs calculate and post, and the migration keeps amounts."""
from datetime import date
from decimal import Decimal

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from kivra.accounts.models import Company
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.payroll import service
from kivra.payroll.models import PayslipLine, VoucherRow
from tests.conftest import make_company, make_user
from tests.test_postgres import pg_app  # noqa: F401  (the app as in production, on an emptied PostgreSQL)

INT32_MAX = 2**31 - 1
# Every öre column, by table.
ORE_COLUMNS = {
    "employee": ("monthly_salary_ore",),
    "payslip_line": ("amount_ore",),
    "payslip_version": ("gross_ore", "tax_ore", "net_ore", "contributions_ore"),
    "voucher_row": ("amount_ore",),
}


def hire(company: Company, count: int, salary_ore: int) -> None:
    db.session.add_all(Employee(
        company_id=company.id, name=f"Anställd {n}", personnummer=f"1980{n:08d}", employment_start=date(2020, 1, 1),
        monthly_salary_ore=salary_ore, tax_rate=Decimal("30"),
    ) for n in range(count))
    db.session.commit()


def posted(company: Company, period: date) -> dict[int, int]:
    """The run of `period` calculated and posted: its voucher's amount per account."""
    run = service.create_run(company, period, period.replace(day=25))
    service.calculate_run(run)
    voucher = service.post_voucher(run, make_user(company))
    db.session.expire_all()
    return {row.account: row.amount_ore for row in db.session.scalars(
        select(VoucherRow).where(VoucherRow.voucher_id == voucher.id))}


def column_types() -> dict[str, str]:
    inspector = inspect(db.engine)
    return {f"{table}.{c['name']}": str(c["type"]) for table, names in ORE_COLUMNS.items()
            for c in inspector.get_columns(table) if c["name"] in names}


def test_a_run_of_600_employees_at_40_000_kr_posts_a_balanced_voucher(pg_app):
    upgrade()
    company = make_company()
    hire(company, 600, 4_000_000)
    rows = posted(company, date(2026, 11, 1))
    assert rows[7210] == 600 * 4_000_000 > INT32_MAX  # 24 M kr gross
    assert sum(rows.values()) == 0
    assert rows[1930] == -600 * 2_800_000  # net after 30 % tax


def test_one_huge_salary_fits_the_register_the_payslip_and_the_voucher(pg_app):
    upgrade()
    company = make_company()
    hire(company, 1, 3_000_000_000)  # 30 M kr a month
    run = service.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    run.payslips[0].lines.append(PayslipLine(kind="addition", description="Bonus", amount_ore=2_500_000_000))
    service.calculate_run(run)
    version = run.payslips[0].versions[0]
    assert version.gross_ore == 5_500_000_000 and version.net_ore == 3_850_000_000
    voucher = service.post_voucher(run, make_user(company))
    db.session.expire_all()
    assert sum(db.session.scalars(select(VoucherRow.amount_ore).where(VoucherRow.voucher_id == voucher.id))) == 0


def test_the_money_migration_goes_up_and_down_with_amounts_kept(pg_app):
    # The rows are made with today's models, at the newest revision, and taken down to 0007 with the schema: a model
    # cannot write a table as an old revision has it (columns added since would be missing).
    upgrade()
    company = make_company()
    hire(company, 3, 4_000_000)
    posted(company, date(2026, 10, 1))
    db.session.execute(text("UPDATE voucher_row SET amount_ore = :most WHERE account = 7210"), {"most": INT32_MAX})
    db.session.commit()
    before = db.session.execute(text("SELECT id, amount_ore FROM voucher_row ORDER BY id")).all()
    db.session.remove()
    downgrade(revision="0007")
    assert set(column_types().values()) == {"INTEGER"}
    assert db.session.execute(text("SELECT id, amount_ore FROM voucher_row ORDER BY id")).all() == before
    db.session.remove()

    upgrade(revision="0008")
    assert set(column_types().values()) == {"BIGINT"}
    assert db.session.execute(text("SELECT id, amount_ore FROM voucher_row ORDER BY id")).all() == before
    db.session.execute(text("UPDATE voucher_row SET amount_ore = :big WHERE account = 7210"), {"big": 2**40})
    assert db.session.scalar(select(func.max(VoucherRow.amount_ore))) == 2**40  # a big amount survives up
    db.session.execute(text("UPDATE voucher_row SET amount_ore = :most WHERE account = 7210"), {"most": INT32_MAX})
    db.session.commit()
    db.session.remove()

    downgrade(revision="0007")
    assert set(column_types().values()) == {"INTEGER"}
    assert db.session.execute(text("SELECT id, amount_ore FROM voucher_row ORDER BY id")).all() == before
    db.session.remove()
