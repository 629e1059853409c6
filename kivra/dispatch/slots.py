"""Payslips in flight to Kivra from this process: at most DISPATCH_WORKERS (`flask worker --threads`) at once.

A batch's thread builds its payloads (PDF, salary slip, JSON) and then sends them one by one; while it builds, it
sends nothing. With one thread per send at once, each send slot stood empty for that time: at 50 ms a call, about
15 % of it (docs/benchmarks.md, "Dispatch throughput"). The worker runs two more threads than it sends at once
(kivra/worker.py), and each content call takes one of these slots for its length, so the extra threads build while
the others wait for Kivra, and Kivra never sees more calls at once than configured. Unlimited outside a worker (tests,
`flask kivra` commands).
"""
import contextlib
import threading

_slots: threading.BoundedSemaphore | None = None


def limit(calls: int | None) -> None:
    """At most `calls` content calls at once in this process from now on (None: no limit)."""
    global _slots
    _slots = threading.BoundedSemaphore(calls) if calls else None


def slot() -> contextlib.AbstractContextManager:
    """Held for one content call: waits while every slot is taken."""
    return _slots if _slots is not None else contextlib.nullcontext()
