"""The periodic Kivra access check, run by each worker and from the command line."""
import logging

from sqlalchemy import select

from kivra.accounts.models import Company
from kivra.agreement import kivra_calls
from kivra.agreement.models import JobKind, KivraSender, SenderState
from kivra.dispatch import kivra_jobs as jobs, service as dispatch
from kivra.extensions import db
from kivra.sender_api.app import kivra_client

log = logging.getLogger(__name__)


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
                released += jobs.check_access(db.session.get(Company, company_id), client)
        except Exception:  # noqa: BLE001 - one company's odd answer must not stop the others' checks
            log.exception("Kivra access check for company %d failed; asked again next round", company_id)
            db.session.rollback()
    try:
        released += sum(job.found or 0 for job in jobs.recover(client) if job.kind == JobKind.ACCESS)
    except Exception:  # noqa: BLE001 - next round
        log.exception("recovering lost Kivra jobs failed; tried again next round")
        db.session.rollback()
    return released
