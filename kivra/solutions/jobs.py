"""The worker's side of the Kivra calls pages ask for (kivra_calls): registering the company or following its access
request, and the register's usermatch. A task carries a job id; the job row says whether anything is left to do."""
import logging

from flask import current_app

from kivra.accounts.models import Company
from kivra.dispatch.tasks import huey, in_app
from kivra.employees import kivra_check
from kivra.extensions import db
from kivra.sender_api import KivraClient, KivraError
from kivra.sender_api.app import kivra_client
from kivra.solutions import activation, kivra_calls
from kivra.solutions.models import KivraJob

log = logging.getLogger(__name__)
PRIORITY = 100  # ahead of a big send's rows: a person is watching the page


def perform(job_id: int, client: KivraClient) -> KivraJob | None:
    """Claim the job and ask Kivra; None if another worker has it (or it is done)."""
    job = kivra_calls.claim(job_id, current_app.config["KIVRA_JOB_LEASE_SECONDS"])
    if job is None:
        return None
    company = db.session.get(Company, job.company_id)
    try:
        if job.kind == "access":  # register, or ask about the access request; then the sends that waited go
            return kivra_calls.finish(job, found=activation.check_access(company, client))
        counts = kivra_check.check_kivra_users(company.id, client)
        return kivra_calls.finish(job, found=counts.get("user", 0), total=sum(counts.values()))
    except kivra_check.KivraNotActive:
        db.session.rollback()
        return kivra_calls.finish(job, error_code="not_active")
    except KivraError as error:
        db.session.rollback()
        log.warning("Kivra job %d (%s) for company %d: %s", job.id, job.kind, job.company_id, error)
        return kivra_calls.finish(job, error_code=str(error.code or "—"), correlation_id=error.correlation_id)
    except Exception:  # noqa: BLE001 - the page must not wait forever; the periodic check asks again
        db.session.rollback()
        log.exception("Kivra job %d (%s) failed", job_id, job.kind)
        return kivra_calls.finish(db.session.get(KivraJob, job_id), error_code="error")


@huey.task(name="kivra.run_job")
@in_app
def run_job(job_id: int) -> None:
    perform(job_id, kivra_client())


def ring(job_id: int) -> None:
    """After the request's commit. If the queue is unreachable, the job stays recorded; the periodic check does it."""
    try:
        huey.enqueue(run_job.s(job_id, priority=PRIORITY))
    except Exception:  # noqa: BLE001
        log.exception("Kivra job %d could not be queued now; the periodic check will do it", job_id)


def recover(client: KivraClient) -> list[KivraJob]:
    """Do the jobs whose task seems lost (queued too long, or left running by a killed worker)."""
    config = current_app.config
    overdue = kivra_calls.overdue(config["KIVRA_JOB_GRACE_SECONDS"], config["KIVRA_JOB_LEASE_SECONDS"])
    return [job for job in (perform(job_id, client) for job_id in overdue) if job is not None]
