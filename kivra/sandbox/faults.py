"""Injected trouble: latency, 5xx, timeouts before and after storing, 429 bursts, tokens that expire early.

All dice come from the state's one seeded `random.Random`, thrown under its lock, so a run can be replayed.
"""
import time

from flask import Flask, Response, current_app, g, request

from kivra.sandbox.errors import KivraApiError, error_response
from kivra.sandbox.state import SandboxState


def _state() -> SandboxState:
    return current_app.extensions["kivra_sandbox"]


def _roll(rate: float) -> bool:
    """One throw of the dice; no throw at all when the rate is zero, so unrelated settings keep their sequence."""
    if rate <= 0:
        return False
    sandbox = _state()
    with sandbox.lock:
        return sandbox.random.random() < rate


def init_app(app: Flask) -> None:
    @app.before_request
    def latency_and_server_errors():
        if request.path.startswith("/_sandbox"):
            return None
        faults = _state().faults
        if faults.latency_ms:
            g.answer_at = time.monotonic() + faults.latency_ms / 1000
        if _roll(faults.error_rate):
            return error_response(50000) if _roll(0.5) else error_response(50301)
        return None

    @app.after_request
    def latency(response: Response) -> Response:
        """The answer leaves `latency_ms` after the call arrived, the sandbox's own work inside that time, as a
        remote Kivra's work is inside the latency its client sees. Sleeping first and working after made each call
        last the latency plus the sandbox's work, and that work waits for this machine's cores and the sandbox's
        GIL: 57 ms a call for 50 ms at 250 calls a second (docs/benchmarks.md, "Dispatch throughput")."""
        answer_at = g.pop("answer_at", None)
        if answer_at is not None:
            time.sleep(max(0.0, answer_at - time.monotonic()))
        return response


def token_expires_early() -> bool:
    return _roll(_state().faults.early_token_expiry_rate)


def before_content() -> float:
    """Faults of the content endpoint that strike before processing; returns how long to hang after storing."""
    sandbox = _state()
    with sandbox.lock:
        faults = sandbox.faults
        position = sandbox.content_requests
        sandbox.content_requests += 1
    cycle = faults.burst_429_every + faults.burst_429_length
    if faults.burst_429_every and faults.burst_429_length and position % cycle >= faults.burst_429_every:
        raise KivraApiError(42900)
    if _roll(faults.timeout_before_rate):
        time.sleep(faults.hang_seconds)  # nothing is stored: the client's retry is the only copy
        raise KivraApiError(50400)
    return faults.hang_seconds if _roll(faults.timeout_after_rate) else 0.0
