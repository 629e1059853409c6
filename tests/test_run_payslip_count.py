"""The run list's payslip counts: a calculated run's is kept on the run when it is calculated (its payslips are fixed
from then on), a draft's is counted on each look, and migration 0023 fills it for the runs calculated before it."""
import re
from datetime import date
from decimal import Decimal

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import event, func, inspect, insert, select, text as sql

from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.payroll import service
from kivra.payroll.models import PayrollRun, Payslip
from tests.conftest import make_company, make_employee, make_user
from tests.status_history import add_employees, add_month
from tests.test_postgres import migrated_app, pg_app  # noqa: F401 - fixtures

pytestmark = pytest.mark.both_databases


def listed_count(client, run_id: int) -> str:
    """The payslips column of the run's row in the run list, as a person reads it."""
    page = client.get("/runs").get_data(as_text=True)
    row = re.search(rf'<tr>\s*<td><a href="/runs/{run_id}">.*?</tr>', page, re.S)
    assert row, "the run is in the list"
    return re.findall(r"<td>(.*?)</td>", row.group(0), re.S)[2].strip()


def payslip_statements(client) -> list[str]:
    """The statements the run list runs that read the payslip table."""
    statements = []

    def listener(_connection, _cursor, statement, _parameters, _context, _many):
        if re.search(r"\bFROM payslip\b", statement):
            statements.append(statement)
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get("/runs").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return statements


def test_calculating_keeps_the_count_and_the_list_no_longer_counts_the_payslips(as_admin, company):
    make_employee(company)
    make_employee(company, name="Björn Åkesson", personnummer="197002021234")
    run = service.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    assert run.payslip_count is None
    assert listed_count(as_admin, run.id) == "2"
    assert payslip_statements(as_admin)  # a draft follows the register: counted on each look

    service.calculate_run(run)
    assert db.session.get(PayrollRun, run.id).payslip_count == 2
    assert listed_count(as_admin, run.id) == "2"
    assert payslip_statements(as_admin) == []


def test_a_draft_following_the_register_is_counted_as_it_stands(as_admin, company):
    make_employee(company)
    run = service.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    assert listed_count(as_admin, run.id) == "1"
    make_employee(company, name="Björn Åkesson", personnummer="197002021234")
    service.sync_draft(run)
    db.session.commit()
    assert listed_count(as_admin, run.id) == "2"


def test_a_run_written_without_its_count_is_counted(as_admin, company, admin):
    """Runs written by bulk inserts (the status pages' tests, the benches' history) carry no count unless given one:
    the list counts them."""
    run_id = add_month(company, admin, add_employees(company, 7), date(2026, 10, 1))
    assert db.session.get(PayrollRun, run_id).payslip_count is None
    assert listed_count(as_admin, run_id) == "7"


def test_0023_counts_the_calculated_runs_and_goes_down_again(migrated_app):
    upgrade(revision="0022_blobs_stored_as_is")
    company = make_company()
    user = make_user(company, "admin")
    october = add_month(company, user, add_employees(company, 5), date(2026, 10, 1))
    db.session.execute(insert(PayrollRun), [dict(
        id=october + 1, company_id=company.id, period=date(2026, 11, 1), payout_date=date(2026, 11, 25),
        status="draft", employer_contribution_rate=Decimal("31.42"))])
    employee_id = db.session.scalar(select(Employee.id).limit(1))
    payslip_id = db.session.scalar(select(func.max(Payslip.id))) + 1  # add_month's ids moved no sequence
    db.session.execute(insert(Payslip), [dict(id=payslip_id, run_id=october + 1, employee_id=employee_id)])
    db.session.commit()
    db.session.remove()  # the session's PayrollRun mapping has the column the database has not yet

    upgrade(revision="0023_run_payslip_count")
    counts = dict(db.session.execute(sql("SELECT id, payslip_count FROM payroll_run")).all())
    assert counts == {october: 5, october + 1: None}
    db.session.remove()

    downgrade(revision="0022_blobs_stored_as_is")
    assert "payslip_count" not in {column["name"] for column in inspect(db.engine).get_columns("payroll_run")}
    assert db.session.execute(sql("SELECT count(*) FROM payslip")).scalar() == 6  # nothing else went with it
    db.session.remove()
    upgrade()
