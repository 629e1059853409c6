"""Retention: failed payslips' stored bytes after DISPATCH_FAILED_PAYLOAD_DAYS, the history after seven years, and
`flask dispatch prune` that does both for an operator."""
import hashlib
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from kivra.accounts.models import utcnow
from kivra.dispatch import retention, service
from kivra.dispatch.models import Dispatch, PayslipSend
from kivra.extensions import db
from tests.conftest import make_user
from tests.dispatch.test_engine import NUMBERS, calculated_run

pytestmark = pytest.mark.both_databases
LONG_AGO = datetime(2017, 3, 25, 10, 0)


def sent_run(company, *states_and_times):
    """A run sent to Min lön, its rows then set to the given (state, dispatched and finished at), each with a
    stored payload as a Kivra row has."""
    run = calculated_run(company, *NUMBERS[:len(states_and_times)])
    service.request_send(run, make_user(company), min_lon_only=True)
    ids = db.session.scalars(select(Dispatch.id).where(Dispatch.run_id == run.id).order_by(Dispatch.id)).all()
    for dispatch_id, (state, at) in zip(ids, states_and_times, strict=True):
        body = f"payload {dispatch_id}".encode()
        db.session.execute(update(Dispatch).where(Dispatch.id == dispatch_id).values(
            state=state, dispatched_at=at, finished_at=at if state != "queued" else None, payload=body,
            payload_sha256=hashlib.sha256(body).hexdigest()))
    db.session.commit()
    return run, ids


def kept(ids):
    db.session.expire_all()
    return {row.id: (row.state, row.payload is not None)
            for row in db.session.execute(select(Dispatch.id, Dispatch.state, Dispatch.payload)
                                          .where(Dispatch.id.in_(ids)))}


def test_the_history_is_kept_seven_calendar_years_after_the_year_it_was_made():
    assert retention.latest_cutoff(date(2026, 11, 30)) == date(2019, 1, 1)  # 2018 was kept until 2025 had ended
    assert retention.latest_cutoff(date(2027, 1, 1)) == date(2020, 1, 1)


def test_pruning_history_less_than_seven_years_back_is_refused_unless_forced(company):
    run, ids = sent_run(company, ("published", datetime(2024, 5, 25)))
    with pytest.raises(retention.TooRecent):
        retention.prune_history(date(2025, 1, 1), today=date(2026, 11, 30))
    assert len(kept(ids)) == 1
    assert retention.prune_history(date(2025, 1, 1), today=date(2026, 11, 30), force=True) == 1
    assert kept(ids) == {}


def test_pruning_deletes_finished_rows_before_the_date_only_and_the_run_is_never_sent_again(company):
    run, ids = sent_run(company, ("delivered", LONG_AGO), ("failed", LONG_AGO), ("queued", LONG_AGO),
                        ("published", datetime(2019, 1, 1)))
    assert retention.prune_history(date(2019, 1, 1), today=date(2026, 11, 30)) == 2
    assert kept(ids) == {ids[2]: ("queued", True), ids[3]: ("published", True)}  # still waiting; on the date
    assert db.session.scalar(select(func.count()).select_from(PayslipSend)) == 1
    with pytest.raises(service.AlreadySent):
        service.request_send(run, make_user(company, "payroll"), min_lon_only=True)


def test_failed_rows_drop_their_bytes_only_once_failed_that_long(company):
    now = utcnow()
    run, ids = sent_run(company, ("failed", now - timedelta(days=31)), ("failed", now - timedelta(days=29)),
                        ("queued", now - timedelta(days=31)))
    assert retention.failed_payload_cutoff(0, now) is None  # the default: failed rows keep their bytes
    assert retention.drop_failed_payloads(retention.failed_payload_cutoff(30, now)) == 1
    assert kept(ids) == {ids[0]: ("failed", False), ids[1]: ("failed", True), ids[2]: ("queued", True)}


def test_the_prune_command_refuses_a_date_less_than_seven_years_back_and_changes_nothing(app, company):
    run, ids = sent_run(company, ("delivered", datetime(2024, 5, 25)))
    result = app.test_cli_runner().invoke(args=["dispatch", "prune", "--before", "2025-01-01"])
    assert result.exit_code != 0
    assert "less than 7 calendar years back" in result.output and "Nothing was changed" in result.output
    assert kept(ids) == {ids[0]: ("delivered", True)}

    result = app.test_cli_runner().invoke(args=["dispatch", "prune", "--before", "2025-01-01", "--force"])
    assert result.exit_code == 0, result.output
    assert "1 dispatch row(s) dispatched before 2025-01-01 deleted" in result.output
    assert kept(ids) == {}


def test_the_prune_command_drops_the_payloads_no_longer_needed(app, company):
    now = utcnow()
    run, ids = sent_run(company, ("delivered", now - timedelta(days=400)), ("failed", now - timedelta(days=100)),
                        ("failed", now - timedelta(days=1)))
    result = app.test_cli_runner().invoke(args=["dispatch", "prune"])
    assert result.exit_code == 0, result.output
    assert kept(ids) == {ids[0]: ("delivered", False), ids[1]: ("failed", True), ids[2]: ("failed", True)}

    app.config["DISPATCH_FAILED_PAYLOAD_DAYS"] = 90
    result = app.test_cli_runner().invoke(args=["dispatch", "prune"])
    assert "1 failed payslip(s) older than 90 days dropped their stored payload" in result.output
    assert kept(ids) == {ids[0]: ("delivered", False), ids[1]: ("failed", False), ids[2]: ("failed", True)}
