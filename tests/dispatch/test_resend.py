"""One way to resend failed payslips, for a run (the run page) and for a month (the status page): one rule says which
rows go again (failed, with their stored bytes still kept or never built), and the sends they belong to are locked
first, in id order, as every writer of several rows of a send does (kivra/dispatch/locks.py)."""
from datetime import date

import pytest
from sqlalchemy import select, update

from kivra import status
from kivra.accounts.models import utcnow
from kivra.dispatch import locks, resends, routing, service
from kivra.dispatch.models import Dispatch
from kivra.extensions import db
from kivra.payroll import service as payroll
from kivra.sender_api.app import kivra_client
from tests.dispatch.test_engine import NUMBERS, USER, calculated_run, sender  # noqa: F401 - sender is a fixture

pytestmark = pytest.mark.both_databases


def sent(run, user):
    service.request_send(run, user)
    routing.route(service.send_of(run).id, kivra_client())
    return service.send_of(run)


def set_rows(send, personnummer_to_state):
    """Finish the send's rows as given: "failed", "failed-dropped" (its stored bytes gone), or another state."""
    versions = {v.id: v.personnummer for v in db.session.scalars(select(payroll.PayslipVersion))}
    for row in db.session.scalars(select(Dispatch).where(Dispatch.send_id == send.id, Dispatch.channel == "kivra")):
        state = personnummer_to_state[versions[row.version_id]]
        dropped = state == "failed-dropped"
        db.session.execute(update(Dispatch).where(Dispatch.id == row.id).values(
            state="failed" if dropped else state, finished_at=utcnow(),
            payload=None if dropped else row.payload, payload_sha256="0" * 64 if dropped else row.payload_sha256))
    db.session.commit()


def kivra_states(send):
    db.session.expire_all()
    return sorted(db.session.scalars(select(Dispatch.state).where(Dispatch.send_id == send.id,
                                                                  Dispatch.channel == "kivra")))


@pytest.fixture
def two_failed_sends(company, sender):  # noqa: F811 - the fixture
    """Two runs sent this month; each has a failed row that can go again, and one whose bytes were dropped."""
    november = calculated_run(company, USER, NUMBERS[0])
    october = payroll.create_run(company, date(2026, 10, 1), date(2026, 10, 25))
    payroll.calculate_run(october)
    sends = sent(november, sender), sent(october, sender)
    for send in sends:
        set_rows(send, {USER: "failed", NUMBERS[0]: "failed-dropped"})
    return (november, october), sends


def test_the_run_resends_its_own_failed_rows_by_the_one_rule(two_failed_sends):
    (november, _october), (first, second) = two_failed_sends
    assert resends.failed_past_resend(november) == 1
    assert resends.resend_failed(november) == 1
    assert kivra_states(first) == ["failed", "queued"]  # the one with its bytes dropped stays failed
    assert kivra_states(second) == ["failed", "failed"]  # another run's rows are not this run's


def test_the_month_resends_every_runs_failed_rows_by_the_same_rule(company, two_failed_sends):
    _runs, sends = two_failed_sends
    month = status.this_month()
    assert status.failed_past_resend(company.id, month) == 2
    assert status.resend_failed(company.id, month) == 2
    assert [kivra_states(send) for send in sends] == [["failed", "queued"], ["failed", "queued"]]
    assert status.resend_failed(company.id, status.previous_month()) == 0  # another month's rows: none


def test_the_month_locks_the_sends_it_resends_in_id_order_as_the_run_does(company, two_failed_sends, monkeypatch):
    (november, _october), sends = two_failed_sends
    locked = []
    real = locks.lock_sends
    monkeypatch.setattr(locks, "lock_sends", lambda ids: (locked.append(sorted(set(ids))), real(ids)))
    status.resend_failed(company.id, status.this_month())
    assert locked == [sorted(send.id for send in sends)], "the month's resend must lock the sends it changes"
    set_rows(sends[0], {USER: "failed", NUMBERS[0]: "failed-dropped"})  # failed again
    locked.clear()
    resends.resend_failed(november)
    assert locked == [[sends[0].id]]


def test_one_function_does_both(company, two_failed_sends):
    (november, _october), (first, second) = two_failed_sends
    assert resends.resend_failed_matching(company.id, Dispatch.send_id == second.id) == 1
    assert resends.failed_past_resend_matching(company.id, Dispatch.send_id == second.id) == 1
    assert kivra_states(second) == ["failed", "queued"] and kivra_states(first) == ["failed", "failed"]
