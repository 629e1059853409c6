"""The dispatch tally (kivra/dispatch/tally.py): triggers count every change to the rows, compaction never changes a
sum, a delta written during a compaction is kept, and migration 0020 fills the tally from the rows already there."""
import random
import sqlite3
import threading
from datetime import date, datetime, timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, event, func, inspect, select, update

from kivra import create_app, status
from kivra.dispatch import progress, tally
from kivra.dispatch.maintenance import compact_tally
from kivra.dispatch.models import OUTCOMES, UNFINISHED, Dispatch, DispatchState
from kivra.dispatch.tally import DispatchTally
from kivra.extensions import db
from kivra.payroll.models import PayrollRun
from tests.conftest import make_company, make_user
from tests.status_history import add_employees, add_month, utc
from tests.tally_check import assert_tally_matches, counted_rows, tallied
from tests.test_postgres import migrated_app, pg_app  # noqa: F401 - fixtures

pytestmark = pytest.mark.both_databases

STATES = list(DispatchState)
REASONS = [None, "technical", "not_kivra_user", "retain"]


@pytest.fixture
def history(company, other_company):
    """Two companies' sends of September and October, every outcome among them."""
    user, other_user = make_user(company, "admin"), make_user(other_company, "admin")
    staff, other_staff = add_employees(company, 40), add_employees(other_company, 12, prefix="Annan")
    for month in (date(2026, 9, 1), date(2026, 10, 1)):
        add_month(company, user, staff, month)
        add_month(other_company, other_user, other_staff, month)
    return company


def check() -> None:
    db.session.commit()
    with db.engine.connect() as connection:
        assert_tally_matches(connection)


def check_what_the_pages_read(*companies) -> None:
    """The run list's send column and the status page's run filter, read from the tally, say what the rows say."""
    for company in companies:
        runs = list(db.session.scalars(select(PayrollRun.id).where(PayrollRun.company_id == company.id)))
        for run_id, (send, shown) in progress.sends_by_run(company.id, runs).items():
            exact = progress.send_progress(send)
            assert (shown.total, shown.sent, shown.done, shown.waiting, shown.finished) == (
                exact.total, exact.sent, exact.done, exact.waiting, exact.finished), run_id
            assert all(shown[state] == exact[state] for state in OUTCOMES), run_id
        for month in (date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)):
            start, end = status.utc_range(month)
            expected = set(db.session.scalars(select(Dispatch.run_id).where(
                Dispatch.company_id == company.id, Dispatch.state != DispatchState.CANCELLED,
                Dispatch.dispatched_at >= start, Dispatch.dispatched_at < end)))
            assert {run_id for run_id, _period in status.month_runs(company.id, month)} == expected, month


def fresh_rows() -> int:
    return db.session.scalar(select(func.count()).where(DispatchTally.fresh))


def test_the_tally_counts_every_insert_change_and_delete_and_compaction_never_changes_it(history, other_company):
    check()  # the inserts
    check_what_the_pages_read(history, other_company)
    ids = list(db.session.scalars(select(Dispatch.id).order_by(Dispatch.id)))
    chance = random.Random(19)
    for step in range(300):
        row = chance.choice(ids)
        action = chance.random()
        if action < 0.45:  # a state change, now and then to or from cancelled
            db.session.execute(update(Dispatch).where(Dispatch.id == row).values(state=chance.choice(STATES)))
        elif action < 0.65:  # finishing moves dispatched_at: across hours, days and the month's edge
            moment = db.session.scalar(select(Dispatch.dispatched_at).where(Dispatch.id == row))
            db.session.execute(update(Dispatch).where(Dispatch.id == row).values(
                dispatched_at=moment + timedelta(minutes=chance.randint(-3000, 3000), microseconds=7)))
        elif action < 0.75:
            db.session.execute(update(Dispatch).where(Dispatch.id == row).values(reason=chance.choice(REASONS)))
        elif action < 0.8:
            db.session.execute(update(Dispatch).where(Dispatch.id == row).values(
                channel="minlon", reason="not_kivra_user"))
        elif action < 0.85:  # one statement, many rows (as resends and the sweep write them)
            db.session.execute(update(Dispatch).where(Dispatch.id.in_(chance.sample(ids, 8)))
                               .values(state=DispatchState.QUEUED, reason=None))
        elif action < 0.88:
            db.session.execute(delete(Dispatch).where(Dispatch.id == row))
            ids.remove(row)
        elif action < 0.9:  # nothing the tally keys on
            db.session.execute(update(Dispatch).where(Dispatch.id == row).values(attempts=Dispatch.attempts + 1))
        else:
            tally.compact(keys=chance.randint(1, 50))
        if step % 25 == 0:
            check()
            check_what_the_pages_read(history, other_company)
    check()
    check_what_the_pages_read(history, other_company)
    before = tallied(db.session.connection())
    tally.compact_all()
    assert fresh_rows() == 0
    assert tallied(db.session.connection()) == before
    # One row per key, none of them zero (a key whose rows were all cancelled or moved is gone).
    rows = db.session.execute(select(*tally.KEY, DispatchTally.n)).all()
    assert len({tuple(row[:-1]) for row in rows}) == len(rows) and all(row[-1] for row in rows)


