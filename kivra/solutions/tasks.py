"""Kivra housekeeping run from the command line or a scheduler: access checks and VLA imports."""
from datetime import datetime, timezone

from sqlalchemy import select

from kivra.accounts.models import Company, utcnow
from kivra.dispatch import service as dispatch
from kivra.extensions import db
from kivra.sender_api.app import kivra_client
from kivra.solutions import activation, agreement
from kivra.solutions.models import KivraAgreement, KivraSender


class AlreadyImported(ValueError):
    """The company already has an agreement in force or was imported before."""


def check_access() -> int:
    """For every company waiting for Kivra: ask again, then send on or reroute its waiting payslips."""
    unsettled = set(db.session.scalars(select(KivraSender.company_id).where(KivraSender.state.in_(("pending", "failed")))))
    unsettled.update(dispatch.waiting_companies())
    released = 0
    for company_id in sorted(unsettled):
        released += activation.check_access(db.session.get(Company, company_id), kivra_client())
    return released


def import_vla(orgnr: str, approver: str, approved_on: datetime, scope: str) -> KivraAgreement:
    """The web payroll's agreement, as it was approved there; the company is marked as moved from VLA."""
    company = db.session.scalar(select(Company).where(Company.orgnr == orgnr))
    if company is None:
        raise LookupError(orgnr)
    if company.moved_from_vla_at is not None or agreement.in_force(company.id) is not None:
        raise AlreadyImported(orgnr)  # never overwrite an approval record
    imported = KivraAgreement(
        company_id=company.id, version="VLA", covers_payslips=scope in ("payslips", "both"),
        covers_invoices=scope in ("invoices", "both"), approved_by_name=approver,
        approved_at=approved_on.replace(tzinfo=timezone.utc), source="vla",
    )
    db.session.add(imported)
    company.moved_from_vla_at = utcnow()
    db.session.commit()
    return imported
