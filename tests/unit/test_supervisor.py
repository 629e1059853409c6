"""The supervisor `flask serve` runs its worker under: restart after a death, with a backoff that doubles, is
capped, and starts over once a child has run a while; after stop, no restart, and the child is gone."""
import subprocess
import sys
import time

from kivra.supervisor import Backoff, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def test_backoff_doubles_for_children_that_die_young_up_to_the_cap():
    backoff = Backoff(first=1, cap=8, healthy_after=60)
    assert [backoff.after(ran_for=2) for _ in range(6)] == [1, 2, 4, 8, 8, 8]


def test_backoff_starts_small_again_after_a_child_that_ran_a_while():
    backoff = Backoff(first=1, cap=60, healthy_after=60)
    for _ in range(5):
        backoff.after(ran_for=1)
    assert backoff.after(ran_for=3600) == 1
    assert backoff.after(ran_for=1) == 2


def wait_until(condition, seconds=10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_a_killed_child_is_started_again_and_stop_ends_it_for_good():
    supervisor = Supervisor("sleeper", lambda: subprocess.Popen(SLEEPER), Backoff(first=0.05, cap=0.2))
    supervisor.start()
    try:
        first = supervisor.child
        first.kill()
        assert wait_until(lambda: supervisor.child is not first and supervisor.child.poll() is None)
        assert supervisor.restarts == 1
    finally:
        supervisor.stop()
    last = supervisor.child
    assert last.poll() is not None, "the child outlived its supervisor"
    time.sleep(0.3)  # longer than the backoff: had the supervisor restarted, a new child would be here
    assert supervisor.child is last and supervisor.restarts == 1


def test_a_child_that_cannot_start_is_tried_again():
    attempts = []

    def start():
        attempts.append(1)
        if len(attempts) < 3:
            raise FileNotFoundError("no such program")
        return subprocess.Popen(SLEEPER)

    supervisor = Supervisor("flaky", start, Backoff(first=0.01, cap=0.05)).start()
    try:
        assert wait_until(lambda: supervisor.child is not None and supervisor.child.poll() is None)
        assert len(attempts) == 3
    finally:
        supervisor.stop()