def test_a_run_whose_rows_left_the_month_or_were_cancelled_is_not_in_its_run_filter(history, other_company):
    """The month's tally still holds the deltas (+1, then -1) until the sweep: the filter goes by their sum."""
    september, october = date(2026, 9, 1), date(2026, 10, 1)
    [(september_run, _)] = status.month_runs(history.id, september)
    [(october_run, _)] = status.month_runs(history.id, october)
    start, _end = status.utc_range(october)
    db.session.execute(update(Dispatch).where(Dispatch.run_id == september_run)
                       .values(dispatched_at=start + timedelta(days=3)))
    db.session.commit()
    assert {run_id for run_id, _ in status.month_runs(history.id, october)} == {september_run, october_run}
    assert status.month_runs(history.id, september) == []
    db.session.execute(update(Dispatch).where(Dispatch.run_id == september_run)
                       .values(dispatched_at=start - timedelta(days=3)))
    db.session.execute(update(Dispatch).where(Dispatch.run_id == october_run).values(state=DispatchState.CANCELLED))
    db.session.commit()
    assert fresh_rows() > 0  # not compacted: the sums are of deltas
    assert [run_id for run_id, _ in status.month_runs(history.id, october)] == []
    assert [run_id for run_id, _ in status.month_runs(history.id, september)] == [september_run]
    check_what_the_pages_read(history, other_company)


def test_the_months_totals_count_a_payslip_dispatched_in_the_last_microsecond_of_the_month(company):
    user, staff = make_user(company, "admin"), add_employees(company, 3)
    last = datetime(2026, 10, 31, 23, 59, 59, 999999)  # Swedish time; 22:59:59.999999 UTC
    add_month(company, user, staff, date(2026, 10, 1), at=lambda index: last + timedelta(microseconds=index))
    tally.compact_all()
    assert status.month_totals(company.id, date(2026, 10, 1)).total == 1
    assert status.month_totals(company.id, date(2026, 11, 1)).total == 2
    assert [m.total for m in status.monthly_outcomes(company.id, date(2026, 11, 1))[-2:]] == [1, 2]
    assert utc(last).hour == 22 and tally.hour_of(utc(last)) + 1 == tally.hour_of(utc(last + timedelta(microseconds=1)))


def test_the_workers_compaction_folds_the_fresh_deltas_and_commits(history):
    assert fresh_rows() > 0
    assert compact_tally() > 0
    db.session.rollback()  # nothing left uncommitted to lose
    assert fresh_rows() == 0
    check()
    assert compact_tally() == 0


def test_a_delta_not_yet_committed_when_the_sweep_compacts_is_kept_and_counted_once(app, history):
    """A worker finishes a row while the sweep compacts: on PostgreSQL its delta, uncommitted, is not among the rows
    the compaction deletes and folds (DELETE ... RETURNING folds exactly what it deleted), and counts once committed;
    on SQLite the two take turns."""
    tally.compact_all()
    row = db.session.scalar(select(Dispatch.id).where(Dispatch.state == DispatchState.QUEUED).limit(1))
    wrote, compacted = threading.Event(), threading.Event()

    def worker():
        with app.app_context():
            db.session.execute(update(Dispatch).where(Dispatch.id == row).values(state=DispatchState.DELIVERED))
            wrote.set()
            compacted.wait(10) if db.engine.dialect.name == "postgresql" else None
            db.session.commit()
            db.session.remove()

    if db.engine.dialect.name == "sqlite":  # one writer at a time: the worker's commit comes first
        worker()
    else:
        thread = threading.Thread(target=worker)
        thread.start()
        assert wrote.wait(10)
    db.session.execute(update(Dispatch).where(Dispatch.id != row, Dispatch.state == DispatchState.QUEUED)
                       .values(state=DispatchState.FAILED))  # this transaction's own deltas, compacted with it
    tally.compact()
    db.session.commit()
    compacted.set()
    if db.engine.dialect.name == "postgresql":
        thread.join(10)
    check()
    assert status.month_totals(history.id, date(2026, 10, 1))[status.PENDING] == 0


