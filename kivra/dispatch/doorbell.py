"""Wakes this process's idle consumer threads as soon as there is work for them, instead of at their next poll.

On the SQLite queue an idle consumer thread polls, waiting longer after each empty poll (up to half a second). A send's
start task queues a task for every ten rows, and the worker's other threads, idle until then, found them only at their
next poll: up to half a second, each, before the send's first payslips left (docs/benchmarks.md, "Dispatch
throughput"). So:
- a task queued in this process (a send's rows rung, rows handed back, a sweep's ring) wakes them at once;
- work another process queued (the web's start task, its sends' rows) is found by one thread at its poll, and that
  thread, idle until then, wakes the others;
- idle threads spread their polls (each wait drawn between half its delay and the whole): woken together, they would
  otherwise back off in step and look at the queue all at once, twice a second.
On Redis the threads block on the queue itself and never poll.
"""
import random
import threading

from huey.consumer import Consumer, Worker
from huey.signals import SIGNAL_ENQUEUED, SIGNAL_EXECUTING

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
_thread = threading.local()


@huey.signal(SIGNAL_ENQUEUED)
def _queued(_signal, _task, *_args, **_kwargs) -> None:
    # Sent just before the task is stored: a thread woken now may poll too early, so a ring also sets its delay back
    # to the first (50 ms), and its next polls come soon after.
    doorbell.ring()


@huey.signal(SIGNAL_EXECUTING)
def _found(_signal, _task, *_args, **_kwargs) -> None:
    # A thread that found a task at its own poll, idle until then, may be the first to see work another process
    # queued: it wakes its idle siblings, so they look too instead of each at its own next poll.
    if getattr(_thread, "idle", False):
        _thread.idle = False
        doorbell.ring()


class WakingWorker(Worker):
    """Huey's consumer thread, its idle wait cut short by a ring (or the worker's stop, which rings too)."""

    _seen = 0

    def sleep(self) -> None:
        # Jittered: threads woken by the same ring would otherwise keep polling in step, all at once every half second.
        rings = doorbell.wait(self._seen, min(self.delay, self.max_delay) * random.uniform(0.5, 1.0))
        if rings != self._seen:  # rung since this thread last slept, perhaps just before it found the queue empty
            self._seen, self.delay = rings, self.default_delay
            _thread.idle = False  # the others were rung too
        else:
            self.delay = min(self.delay, self.max_delay) * self.backoff
            _thread.idle = True  # work its next poll finds, no other thread here may know of yet


class WakingConsumer(Consumer):
    worker_class = WakingWorker
