"""`flask serve` keeps its worker child running: a child that dies is started again after a pause that doubles with
each quick death, up to a cap, and starts small again once a child has run a while. Stopping stops the child too."""
import logging
import signal
import subprocess
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)


class Backoff:
    """The pause before the next start: `first`, doubled after each child that died young, at most `cap`."""

    def __init__(self, first: float = 1.0, cap: float = 60.0, healthy_after: float = 60.0):
        self.first, self.cap, self.healthy_after = first, cap, healthy_after
        self.pause = 0.0

    def after(self, ran_for: float) -> float:
        """The pause after a child that ran `ran_for` seconds."""
        if ran_for >= self.healthy_after:
            self.pause = 0.0  # it was working: the next death is a new story
        self.pause = min(self.cap, self.pause * 2) if self.pause else self.first
        return self.pause


class Supervisor:
    """Start a child with `start_child`, watch it from a thread, start it again when it exits."""

    def __init__(self, name: str, start_child: Callable[[], subprocess.Popen], backoff: Backoff | None = None,
                 stop_signal: int = signal.SIGINT, stop_timeout: float = 10):
        self.name, self.start_child, self.backoff = name, start_child, backoff or Backoff()
        self.stop_signal, self.stop_timeout = stop_signal, stop_timeout
        self.stopping = threading.Event()
        self.restarts = 0
        self._lock = threading.Lock()
        self.child: subprocess.Popen | None = None
        self._started_at = 0.0
        self._thread = threading.Thread(target=self._watch, name=f"supervise-{name}", daemon=True)

    def start(self) -> "Supervisor":
        self._spawn()
        self._thread.start()
        return self

    def _spawn(self) -> None:
        with self._lock:
            if self.stopping.is_set():
                return
            self._started_at = time.monotonic()
            try:
                self.child = self.start_child()
            except OSError:
                log.exception("%s could not be started", self.name)
                self.child = None

    def _watch(self) -> None:
        while not self.stopping.is_set():
            child = self.child
            code = child.wait() if child is not None else None
            if self.stopping.is_set():
                return
            pause = self.backoff.after(time.monotonic() - self._started_at)
            log.warning("%s (pid %s) exited with %s; starting it again in %.1f s", self.name,
                        child.pid if child else "-", code, pause)
            if self.stopping.wait(pause):
                return
            self._spawn()
            if self.child is not None:
                self.restarts += 1
                log.warning("%s started again (pid %d)", self.name, self.child.pid)

    def stop(self) -> None:
        """No more restarts; the child finishes what it has in hand (SIGINT), or is killed after `stop_timeout`."""
        with self._lock:
            self.stopping.set()
            child = self.child
        if child is not None and child.poll() is None:
            child.send_signal(self.stop_signal)
            try:
                child.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self._thread.join(timeout=self.stop_timeout)