def test_one_compaction_at_a_time(history):
    """On PostgreSQL a sweep finding another compacting leaves it (SQLite's one writer needs no lock)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as other:
            assert other.scalar(select(func.pg_try_advisory_xact_lock(tally.COMPACTION_LOCK)))
            assert tally.compact() == 0
            db.session.rollback()
            other.rollback()
    assert tally.compact() > 0
    db.session.commit()
    check()


def test_0020_fills_the_tally_from_the_rows_and_goes_down_again(migrated_app):
    upgrade(revision="0019_status_page_order")
    company, other = make_company(), make_company("Annat AB", "5560360793")
    user, staff = make_user(company, "admin"), add_employees(company, 30)
    add_month(company, user, staff, date(2026, 9, 1))
    add_month(company, user, staff, date(2026, 10, 1))
    add_month(other, make_user(other, "admin"), add_employees(other, 5, prefix="Annan"), date(2026, 10, 1))
    db.session.execute(update(Dispatch).where(Dispatch.id % 7 == 0).values(state=DispatchState.CANCELLED))
    db.session.commit()
    assert "dispatch_tally" not in inspect(db.engine).get_table_names()
    upgrade(revision="0020_dispatch_tally")
    with db.engine.connect() as connection:
        rows = counted_rows(connection)
        assert rows and tallied(connection) == rows
        assert not connection.scalar(select(func.count()).where(DispatchTally.fresh))  # filled compacted
    # The triggers came with it: a change after the migration is counted.
    db.session.execute(update(Dispatch).where(Dispatch.state == DispatchState.QUEUED)
                       .values(state=DispatchState.DELIVERED))
    check()
    downgrade(revision="0019_status_page_order")
    assert "dispatch_tally" not in inspect(db.engine).get_table_names()
    db.session.execute(update(Dispatch).where(Dispatch.id == 1).values(state=DispatchState.FAILED))  # no trigger left
    db.session.commit()
    upgrade()
    check()


def test_the_migrated_triggers_are_the_ones_the_models_make(migrated_app):
    """A database made by the migrations counts as one made by create_all: the same trigger text (SQLite keeps it
    as written) and the same function body (PostgreSQL). A change to kivra/dispatch/tally.py fails here until a
    migration makes the new triggers."""
    made = tally.trigger_statements(UNFINISHED, DispatchState.CANCELLED)
    upgrade()
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            stored = dict(connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").all())
            assert sorted(stored.values()) == sorted(made["sqlite"])
        else:
            names = connection.exec_driver_sql(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = 'dispatch'::regclass").scalars()
            assert sorted(names) == sorted(tally.TRIGGER_NAMES)
            body = connection.exec_driver_sql("SELECT prosrc FROM pg_proc WHERE proname = %(name)s",
                                              {"name": tally.FUNCTION_NAME}).scalar_one()
            assert f"AS $${body}$$" in made["postgresql"][0]
            when = connection.exec_driver_sql(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'dispatch_tally_update'").scalar_one()
            assert "IS DISTINCT FROM" in when and when.count("floor(") == 2 and "date_trunc" not in when, when


def test_0020_on_sqlite_keeps_workers_out_from_its_triggers_to_its_fill(tmp_path):
    """Workers keep running while `flask db upgrade` runs. SQLite runs DDL outside a transaction: a worker finishing
    a row after the triggers exist and before the fill would be counted by both. The migration takes the write lock
    before its first trigger, so the worker waits for the fill's commit."""
    path = tmp_path / "migrated.db"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    outsider = []

    def on_statement(statement: str) -> None:  # SQLite's trace of the migration's connection
        if statement.startswith("INSERT INTO dispatch_tally") and "FROM dispatch" in statement:
            other = sqlite3.connect(path, timeout=0)
            try:  # a worker finishing the queued rows at this moment
                other.execute("UPDATE dispatch SET state = 'delivered' WHERE state = 'queued'")
                other.commit()
                outsider.append("wrote")
            except sqlite3.OperationalError as error:
                outsider.append(str(error))
            finally:
                other.close()

    with app.app_context():
        upgrade(revision="0019_status_page_order")
        company = make_company()
        add_month(company, make_user(company, "admin"), add_employees(company, 40), date(2026, 10, 1))
        db.session.remove()
        db.engine.dispose()
        event.listen(db.engine, "connect", lambda dbapi, _record: dbapi.set_trace_callback(on_statement))
        upgrade(revision="0020_dispatch_tally")
        assert outsider == ["database is locked"]
        check()
        db.session.remove()
        db.engine.dispose()
