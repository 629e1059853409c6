"""Kivra housekeeping run from the command line or a scheduler: access checks and VLA imports."""
from datetime import datetime, timezone

from sqlalchemy import select

from kivra.accounts.models import Company, utcnow
from kivra.dispatch import service as dispatch
from kivra.extensions import db
from kivra.sender_api import KivraError
from kivra.sender_api.app import kivra_client
from kivra.solutions import agreement, onboarding
from kivra.solutions.models import KivraAgreement, KivraSender


def check_access() -> int:
    """For every company waiting for Kivra: ask again, then release or reroute its waiting payslips."""
    released = 0
    waiting = db.session.scalars(select(KivraSender).where(KivraSender.state.in_(("pending", "failed")))).all()
    for sender in waiting:
        company = db.session.get(Company, sender.company_id)
        try:
            onboarding.refresh(company, kivra_client())
        except KivraError:
            db.session.rollback()
            continue
        released += dispatch.release_waiting(company)
    return released


def import_vla(orgnr: str, approver: str, approved_on: datetime, scope: str) -> KivraAgreement:
    """The web payroll's agreement, as it was approved there; the company is marked as moved from VLA."""
    company = db.session.scalar(select(Company).where(Company.orgnr == orgnr))
    if company is None:
        raise LookupError(orgnr)
    current = agreement.in_force(company.id)
    if current is None:
        current = KivraAgreement(
            company_id=company.id, version="VLA", covers_payslips=scope in ("payslips", "both"),
            covers_invoices=scope in ("invoices", "both"), approved_by_name=approver,
            approved_at=approved_on.replace(tzinfo=timezone.utc), source="vla",
        )
        db.session.add(current)
    company.moved_from_vla_at = company.moved_from_vla_at or utcnow()
    db.session.commit()
    return current
