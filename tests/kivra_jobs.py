"""What a worker does with the Kivra calls pages asked for, and only that: sends stay queued for the test to look at."""
from sqlalchemy import select

from kivra.agreement.models import JOB_OPEN, KivraJob
from kivra.dispatch import kivra_jobs as jobs
from kivra.extensions import db
from kivra.sender_api.app import kivra_client


def run_kivra_jobs() -> int:
    """Do every open Kivra job now, in this thread. Returns how many there were."""
    waiting = db.session.scalars(select(KivraJob.id).where(KivraJob.state.in_(JOB_OPEN)).order_by(KivraJob.id)).all()
    for job_id in waiting:
        jobs.perform(job_id, kivra_client())
    db.session.expire_all()
    return len(waiting)
