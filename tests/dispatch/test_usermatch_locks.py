"""Workers recording usermatch answers while others write the same employees, on PostgreSQL: no deadlock."""
import threading
import time

import pytest
from sqlalchemy import event, func, select, text

from kivra.accounts.models import Company
from kivra.dispatch import routing, service
from kivra.dispatch.models import Dispatch
from kivra.employees.models import Employee
from kivra.employees.portal_account import PortalAccount
from kivra.extensions import db
from kivra.sender_api.app import kivra_client
from tests.conftest import make_company, make_employee
from tests.dispatch.test_engine import calculated_run, sender  # noqa: F401 - `sender` is a fixture

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
                routing.record_kivra_status(numbers, matched)
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


def _waiting_on_a_lock_or_done(thread: threading.Thread, deadline_seconds: float = 10) -> None:
    """Poll until `thread` has finished or some other session of this database waits for a row lock."""
    deadline = time.monotonic() + deadline_seconds
    with db.engine.connect() as watcher:
        while thread.is_alive() and time.monotonic() < deadline:
            if watcher.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                    "AND datname = current_database()")).scalar():
                return
            watcher.rollback()
            thread.join(0.05)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_send_routes_while_employees_are_invited_to_min_lon_without_deadlock(app, company, sender, kivra):
    """Inviting employees to Min lön writes a row per employee (each referencing it, so PostgreSQL takes a key-share
    lock on the employee) in one transaction, in the admin's order; routing a send locks the same employees."""
    run = calculated_run(company, KIVRA_USER, NOT_A_USER)
    send_id = service.request_send(run, sender).id  # not drained: the send is routed below
    first, second = sorted(db.session.scalars(select(Employee.id)))
    db.session.remove()
    errors: list[BaseException] = []

    def route():
        with app.app_context():
            try:
                routing.route(send_id, kivra_client())
            except BaseException as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
                db.session.rollback()
            finally:
                db.session.remove()

    with app.app_context():
        db.session.add(PortalAccount(employee_id=second))  # the admin's list starts with the second employee
        db.session.flush()
        router = threading.Thread(target=route)
        router.start()
        _waiting_on_a_lock_or_done(router)
        try:
            db.session.add(PortalAccount(employee_id=first))
            db.session.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
            db.session.rollback()
        finally:
            router.join(20)
            db.session.remove()
    assert [type(getattr(error, "orig", error)).__name__ for error in errors] == []
    assert set(db.session.scalars(select(Dispatch.routed).where(Dispatch.send_id == send_id))) == {True}
    assert db.session.scalar(select(func.count()).select_from(PortalAccount)) == 2


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_kivra_discontinued_while_a_send_routes_moves_the_untried_payslips_without_deadlock(
        app, company, sender, kivra):
    run = calculated_run(company, KIVRA_USER, NOT_A_USER)
    send_id = service.request_send(run, sender).id  # not drained: the send is routed below
    company_id = company.id
    db.session.remove()
    locked, go = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def pause_once_the_send_is_locked(conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread().name == "router" and "FROM payslip_send" in statement and "FOR" in statement:
            locked.set()
            go.wait(10)

    def in_thread(job):
        with app.app_context():
            try:
                job()
            except BaseException as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
                db.session.rollback()
            finally:
                db.session.remove()

    event.listen(db.engine, "after_cursor_execute", pause_once_the_send_is_locked)
    try:
        router = threading.Thread(target=in_thread, args=(lambda: routing.route(send_id, kivra_client()),),
                                  name="router")
        router.start()
        assert locked.wait(10)
        ending = threading.Thread(target=in_thread, args=(
            lambda: service.reroute_to_min_lon(db.session.get(Company, company_id)),), name="ending")
        ending.start()
        _waiting_on_a_lock_or_done(ending)
        go.set()
        router.join(20)
        ending.join(20)
    finally:
        go.set()
        event.remove(db.engine, "after_cursor_execute", pause_once_the_send_is_locked)
    assert [type(getattr(error, "orig", error)).__name__ for error in errors] == []
    assert set(db.session.execute(select(Dispatch.channel, Dispatch.routed).where(Dispatch.send_id == send_id))) == {
        ("minlon", True)}
