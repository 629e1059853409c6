"""Short leases that live as long as their worker, and a sweep that finds lost rows while the queue is busy."""
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from kivra.accounts.models import utcnow
from kivra.dispatch import engine, leases, maintenance, service, tasks
from kivra.dispatch.models import Dispatch
from kivra.extensions import db
from kivra.payroll import service as payroll
from tests.dispatch.test_engine import NOT_USER, USER, calculated_run, ledger, rows, sender  # noqa: F401 - fixtures

pytestmark = pytest.mark.both_databases


def claimed_row(company, sender):
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    row_id = rows(run)[USER].id
    return run, engine.claim(row_id, engine.settings())


def test_a_claim_renewed_by_its_live_worker_is_not_taken_over_and_is_soon_after_it_dies(company, sender, kivra):
    _, first = claimed_row(company, sender)
    settings = engine.settings()
    lease, start = settings.lease, utcnow()
    with leases.holding(first.id, first.token):
        assert leases.renew(lease, now=start + lease * 0.9) == 1  # the worker's heartbeat, before the lease ran out
        # Past the first lease the worker still lives and renews: nobody takes the row over.
        assert engine.claim(first.id, settings, now=start + lease * 1.5) is None
        assert leases.renew(lease, now=start + lease * 1.8) == 1
    # The worker died (no more renewals): a lease later another worker takes the row over, once.
    assert engine.claim(first.id, settings, now=start + lease * 2.5) is None
    second = engine.claim(first.id, settings, now=start + lease * 2.9)
    assert second is not None and second.token != first.token and second.attempts == 2
    assert leases.renew(lease, now=start + lease * 3) == 0  # the dead worker's claims are not renewed
    assert not engine.finish(first, state="delivered")


def test_the_heartbeat_thread_renews_the_claims_this_process_holds(app, company, sender, kivra):
    app.config["DISPATCH_LEASE_SECONDS"] = 0.6
    _, row = claimed_row(company, sender)
    first_lease = db.session.scalar(select(Dispatch.lease_until).where(Dispatch.id == row.id))
    db.session.commit()
    stop = leases.start_heartbeat(app, lease_seconds=0.6)
    try:
        with leases.holding(row.id, row.token):
            deadline = time.monotonic() + 10
            while True:
                renewed = db.session.scalar(select(Dispatch.lease_until).where(Dispatch.id == row.id))
                db.session.commit()
                if renewed > first_lease:
                    break
                assert time.monotonic() < deadline, "the heartbeat did not renew the lease within 10 s"
                time.sleep(0.05)
    finally:
        stop.set()


def test_the_default_lease_is_short_and_renewed_several_times_within_it(app):
    lease = app.config["DISPATCH_LEASE_SECONDS"]
    assert lease <= 15
    assert leases.heartbeat_seconds(lease) <= lease / 3
    assert app.config["DISPATCH_SWEEP_SECONDS"] + lease <= 20  # a dead worker's rows move within 20 s


def busy_queue():
    """Other companies' payslips waiting in the queue."""
    for dispatch_id in range(100_000, 100_050):
        tasks.huey.enqueue(tasks.send_one.s(dispatch_id))
    assert tasks.huey.pending_count() >= 50


def lose_the_tasks(run, due_since: timedelta):
    """The send was routed and its rows rung, and then the worker holding the rings died: no task left for them."""
    tasks.drain(max_tasks=1)  # start_send: routed, Min lön published, a ring for each Kivra row…
    tasks.huey.flush()  # …lost
    db.session.execute(update(Dispatch).where(Dispatch.run_id == run.id).values(due_at=utcnow() - due_since))
    db.session.commit()


