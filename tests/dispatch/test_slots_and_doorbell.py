"""A worker sends at most DISPATCH_WORKERS payslips at once, with two more threads building meanwhile
(kivra/dispatch/slots.py); and its idle threads wake as soon as it queues work or one of them finds work, not at their
next poll (kivra/dispatch/doorbell.py)."""
import threading
import time

import pytest

from kivra.dispatch import batch, doorbell, engine, service, slots, tasks
from kivra.sender_api.app import kivra_client
from kivra.sender_api.client import KivraClient
from kivra.worker import _watch, consumer_threads
from tests.dispatch.test_batch import ids_of, not_stopping, routed_run, users  # noqa: F401 - fixtures
from tests.dispatch.test_engine import calculated_run, ledger, rows, sender  # noqa: F401 - `sender` is a fixture


@pytest.fixture
def limited():
    yield slots.limit
    slots.limit(None)


@pytest.mark.both_databases
def test_a_worker_has_more_threads_than_payslips_in_flight_and_never_more_in_flight(app, company, sender, kivra,
                                                                                   users, limited, monkeypatch):
    """Three threads, each with a batch, and two slots: two calls at once at most, whoever holds which batch, and
    every payslip delivered once."""
    in_flight, most, lock = [0], [0], threading.Lock()
    send_content = KivraClient.send_content

    def counted(self, tenant_key, body):
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        try:
            time.sleep(0.02)  # long enough for the three threads' calls to overlap
            return send_content(self, tenant_key, body)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(KivraClient, "send_content", counted)
    run = calculated_run(company, *users)
    service.request_send(run, sender)
    tasks.drain(max_tasks=1)  # the start: routed, three tasks rung (10, 10 and 5 rows)
    batches = [tasks.huey.dequeue() for _ in range(3)]
    assert [task.name for task in batches] == ["dispatch.send_rows"] * 3 and tasks.huey.dequeue() is None
    limited(2)

    def work(task):
        with app.app_context():
            tasks.huey.execute(task)

    threads = [threading.Thread(target=work, args=(task,)) for task in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert most[0] == 2
    assert {row.state for row in rows(run).values()} == {"delivered"}
    assert ledger(kivra)["deliveries_per_recipient"] == dict.fromkeys(users, 1)


def test_the_worker_runs_two_more_threads_than_it_sends_at_once():
    assert [consumer_threads(sends) for sends in (1, 8, 32)] == [3, 10, 34]


def test_without_a_limit_a_slot_never_waits():
    slots.limit(None)
    with slots.slot(), slots.slot():  # held twice in one thread: no semaphore to wait on
        pass


def _idle_thread(stop: threading.Event, delay: float = 5.0) -> tuple[doorbell.WakingWorker, threading.Thread, list]:
    """A consumer thread that has found the queue empty for a while: its next poll is `delay` away."""
    worker = doorbell.WakingWorker(tasks.huey, stop, default_delay=0.05, max_delay=delay, backoff=1.5)
    worker.delay, worker._seen = delay, doorbell.doorbell.wait(-1, 0)  # it has seen every ring so far
    slept: list[float] = []

    def sleep():
        started = time.monotonic()
        worker.sleep()
        slept.append(time.monotonic() - started)

    thread = threading.Thread(target=sleep)
    return worker, thread, slept


def test_an_idle_thread_wakes_as_soon_as_its_process_queues_a_task(app):
    """A send's start rings for its rows from inside the worker: its idle threads take them at once, not up to half
    a second later each (Huey's own thread slept until its next poll whatever was queued)."""
    worker, thread, slept = _idle_thread(threading.Event())
    thread.start()
    time.sleep(0.1)
    tasks.huey.enqueue(tasks.send_one.s(1))
    thread.join(2)
    tasks.huey.flush()
    assert not thread.is_alive() and slept[0] < 1.0, slept
    assert worker.delay == 0.05  # its next polls come soon: the task is stored just after the ring


def test_a_ring_between_an_empty_poll_and_the_sleep_is_not_missed():
    worker, thread, slept = _idle_thread(threading.Event())
    doorbell.doorbell.ring()  # the task came after the poll found the queue empty, before the thread slept
    thread.start()
    thread.join(2)
    assert not thread.is_alive() and slept[0] < 0.5, slept


def test_a_stopping_worker_wakes_its_idle_threads():
    stop = threading.Event()
    _, thread, slept = _idle_thread(stop)
    thread.start()
    _watch(stop)
    time.sleep(0.1)
    stop.set()
    thread.join(2)
    try:
        assert not thread.is_alive() and slept[0] < 1.0, slept
    finally:
        batch.stopping.clear()


def test_an_idle_thread_with_nothing_queued_waits_its_delay_and_backs_off():
    worker, thread, slept = _idle_thread(threading.Event(), delay=0.2)
    worker.max_delay = 0.5
    thread.start()
    thread.join(2)
    assert 0.1 <= slept[0] < 0.5, slept  # between half its delay and the whole (jittered)
    assert worker.delay == pytest.approx(0.3)


def test_idle_threads_spread_their_polls_over_half_their_delay_to_the_whole(monkeypatch):
    """Threads woken by one ring used to back off in step and poll all at once, every half second: a process then
    looked at the queue twice a second, however many threads it had, and found the web's start task up to half a
    second late. Each wait is now drawn between half the delay and the whole."""
    waits: list[float] = []
    monkeypatch.setattr(doorbell.doorbell, "wait", lambda seen, timeout: waits.append(timeout) or seen)
    worker = doorbell.WakingWorker(tasks.huey, threading.Event(), default_delay=0.05, max_delay=0.5, backoff=1.5)
    for _ in range(50):
        worker.delay = 0.5
        worker.sleep()
    assert all(0.25 <= wait <= 0.5 for wait in waits)
    assert max(waits) - min(waits) > 0.1  # 50 draws: spread, not in step


def _rings() -> int:
    return doorbell.doorbell.wait(-1, 0)


def test_a_thread_that_finds_work_after_an_empty_poll_wakes_its_idle_siblings(app):
    """Work another process queued (the web's start task, a sweep) is found by one thread at its poll; that thread
    wakes the process's other idle threads, so they look too rather than each at its own next poll."""
    tasks.huey.enqueue(tasks.send_one.s(10**9))  # queued before the sibling sleeps: its own ring is not the wake-up
    sibling, thread, slept = _idle_thread(threading.Event())
    finder = doorbell.WakingWorker(tasks.huey, threading.Event(), default_delay=0.01, max_delay=0.01, backoff=1.5)
    finder._seen = _rings()

    def find():
        with app.app_context():
            finder.sleep()  # its last poll found nothing, and no ring came while it waited
            finder.loop()  # this poll finds the task and runs it

    thread.start()
    time.sleep(0.1)
    finding = threading.Thread(target=find)
    finding.start()
    finding.join(5)
    thread.join(2)
    assert not thread.is_alive() and slept[0] < 1.0, slept
    assert tasks.huey.dequeue() is None  # the finder ran it


def test_a_busy_thread_taking_its_next_task_wakes_nobody(app):
    """A thread going from one task to the next rings nothing: with every thread busy, a ring per task would only
    cost, and idle threads are woken by the work's arrival, not by each task taken."""
    tasks.huey.enqueue(tasks.send_one.s(10**9))
    busy = doorbell.WakingWorker(tasks.huey, threading.Event(), default_delay=0.01, max_delay=0.01, backoff=1.5)
    rings = _rings()

    def work():
        with app.app_context():
            busy.loop()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(5)
    assert tasks.huey.dequeue() is None and _rings() == rings


@pytest.mark.both_databases
def test_a_wait_for_a_slot_is_not_taken_for_a_slow_kivra(company, sender, kivra, users, limited, monkeypatch):
    """The batch's slow-Kivra rule hands its rows back at once when Kivra's calls take half a second or more. Waiting
    for a slot (the process's other sends busy) is not Kivra being slow: with tasks waiting, the batch keeps its rows,
    as for a busy CPU. Counted as call time, a 2 s wait for the first slot handed back the other three rows."""
    run = routed_run(company, sender, users[:4])
    client, now = kivra_client(), [0.0]
    monkeypatch.setattr(batch, "_clock", lambda: now[0])
    limited(1)

    class Slot:  # the only slot, taken by another send for 2 s before this batch's first call gets it
        def __enter__(self):
            if not now[0]:
                now[0] += 2.0

        def __exit__(self, *_):
            return False

    monkeypatch.setattr(slots, "slot", Slot)
    tasks.huey.enqueue(tasks.send_one.s(10**9))  # other work waits in the queue
    assert batch.process_many(ids_of(run), client) == [(row_id, engine.Attempt("delivered")) for row_id in ids_of(run)]
    tasks.huey.flush()
