"""Kivra housekeeping run from the command line or a scheduler: access checks and VLA imports."""
import logging
from datetime import datetime, timezone

from sqlalchemy import select

from kivra.accounts.models import Company, utcnow
from kivra.dispatch import service as dispatch
from kivra.extensions import db
from kivra.sender_api.app import kivra_client
from kivra.solutions import activation, agreement, jobs, kivra_calls
from kivra.solutions.models import AgreementSource, JobKind, KivraAgreement, KivraSender, SenderState

log = logging.getLogger(__name__)


class AlreadyImported(ValueError):
    """The company already has an agreement in force or was imported before."""


def check_access() -> int:
    """For every company waiting for Kivra: ask again, then send on or reroute its waiting payslips. A Kivra call a
    page asked for whose task was lost is made here too. Returns how many waiting sends were released."""
    unsettled = set(db.session.scalars(select(KivraSender.company_id).where(
        KivraSender.state.in_((SenderState.PENDING, SenderState.FAILED)))))
    unsettled.update(dispatch.waiting_companies())
    client, released = kivra_client(), 0
    for company_id in sorted(unsettled):
        try:
            asked = kivra_calls.open_job(company_id, JobKind.ACCESS)
            if asked is not None:  # a page asked: do that job, unless a worker has it in hand
                done = jobs.perform(asked.id, client)
                released += (done.found or 0) if done is not None else 0
            else:
                released += activation.check_access(db.session.get(Company, company_id), client)
        except Exception:  # noqa: BLE001 - one company's odd answer must not stop the others' checks
            log.exception("Kivra access check for company %d failed; asked again next round", company_id)
            db.session.rollback()
    try:
        released += sum(job.found or 0 for job in jobs.recover(client) if job.kind == JobKind.ACCESS)
    except Exception:  # noqa: BLE001 - next round
        log.exception("recovering lost Kivra jobs failed; tried again next round")
        db.session.rollback()
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
        approved_at=approved_on.replace(tzinfo=timezone.utc), source=AgreementSource.VLA,
    )
    db.session.add(imported)
    company.moved_from_vla_at = utcnow()
    db.session.commit()
    return imported