def test_the_sweep_finds_rows_whose_task_was_lost_while_the_queue_is_busy(app, company, sender, kivra):
    run = calculated_run(company, USER, NOT_USER)
    service.request_send(run, sender)
    lose_the_tasks(run, due_since=leases.lost_after(engine.settings().lease) + timedelta(seconds=1))
    busy_queue()
    assert maintenance.sweep() == 1  # the Kivra row; the Min lön row needed no task
    assert maintenance.sweep() == 0  # rung once: the next sweeps do not ring again while the ring waits its turn
    tasks.drain()
    assert rows(run)[USER].state == "delivered"
    assert ledger(kivra)["deliveries_per_recipient"] == {USER: 1}


def test_a_busy_queue_gets_no_second_ring_for_rows_that_are_merely_waiting_their_turn(app, company, sender, kivra):
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    lose_the_tasks(run, due_since=leases.lost_after(engine.settings().lease) - timedelta(seconds=5))
    busy_queue()
    assert maintenance.sweep() == 0


def test_a_row_still_waiting_its_turn_in_the_queue_is_not_rung_again_however_long_it_waits(app, company, sender,
                                                                                          kivra):
    """A big send's rows wait longer than `lost_after` behind each other: their rings are in the queue, and every
    worker's sweep used to ring for each again (a 20 000-payslip send's queue doubled at 45 s)."""
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    tasks.drain(max_tasks=1)  # start_send: routed, and its ring queued…
    assert [task.name for task in tasks.huey.pending()] == ["dispatch.send_rows"]
    busy_queue()
    db.session.execute(update(Dispatch).where(Dispatch.run_id == run.id)  # …waiting its turn for a long while
                       .values(due_at=utcnow() - leases.lost_after(engine.settings().lease) * 3))
    db.session.commit()
    assert maintenance.sweep() == 0
    rung = [task for task in tasks.huey.pending() if task.name == "dispatch.send_rows"]
    assert [task.args[0] for task in rung] == [[rows(run)[USER].id]]  # the one ring, not a second
    tasks.huey.flush()  # the ring is lost (taken by a worker that died); other companies' tasks still wait
    busy_queue()
    assert maintenance.sweep() == 1
    tasks.drain()
    assert rows(run)[USER].state == "delivered"
    assert ledger(kivra)["deliveries_per_recipient"] == {USER: 1}


def test_with_the_queue_empty_a_routed_row_is_rung_after_a_lease_and_an_unrouted_one_is_left_to_its_start_send(
        app, company, sender, kivra):
    routed_run = calculated_run(company, USER)
    service.request_send(routed_run, sender)
    lose_the_tasks(routed_run, due_since=engine.settings().lease * 2)  # routed by start_send, its ring lost
    waiting = payroll.create_run(company, date(2026, 12, 1), date(2026, 12, 25))
    payroll.calculate_run(waiting)
    service.request_send(waiting, sender)
    tasks.huey.flush()  # its start_send is still routing (a slow usermatch): the rows are not routed yet
    db.session.execute(update(Dispatch).where(Dispatch.run_id == waiting.id)
                       .values(due_at=utcnow() - engine.settings().lease * 2))
    db.session.commit()
    assert tasks.huey.pending_count() == 0
    assert maintenance.sweep() == 1
    tasks.drain()
    assert rows(routed_run)[USER].state == "delivered"
    assert rows(waiting)[USER].state == "queued"


def test_the_sweep_rings_for_a_dead_workers_claim_once_its_lease_ran_out(app, company, sender, kivra):
    run, first = claimed_row(company, sender)
    busy_queue()
    assert maintenance.sweep() == 0  # the lease runs: its worker may still be sending
    db.session.execute(update(Dispatch).where(Dispatch.id == first.id)
                       .values(lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert maintenance.sweep() == 1
    assert maintenance.sweep() == 0  # one ring is enough while it waits in the busy queue
    tasks.drain()
    row = rows(run)[USER]
    assert (row.state, row.attempts) == ("delivered", 2)


@pytest.mark.parametrize("lease", [3.0, 15.0])
def test_rows_are_called_lost_only_well_after_a_lease(lease):
    assert leases.lost_after(timedelta(seconds=lease)) >= timedelta(seconds=2 * lease)
