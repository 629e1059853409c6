"""Two workers recording usermatch answers for the same employees at once, on PostgreSQL: no deadlock."""
import threading

import pytest
from sqlalchemy import event

from kivra.dispatch import engine
from kivra.extensions import db
from tests.conftest import make_company, make_employee

KIVRA_USER, NOT_A_USER = "191212121212", "197701032380"


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_two_workers_recording_answers_in_opposite_orders_do_not_deadlock(app):
    company = make_company()
    first = make_employee(company, personnummer=KIVRA_USER).id
    second = make_employee(company, name="Bo Ek", personnummer=NOT_A_USER).id
    # Worker A sees employee 1 as a Kivra user and 2 not; worker B the other way round (the person signed up or
    # opted out between their usermatches). Each writes its "user" group first.
    answers = {"a": ({first: KIVRA_USER, second: NOT_A_USER}, {KIVRA_USER}),
               "b": ({second: NOT_A_USER, first: KIVRA_USER}, {NOT_A_USER})}
    b_wrote_first = threading.Event()
    errors: list[BaseException] = []

    def pause_after_first_write(conn, cursor, statement, parameters, context, executemany):
        """Worker A waits, after its first statement, until B has written (or 2 s, if B is waiting for A's locks)."""
        if threading.current_thread().name == "worker-a" and not getattr(conn, "_paused", False):
            conn._paused = True
            b_wrote_first.wait(2)
        elif threading.current_thread().name == "worker-b":
            b_wrote_first.set()

    def worker(name):
        with app.app_context():
            try:
                numbers, matched = answers[name]
                engine.record_kivra_status(numbers, matched)
                db.session.commit()
            except BaseException as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
                db.session.rollback()
            finally:
                db.session.remove()

    event.listen(db.engine, "after_cursor_execute", pause_after_first_write)
    try:
        a = threading.Thread(target=worker, args=("a",), name="worker-a")
        a.start()
        threading.Event().wait(0.3)  # A has taken its first locks
        b = threading.Thread(target=worker, args=("b",), name="worker-b")
        b.start()
        a.join(20)
        b.join(20)
    finally:
        event.remove(db.engine, "after_cursor_execute", pause_after_first_write)
    assert errors == []
