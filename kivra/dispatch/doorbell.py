"""Wakes this process's idle consumer threads as soon as it queues work, instead of at their next poll.

On the SQLite queue an idle consumer thread polls, waiting longer after each empty poll (up to half a second). A send's
start task queues a task for every ten rows, and the worker's other threads, idle until then, found them only at their
next poll: up to half a second, each, before the send's first payslips left (docs/benchmarks.md, "Dispatch
throughput"). A task queued in this process (a send's rows rung, rows handed back, a sweep's ring) now wakes them at
once. Tasks queued by another process (the web's start task) are still found at the next poll; on Redis the threads
block on the queue itself and never poll.
"""
import threading

from huey.consumer import Consumer, Worker
from huey.signals import SIGNAL_ENQUEUED

from kivra.dispatch.queue import huey


class Doorbell:
    """A count of rings: a thread waits until the count moves on from the last it saw, or for its poll's delay."""

    def __init__(self) -> None:
        self._rung = threading.Condition()
        self._rings = 0

    def ring(self) -> None:
        with self._rung:
            self._rings += 1
            self._rung.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """Returns the count of rings now: `seen` if none came within `timeout`."""
        with self._rung:
            self._rung.wait_for(lambda: self._rings != seen, timeout)
            return self._rings


doorbell = Doorbell()


@huey.signal(SIGNAL_ENQUEUED)
def _queued(_signal, _task, *_args, **_kwargs) -> None:
    # Sent just before the task is stored: a thread woken now may poll too early, so a ring also sets its delay back
    # to the first (50 ms), and its next polls come soon after.
    doorbell.ring()


class WakingWorker(Worker):
    """Huey's consumer thread, its idle wait cut short by a ring (or the worker's stop, which rings too)."""

    _seen = 0

    def sleep(self) -> None:
        rings = doorbell.wait(self._seen, min(self.delay, self.max_delay))
        if rings != self._seen:  # rung since this thread last slept, perhaps just before it found the queue empty
            self._seen, self.delay = rings, self.default_delay
        else:
            self.delay = min(self.delay, self.max_delay) * self.backoff


class WakingConsumer(Consumer):
    worker_class = WakingWorker
