"""What an operator reads about sends: one INFO line when a send starts and one when it finishes (once, whichever
worker finishes its last payslip), one per lease takeover and per retry exhausted — with the send's and company's
ids, and never a personnummer or a name."""
import logging
import threading
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import select

from kivra.accounts.models import utcnow
from kivra.dispatch import engine, leases, service, tasks
from kivra.dispatch.models import Dispatch
from kivra.extensions import db
from kivra.payroll import service as payroll
from tests.conftest import make_employee
from tests.dispatch.test_engine import COORDINATION, NOT_USER, USER, calculated_run, rows, sender  # noqa: F401 - fixtures

pytestmark = pytest.mark.both_databases

JOURNAL = "kivra.dispatch.journal"


def lines(caplog, message: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == JOURNAL and r.getMessage().startswith(message)]


def test_a_send_logs_its_start_with_rows_by_channel_and_its_end_with_counts_by_outcome(company, sender, kivra,
                                                                                          caplog):
    caplog.set_level(logging.INFO)
    run = calculated_run(company, USER, NOT_USER, COORDINATION)
    send = service.request_send(run, sender)
    tasks.drain()
    [started] = lines(caplog, "send started")
    assert (started.levelname, started.send_id, started.company_id) == ("INFO", send.id, company.id)
    assert started.rows == {"kivra": 1, "minlon": 2}
    [finished] = lines(caplog, "send finished")
    assert (finished.send_id, finished.company_id) == (send.id, company.id)
    assert finished.outcomes == {"delivered": 1, "published": 2}
    assert finished.duration_seconds >= 0
    assert "delivered=1" in finished.getMessage() and "published=2" in finished.getMessage()


def test_no_personnummer_or_name_reaches_any_log_record(company, sender, kivra, caplog):
    caplog.set_level(logging.DEBUG)
    make_employee(company, name="Zlatan Åkesson-Ibrahimović", personnummer=COORDINATION)
    run = calculated_run(company, USER, NOT_USER)
    service.request_send(run, sender)
    httpx.post(f"{kivra.url}/_sandbox/faults", json={"error_rate": 0.5})
    tasks.drain(max_tasks=20)
    httpx.post(f"{kivra.url}/_sandbox/faults", json={})
    tasks.drain()
    assert caplog.records, "nothing was logged"
    secrets = [USER, NOT_USER, COORDINATION, "Zlatan", "Åkesson", "Person 0", "Person 1"]
    secrets += [f"{n[:8]}-{n[8:]}" for n in (USER, NOT_USER, COORDINATION)] + [n[2:] for n in (USER, NOT_USER)]
    for record in caplog.records:
        seen = " ".join([record.getMessage(), repr(record.args), repr(vars(record)), record.exc_text or ""])
        leaked = [secret for secret in secrets if secret in seen]
        assert not leaked, f"{record.name}: {record.getMessage()!r} carries {leaked}"


def test_a_lease_takeover_is_logged_with_the_row_and_its_send(company, sender, kivra, caplog):
    caplog.set_level(logging.INFO)
    run = calculated_run(company, USER)
    send = service.request_send(run, sender)
    row_id = rows(run)[USER].id
    settings = engine.settings()
    assert engine.claim(row_id, settings) is not None
    assert not lines(caplog, "lease takeover")
    assert engine.claim(row_id, settings, now=utcnow() + settings.lease + timedelta(seconds=1)) is not None
    [takeover] = lines(caplog, "lease takeover")
    assert (takeover.dispatch_id, takeover.send_id, takeover.company_id) == (row_id, send.id, company.id)
    assert takeover.levelname == "INFO"


def test_a_retry_exhausted_is_logged_with_reason_kivras_code_and_correlation_id(app, company, sender, kivra, caplog):
    caplog.set_level(logging.INFO)
    app.config.update(DISPATCH_RETRY_SECONDS=0.0, DISPATCH_RETRY_CAP_SECONDS=0.0, DISPATCH_MAX_ATTEMPTS=2,
                      KIVRA_MAX_ATTEMPTS=1)
    app.extensions.pop("kivra_client").close()
    run = calculated_run(company, USER)
    send = service.request_send(run, sender)
    httpx.post(f"{kivra.url}/_sandbox/faults", json={"error_rate": 1.0})
    tasks.drain()
    row = rows(run)[USER]
    assert row.state == "failed"
    [exhausted] = lines(caplog, "retries exhausted")
    assert (exhausted.dispatch_id, exhausted.send_id, exhausted.company_id) == (row.id, send.id, company.id)
    assert (exhausted.reason, exhausted.error_code, exhausted.correlation_id) == (
        "technical", row.error_code, row.correlation_id)
    assert exhausted.attempts == 2 and row.correlation_id in exhausted.getMessage()
    [finished] = lines(caplog, "send finished")
    assert finished.outcomes == {"failed": 1}


