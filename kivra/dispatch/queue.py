"""The queue every task of the workers goes through, and what wraps each task: an app context of its own, and a retry
on a database or Redis outage. The payslips' tasks (tasks.py) and the Kivra calls' (kivra_jobs.py) are both made with
it. Which queue — SQLite by default (no server), Redis with many worker processes in production, memory in tests — is
the app's config (QUEUE_URL, HUEY_NAME), followed call by call (kivra/dispatch/app_queue.py)."""
from functools import wraps

from huey import Huey

from kivra.dispatch import outages
from kivra.dispatch.app_queue import AppStorage, app as _app
from kivra.dispatch.queue_memory import QueueMemory
from kivra.extensions import db

# One Huey for the process, its tasks declared on it at import; each call reaches the queue the app in hand's config
# names, so nothing here reads the environment or opens a queue at import.
huey = Huey("kivra-payroll", results=False, utc=True, storage_class=AppStorage)


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
