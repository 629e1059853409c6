"""Health endpoints for a supervisor or load balancer: JSON, no sign-in, no personal data."""
from datetime import timedelta

from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from kivra.dispatch import heartbeat
from kivra.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def web():
    """This web process is up and its database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}


@bp.get("/healthz/workers")
def workers():
    """The dispatch workers: each one's last heartbeat, the queue's depth, the oldest due row. 503 when payslips are
    due and no worker was seen within WORKER_SILENT_SECONDS, or when the database or the queue does not answer."""
    from kivra.dispatch.tasks import huey

    try:
        depth = huey.pending_count()
    except Exception:  # noqa: BLE001 - Redis away: say so, do not fail the request
        depth = None
    try:
        report = heartbeat.workers_health(timedelta(seconds=current_app.config["WORKER_SILENT_SECONDS"]), depth)
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "unreachable", "queue_depth": depth}, 503
    body = {
        "status": "ok" if report.healthy else "unavailable",
        "workers": report.workers,
        "queue_depth": report.queue_depth,
        "oldest_due_seconds": report.oldest_due_seconds,
    }
    return body, 200 if report.healthy else 503