def test_two_workers_finishing_the_last_rows_at_once_log_the_end_once(app, company, sender, kivra, caplog):
    """Each round: a send of two payslips, both claimed, finished by two threads released together."""
    caplog.set_level(logging.INFO)
    settings = engine.settings()
    make_employee(company, name="Person 0", personnummer=USER)
    make_employee(company, name="Person 1", personnummer=NOT_USER)
    for month in range(1, 9):  # a run a month: one send of two payslips each
        run = payroll.create_run(company, date(2026, month, 1), date(2026, month, 25))
        payroll.calculate_run(run)
        send = service.request_send(run, sender)
        ids = db.session.scalars(select(Dispatch.id).where(Dispatch.send_id == send.id)).all()
        claims = [engine.claim(row_id, settings) for row_id in ids]
        assert all(claims)
        start = threading.Barrier(2)
        errors = []

        def finish(claim):
            with app.app_context():
                try:
                    start.wait(5)
                    engine.finish(claim, state="delivered", finished_at=utcnow())
                except Exception as error:  # noqa: BLE001 - reported below
                    errors.append(error)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=finish, args=(claim,)) for claim in claims]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not errors and not any(thread.is_alive() for thread in threads)
        finished = [r for r in lines(caplog, "send finished") if r.send_id == send.id]
        assert len(finished) == 1, f"month {month}: the end of send {send.id} was logged {len(finished)} times"
        assert finished[0].outcomes == {"delivered": 2}
        tasks.huey.flush()


def test_a_row_whose_worker_died_on_its_last_attempt_is_logged_as_exhausted_by_the_sweep(app, company, sender,
                                                                                          kivra, caplog):
    caplog.set_level(logging.INFO)
    app.config["DISPATCH_MAX_ATTEMPTS"] = 1
    run = calculated_run(company, USER)
    send = service.request_send(run, sender)
    row_id = rows(run)[USER].id
    settings = engine.settings()
    assert engine.claim(row_id, settings) is not None  # its only attempt; then the worker is killed
    assert leases.fail_exhausted(settings.max_attempts, utcnow() + settings.lease + timedelta(seconds=1)) == 1
    [exhausted] = lines(caplog, "retries exhausted")
    assert (exhausted.dispatch_id, exhausted.send_id, exhausted.reason, exhausted.attempts) == (
        row_id, send.id, "internal_error", 1)
    [finished] = lines(caplog, "send finished")
    assert (finished.send_id, finished.outcomes) == (send.id, {"failed": 1})


def test_the_finished_check_reads_a_sends_waiting_rows_first(company, sender, kivra):
    """The "send finished" check runs once per batch of outcomes recorded. It reads the send's (send_id, state) index
    backwards, where `sending`, `queued` and `held` come before `delivered` and `failed`: read forwards it walked
    every delivered row before the first waiting one, and PostgreSQL turned to reading the whole table (0.5 -> 4 ms
    a check during a 20 000-payslip send; backwards 0.03 ms). PostgreSQL is asked on the statistics pressing a big
    send leaves (its ANALYZE, with every row of the send waiting) and with sequential scans off, as a big send's
    table would leave it; the answer is checked against the rows on both databases."""
    from kivra.dispatch import journal

    run = calculated_run(company, USER, NOT_USER, COORDINATION)
    send = service.request_send(run, sender)
    statement = journal.waiting_row(send.id)
    literal = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    db.session.commit()  # nothing of this session's holds the table while the plan is asked for
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            chosen = "\n".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {literal}"))
            assert "ix_dispatch_send_state" in chosen and "TEMP B-TREE" not in chosen, chosen
        else:
            with connection.begin() as transaction:
                # The plan follows the table's statistics, and autovacuum analyses it whenever earlier tests have
                # changed enough rows: statistics that saw only delivered rows expect no row waiting and read the
                # waiting states forwards, then sort them (CI once got that plan). A big send is analysed as it is
                # pressed (statistics.ANALYZE_AFTER_ROWS), so the plan is asked for on this send's own statistics,
                # and without the (state, due_at) index, which the test database's few rows can make cheaper. All
                # in a transaction rolled back: the statistics and the index are as they were for the next test.
                connection.exec_driver_sql("ANALYZE dispatch")
                connection.exec_driver_sql("DROP INDEX ix_dispatch_due")
                connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
                chosen = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {literal}"))
                transaction.rollback()
            assert "Index Scan Backward using ix_dispatch_send_state" in chosen, chosen
    waiting = db.session.scalar(statement)
    assert db.session.get(Dispatch, waiting).state in ("queued", "held", "sending")
    tasks.drain()
    assert db.session.scalar(statement) is None  # every row final: none waiting
