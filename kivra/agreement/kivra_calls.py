"""Kivra calls a page asks for and a worker makes: the wish is recorded (one open per company and kind), claimed once,
and its answer kept for the page to show. Nothing here calls Kivra; kivra/dispatch/kivra_jobs.py does, in the worker."""
from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from kivra.accounts.models import utcnow
from kivra.agreement.models import JOB_OPEN, JobState, KivraJob
from kivra.extensions import db


def open_job(company_id: int, kind: str) -> KivraJob | None:
    return db.session.scalar(select(KivraJob).where(
        KivraJob.company_id == company_id, KivraJob.kind == kind, KivraJob.state.in_(JOB_OPEN)))


def latest(company_id: int, kind: str) -> KivraJob | None:
    """The company's newest job of this kind, open or finished: what the page says about it."""
    return db.session.scalar(select(KivraJob).where(KivraJob.company_id == company_id, KivraJob.kind == kind)
                             .order_by(KivraJob.id.desc()).limit(1))


def request(company_id: int, kind: str, user_id: int | None = None) -> KivraJob:
    """The company's open job of this kind, recorded now unless one is open already (a double click joins it).
    Recording only: `kivra.dispatch.kivra_jobs.ask` records and tells a worker."""
    for _ in range(3):  # the other request's job may finish between our insert and our look
        job = open_job(company_id, kind)
        if job is not None:
            break
        db.session.add(KivraJob(company_id=company_id, kind=kind, state=JobState.QUEUED,
                                requested_by_id=user_id, requested_at=utcnow()))
        try:
            db.session.commit()
        except IntegrityError:  # the other tab recorded it a moment ago
            db.session.rollback()
    else:
        raise RuntimeError(f"no open {kind} job for company {company_id}")
    return job


def claim(job_id: int, lease_seconds: float) -> KivraJob | None:
    """Take the job if it waits, or if the worker that took it has not finished within the lease (killed)."""
    now = utcnow()
    taken = db.session.execute(
        update(KivraJob)
        .where(KivraJob.id == job_id, or_(
            KivraJob.state == JobState.QUEUED,
            and_(KivraJob.state == JobState.RUNNING, KivraJob.started_at <= now - timedelta(seconds=lease_seconds))))
        .values(state=JobState.RUNNING, started_at=now, attempts=KivraJob.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return db.session.get(KivraJob, job_id, populate_existing=True) if taken else None


def release(job_id: int) -> bool:
    """A stopping worker hands the job back: queued again, the attempt not counted."""
    released = db.session.execute(
        update(KivraJob).where(KivraJob.id == job_id, KivraJob.state == JobState.RUNNING)
        .values(state=JobState.QUEUED, started_at=None, attempts=KivraJob.attempts - 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(released)


def finish(job: KivraJob, found: int | None = None, total: int | None = None, error_code: str | None = None,
           correlation_id: str | None = None, error_message: str | None = None) -> KivraJob:
    job.state = JobState.FAILED if error_code else JobState.DONE
    job.found, job.total, job.finished_at = found, total, utcnow()
    job.error_code, job.correlation_id = error_code and error_code[:20], correlation_id and correlation_id[:64]
    job.error_message = error_message and error_message[:200]
    db.session.commit()
    return job


def overdue(grace_seconds: float, lease_seconds: float) -> list[int]:
    """Open jobs whose task seems lost: queued longer than the grace, or running past the lease."""
    now = utcnow()
    return list(db.session.scalars(select(KivraJob.id).where(or_(
        and_(KivraJob.state == JobState.QUEUED, KivraJob.requested_at <= now - timedelta(seconds=grace_seconds)),
        and_(KivraJob.state == JobState.RUNNING, KivraJob.started_at <= now - timedelta(seconds=lease_seconds)),
    )).order_by(KivraJob.id)))
