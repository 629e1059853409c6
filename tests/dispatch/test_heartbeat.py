"""Each worker process keeps one heartbeat row: written at start, renewed, pruned once a day old, gone on exit."""
import os
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from kivra.accounts.models import utcnow
from kivra.clock import as_utc
from kivra.dispatch import heartbeat
from kivra.dispatch.heartbeat import WorkerHeartbeat
from kivra.extensions import db

pytestmark = pytest.mark.both_databases


def rows() -> list[WorkerHeartbeat]:
    db.session.expire_all()
    return db.session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.id)).all()


def test_a_beat_writes_this_process_once_and_renews_it(app):
    first = heartbeat.beat()
    [row] = rows()
    assert row.pid == os.getpid() and row.name.endswith(f":{os.getpid()}")
    db.session.execute(update(WorkerHeartbeat).values(seen_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    assert heartbeat.beat(first) == first
    [row] = rows()
    assert as_utc(row.seen_at) > utcnow() - timedelta(seconds=5)
    assert as_utc(row.started_at) < as_utc(row.seen_at)


def test_a_row_pruned_meanwhile_is_written_again_and_an_old_namesake_replaced(app):
    old = heartbeat.beat()
    heartbeat.goodbye(old)
    assert rows() == []
    renewed = heartbeat.beat(old)
    assert [row.id for row in rows()] == [renewed]
    again = heartbeat.beat()  # a new process with a reused pid: the dead one's row goes
    assert [row.id for row in rows()] == [again]


def test_workers_unseen_for_a_day_are_forgotten(app):
    now = utcnow()
    db.session.add_all([
        WorkerHeartbeat(name="a:1", host="a", pid=1, started_at=now, seen_at=now - timedelta(hours=25)),
        WorkerHeartbeat(name="b:2", host="b", pid=2, started_at=now, seen_at=now - timedelta(hours=23)),
    ])
    db.session.commit()
    assert heartbeat.prune() == 1
    assert [row.name for row in rows()] == ["b:2"]


def test_silence_counts_from_the_freshest_worker(app):
    assert heartbeat.silent(timedelta(minutes=1))  # none ever seen
    now = utcnow()
    db.session.add(WorkerHeartbeat(name="a:1", host="a", pid=1, started_at=now, seen_at=now - timedelta(minutes=3)))
    db.session.commit()
    assert heartbeat.silent(timedelta(minutes=1)) and not heartbeat.silent(timedelta(minutes=5))
    heartbeat.beat()
    assert not heartbeat.silent(timedelta(minutes=1))


def test_the_thread_beats_until_stopped_and_then_says_goodbye(app):
    beating = heartbeat.start(app, every_seconds=0.05)
    try:
        [row] = rows()  # written before start() returns: the worker is listed before its first task
        first_seen = as_utc(row.seen_at)
        deadline = time.monotonic() + 10
        while as_utc(rows()[0].seen_at) == first_seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert as_utc(rows()[0].seen_at) > first_seen
    finally:
        beating.stop()
    assert not beating.thread.is_alive()
    assert rows() == []
