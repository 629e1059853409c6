"""A new company's first steps, from signing up to its first payslips sent: what is done and what comes next. The
run list (where a company user lands) shows them until the first send, so a new admin is never left wondering what
to do."""
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import exists, select

from kivra.accounts.models import Company
from kivra.dispatch.models import PayslipSend
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.payroll.kivra_payload import missing_employer_details
from kivra.payroll.models import PayrollRun


class Step(StrEnum):
    CONFIRM_EMAIL = "confirm_email"  # a company that signed up: its first admin confirms the address
    COMPANY_DETAILS = "company_details"  # the address, e-mail and phone Kivra's payslips carry
    EMPLOYEES = "employees"
    FIRST_RUN = "first_run"
    SEND = "send"


@dataclass(frozen=True)
class FirstSteps:
    done: dict[Step, bool]
    latest_run_id: int | None  # the run to calculate and send from, once there is one

    @property
    def finished(self) -> bool:
        return self.done[Step.SEND]

    @property
    def next(self) -> Step | None:
        return next((step for step, done in self.done.items() if not done), None)


def first_steps(company: Company) -> FirstSteps:
    employees = db.session.scalar(select(exists().where(Employee.company_id == company.id)))
    latest_run_id = db.session.scalar(select(PayrollRun.id).where(PayrollRun.company_id == company.id)
                                      .order_by(PayrollRun.id.desc()).limit(1))
    sent = db.session.scalar(select(exists().where(PayslipSend.company_id == company.id)))
    done = {
        Step.CONFIRM_EMAIL: company.confirmed_at is not None,
        Step.COMPANY_DETAILS: not missing_employer_details(company),
        Step.EMPLOYEES: bool(employees),
        Step.FIRST_RUN: latest_run_id is not None,
        Step.SEND: bool(sent),
    }
    return FirstSteps(done, latest_run_id)
