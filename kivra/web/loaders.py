"""Company-scoped loaders every view uses: the thing asked for if it is the signed-in user's company's, 404 otherwise
(whoever else it belongs to, so a URL tells nothing about other companies)."""
from flask import abort
from flask_login import current_user

from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.payroll.models import PayrollRun, Payslip


def get_run(run_id: int) -> PayrollRun:
    run = db.session.get(PayrollRun, run_id)
    if run is None or run.company_id != current_user.company_id:
        abort(404)
    return run


def run_from(value) -> PayrollRun | None:
    """The payroll run a form or link came from (an id as text), if any; 404 if it is another company's."""
    if not value or not str(value).isdigit():
        return None
    return get_run(int(value))


def get_employee(employee_id: int) -> Employee:
    employee = db.session.get(Employee, employee_id)
    if employee is None or employee.company_id != current_user.company_id:
        abort(404)
    return employee


def get_payslip(payslip_id: int) -> Payslip:
    payslip = db.session.get(Payslip, payslip_id)
    if payslip is None or db.session.get(PayrollRun, payslip.run_id).company_id != current_user.company_id:
        abort(404)
    return payslip
