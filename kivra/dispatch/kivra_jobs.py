"""The worker's side of the Kivra calls pages ask for (kivra_calls): registering the company or following its access
request, the register's usermatch, and the tenant's new name. A task carries a job id; the job row says whether
anything is left to do."""
import logging
import threading
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app

from kivra import agreement
from kivra.accounts.models import Company
from kivra.agreement import kivra_calls, onboarding
from kivra.agreement.models import JobKind, KivraJob
from kivra.dispatch import kivra_check, service as dispatch
from kivra.dispatch.leases import Rings
from kivra.dispatch.outages import OUTAGE_RETRIES
from kivra.dispatch.queue import huey, in_app, on_outage
from kivra.extensions import db
from kivra.sender_api import KivraClient, KivraError
from kivra.sender_api.app import kivra_client

log = logging.getLogger(__name__)
PRIORITY = 100  # ahead of a big send's rows: a person is watching the page
_in_hand: set[int] = set()  # the jobs this process is working on, handed back if it stops before they are done
_in_hand_lock = threading.Lock()
_rings = Rings()


@contextmanager
def in_hand(job_id: int):
    with _in_hand_lock:
        _in_hand.add(job_id)
    try:
        yield
    finally:
        with _in_hand_lock:
            _in_hand.discard(job_id)


def release_in_hand() -> list[int]:
    """A stopping worker hands back the jobs it has not finished; returns their ids, to ring for them."""
    with _in_hand_lock:
        held = sorted(_in_hand)
    return [job_id for job_id in held if kivra_calls.release(job_id)]


def perform(job_id: int, client: KivraClient) -> KivraJob | None:
    """Claim the job and ask Kivra; None if another worker has it (or it is done)."""
    job = kivra_calls.claim(job_id, current_app.config["KIVRA_JOB_LEASE_SECONDS"])
    if job is None:
        return None
    with in_hand(job.id):
        return _ask_kivra(job, client)


def _ask_kivra(job: KivraJob, client: KivraClient) -> KivraJob:
    job_id, company = job.id, db.session.get(Company, job.company_id)
    try:
        if job.kind == JobKind.ACCESS:  # register, or ask about the access request; then the sends that waited go
            return kivra_calls.finish(job, found=check_access(company, client))
        if job.kind == JobKind.TENANT_NAME:  # the company's new name (Företagsinställningar) as the tenant's
            onboarding.rename(company, client)
            return kivra_calls.finish(job)
        counts = kivra_check.check_kivra_users(company.id, client)
        return kivra_calls.finish(job, found=counts.get("user", 0), total=sum(counts.values()))
    except kivra_check.KivraNotActive:
        db.session.rollback()
        return kivra_calls.finish(job, error_code="not_active")
    except agreement.SoleTraderRefused:
        db.session.rollback()
        return kivra_calls.finish(job, error_code="sole_trader")
    except KivraError as error:
        db.session.rollback()
        log.warning("Kivra job %d (%s) for company %d: %s", job.id, job.kind, job.company_id, error)
        return kivra_calls.finish(job, error_code=str(error.code or "—"), correlation_id=error.correlation_id,
                                  error_message=error.long_message or error.short_message)
    except Exception:  # noqa: BLE001 - the page must not wait forever; the periodic check asks again
        db.session.rollback()
        log.exception("Kivra job %d (%s) failed", job_id, job.kind)
        return kivra_calls.finish(db.session.get(KivraJob, job_id), error_code="error")


def check_access(company: Company, client: KivraClient) -> int:
    """Ask Kivra again about a pending or failed registration, then route the sends that waited for it."""
    current = agreement.in_force(company.id)
    if onboarding.sender_of(company.id) is None and current is not None and current.covers_payslips:
        onboarding.register(company, client)  # e.g. an agreement taken over from the web payroll
    else:
        onboarding.refresh(company, client)
    return dispatch.settle_waiting(company)


@huey.task(name="kivra.run_job", retries=OUTAGE_RETRIES, context=True)
@on_outage
@in_app
def run_job(job_id: int) -> None:
    perform(job_id, kivra_client())


def ask(company_id: int, kind: str, user_id: int | None = None) -> KivraJob:
    """Record the company's Kivra call (or join the open one) and tell a worker; asking again rings again, which
    also covers a task lost with a killed worker."""
    job = kivra_calls.request(company_id, kind, user_id)
    ring(job.id)
    return job


def ring(job_id: int) -> None:
    """After the request's commit. If the queue is unreachable, the job stays recorded; the periodic check does it."""
    try:
        huey.enqueue(run_job.s(job_id, priority=PRIORITY))
    except Exception:  # noqa: BLE001
        log.exception("Kivra job %d could not be queued now; the periodic check will do it", job_id)


def ring_lost(forget: bool = False) -> int:
    """The sweep's part: ring for open jobs whose task seems lost (queued past the grace, or running past the lease),
    once per grace; `forget`: the queue lost its tasks, so ring for every open one now. Returns how many."""
    config = current_app.config
    if forget:
        _rings.forget()
    grace = 0 if forget else config["KIVRA_JOB_GRACE_SECONDS"]
    overdue = kivra_calls.overdue(grace, config["KIVRA_JOB_LEASE_SECONDS"])
    fresh = _rings.not_rung_within([(job_id, PRIORITY, "lost") for job_id in overdue],
                                   window=timedelta(seconds=max(config["KIVRA_JOB_GRACE_SECONDS"], 5)))
    for job_id, _ in fresh:
        huey.enqueue(run_job.s(job_id, priority=PRIORITY))
    return len(fresh)


def recover(client: KivraClient) -> list[KivraJob]:
    """Do the jobs whose task seems lost (queued too long, or left running by a killed worker)."""
    config = current_app.config
    overdue = kivra_calls.overdue(config["KIVRA_JOB_GRACE_SECONDS"], config["KIVRA_JOB_LEASE_SECONDS"])
    return [job for job in (perform(job_id, client) for job_id in overdue) if job is not None]
