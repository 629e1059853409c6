"""The web payroll's (VLA) Kivra agreement, taken over as it was approved there."""
from datetime import datetime

from sqlalchemy import select

from kivra import agreement
from kivra.accounts.models import Company, utcnow
from kivra.agreement.models import AgreementSource, KivraAgreement
from kivra.clock import as_utc
from kivra.extensions import db


class AlreadyImported(ValueError):
    """The company already has an agreement in force or was imported before."""


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
        approved_at=as_utc(approved_on), source=AgreementSource.VLA,
    )
    db.session.add(imported)
    company.moved_from_vla_at = utcnow()
    db.session.commit()
    return imported
