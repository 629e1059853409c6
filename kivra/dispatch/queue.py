"""The queue every task of the workers goes through: Huey on SQLite by default (no server), Redis with many worker
processes in production; and what wraps each task: an app context of its own, and a retry on a database or Redis
outage. The payslips' tasks (tasks.py) and the Kivra calls' (kivra_jobs.py) are both made with it."""
import os
from functools import wraps

from flask import Flask, current_app, has_app_context
from huey import Huey, MemoryHuey, PriorityRedisHuey, SqliteHuey

from kivra.config import huey_sqlite_path
from kivra.dispatch import outages
from kivra.dispatch.queue_memory import QueueMemory
from kivra.extensions import db


def make_huey(environ=os.environ) -> Huey:
    name = environ.get("HUEY_NAME", "kivra-payroll")
    if environ.get("REDIS_URL"):
        return PriorityRedisHuey(name, url=environ["REDIS_URL"], results=False, utc=True)
    if environ.get("HUEY_BACKEND") == "memory":  # the test suite drains it by hand
        return MemoryHuey(name, results=False, utc=True)
    path = huey_sqlite_path(environ)  # HUEY_SQLITE_PATH, else in the instance folder (INSTANCE_PATH)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return SqliteHuey(name, filename=path, results=False, utc=True, timeout=30)


huey = make_huey()
_bound: dict[str, Flask] = {}


def bind_app(app: Flask) -> None:
    """The app tasks run in, for a worker process (the web process only enqueues)."""
    _bound["app"] = app


def _app() -> Flask:
    """The app of the caller's context if there is one (tests draining the queue), else the worker's bound app."""
    if has_app_context():
        return current_app._get_current_object()
    if "app" not in _bound:
        raise RuntimeError("no app bound for dispatch tasks: call bind_app() in the worker")
    return _bound["app"]


def unbind_app() -> None:
    _bound.pop("app", None)


def in_app(fn):
    """Each task in its own app context, so its own database session, closed afterwards."""
    @wraps(fn)
    def inner(*args, **kwargs):
        with _app().app_context():
            try:
                return fn(*args, **kwargs)
            finally:
                db.session.remove()
    return inner


_queue = QueueMemory()
# A task that meets a database or Redis outage runs again after a pause, rather than waiting for the sweep.
on_outage = outages.retry_on_outage(lambda: _app().config["DISPATCH_OUTAGE_RETRY_SECONDS"], _queue.unreachable)
