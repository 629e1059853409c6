"""`flask demo` makes Demo AB as the README promises, once."""
from sqlalchemy import select

from kivra.accounts.models import Company, User
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.identity import parse_personnummer as parse
from kivra.payroll.models import PayrollRun


def test_demo_command_creates_demo_ab_once(app):
    runner = app.test_cli_runner()
    assert "created" in runner.invoke(args=["demo"]).output
    assert "already" in runner.invoke(args=["demo"]).output
    company = db.session.scalar(select(Company))
    assert company.name == "Demo AB" and company.vat_number == "SE556840226601"
    employees = db.session.scalars(select(Employee)).all()
    assert len(employees) == 25
    numbers = [parse(e.personnummer) for e in employees]  # every one valid
    assert sum(n.is_coordination_number for n in numbers) == 1
    assert sum(e.email is None for e in employees) == 1
    run = db.session.scalar(select(PayrollRun))
    assert not run.is_draft and len(run.payslips) == 25


def test_demo_logins_from_the_readme_work(app):
    app.test_cli_runner().invoke(args=["demo"])
    users = {u.email: u for u in db.session.scalars(select(User))}
    assert users["admin@demo.se"].role == "admin" and users["admin@demo.se"].check_password("demo-admin")
    assert users["lon@demo.se"].role == "payroll" and users["lon@demo.se"].check_password("demo-lon")
