"""Whether the queue forgot what it held. Redis without persistence comes back empty from a restart, and a flush or a
failover loses every task: the rows are still in the outbox, but nothing rings for them. A key that lives as long as
the queue's contents tells: when it is gone, every due row is rung again at once (maintenance.sweep), whatever the queue
holds by now. An outage noticed by a task or the sweep counts too, since rings made meanwhile were refused."""
import threading
import uuid

from huey.storage import RedisStorage


class QueueMemory:
    """One per worker process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._unreachable = False

    def unreachable(self) -> None:
        """The queue refused a connection: once it is back, count what it should hold as lost."""
        with self._lock:
            self._unreachable = True

    def lost(self, storage) -> bool:
        """True when the queue may have lost tasks since the last call: this process found its epoch key missing
        (Redis restarted empty or was flushed; or the first look at a new queue) and made a new one, or the queue was
        unreachable meanwhile. A process that finds an epoch another made leaves the rings to that one."""
        if not isinstance(storage, RedisStorage):
            return False  # SQLite keeps its file; the memory queue is a test's own
        made = storage.conn.set(f"kivra.queue-epoch.{storage.name}", uuid.uuid4().hex, nx=True)
        with self._lock:
            lost, self._unreachable = bool(made) or self._unreachable, False
        return lost
