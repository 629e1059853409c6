"""Many workers routing one send at once on PostgreSQL (its usermatch failed, so each row routes itself), with the
worker's heartbeat renewing their claims: every row routed once and sent in one attempt, no deadlock."""
import threading

import pytest
from sqlalchemy import event

from kivra.dispatch import engine, leases, service
from kivra.extensions import db
from kivra.sender_api.app import kivra_client
from tests.dispatch.test_engine import NUMBERS, USER, calculated_run, ledger, rows, sender  # noqa: F401

WORKERS = 6


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
@pytest.mark.parametrize("repeat", range(3))  # a race: a few rounds
def test_workers_routing_one_send_at_once_route_it_once_and_never_deadlock(app, company, sender, kivra, repeat):
    numbers = [USER, *NUMBERS[:17], NUMBERS[18], NUMBERS[19], NUMBERS[24]]
    run = calculated_run(company, *numbers)
    service.request_send(run, sender)  # not drained: as if start_send's usermatch failed
    ids = sorted(row.id for row in rows(run).values())
    db.session.remove()
    deadlocks: list[BaseException] = []

    def record(context):
        if "deadlock" in type(context.original_exception).__name__.lower():
            deadlocks.append(context.original_exception)

    start = threading.Barrier(WORKERS + 1)
    stop = threading.Event()

    def worker(mine):
        with app.app_context():
            client = kivra_client()
            start.wait(10)
            for dispatch_id in mine:
                engine.process(dispatch_id, client)
                db.session.remove()

    def heartbeat():
        with app.app_context():
            start.wait(10)
            while not stop.wait(0.005):
                try:
                    leases.renew(engine.settings().lease)
                except Exception as error:  # noqa: BLE001
                    deadlocks.append(error)
                    db.session.rollback()
            db.session.remove()

    event.listen(db.engine, "handle_error", record)
    try:
        threads = [threading.Thread(target=worker, args=(ids[i::WORKERS],)) for i in range(WORKERS)]
        threads.append(threading.Thread(target=heartbeat))
        for thread in threads:
            thread.start()
        for thread in threads[:-1]:
            thread.join(60)
        stop.set()
        threads[-1].join(10)
    finally:
        event.remove(db.engine, "handle_error", record)
    assert [type(error).__name__ for error in deadlocks] == []
    final = rows(run)
    assert {(row.routed, row.attempts) for row in final.values()} == {(True, 1)}
    kivra_users = {number for number, row in final.items() if row.channel == "kivra"}
    assert ledger(kivra)["deliveries_per_recipient"] == {number: 1 for number in kivra_users}
