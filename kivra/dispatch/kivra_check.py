"""Asking Kivra now which employees are Kivra users (the register's "Check now"), as a send's usermatch does."""
from datetime import date

from sqlalchemy import select

from kivra import agreement, clock
from kivra.agreement import onboarding
from kivra.agreement.models import SenderState
from kivra.dispatch import routing
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.sender_api import KivraClient


class KivraNotActive(ValueError):
    """The company has no Kivra agreement for payslips in force, or Kivra has not granted access yet."""


def require_active(company_id: int):
    """The company's Kivra sender, if Kivra may be asked for its payslips; KivraNotActive otherwise."""
    current, sender = agreement.in_force(company_id), onboarding.sender_of(company_id)
    if current is None or not current.covers_payslips or sender is None or sender.state != SenderState.ACTIVE:
        raise KivraNotActive(company_id)
    return sender


def check_kivra_users(company_id: int, client: KivraClient, today: date | None = None) -> dict[str, int]:
    """One batched usermatch for the company's employees (those still employed), each answer stored with its time.
    Returns how many have each status. Raises KivraNotActive, or Kivra's own error."""
    sender = require_active(company_id)
    today = today or clock.today_in_sweden()
    numbers = dict(db.session.execute(
        select(Employee.id, Employee.personnummer)
        .where(Employee.company_id == company_id,
               (Employee.employment_end.is_(None)) | (Employee.employment_end >= today))).all())
    matched = client.usermatch(sender.tenant_key, sorted(set(numbers.values()))) if numbers else set()
    routing.record_kivra_status(numbers, matched)
    db.session.commit()
    counts: dict[str, int] = {}
    for number in numbers.values():
        status = routing.kivra_status(number, matched)
        counts[status] = counts.get(status, 0) + 1
    return counts
