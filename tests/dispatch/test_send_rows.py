"""Pressing send writes the run's outbox rows in one INSERT ... SELECT, whatever the run's size, with what each row
used to get as a row object: its channel (Min lön for an employee kept there), state, position, due time and times
(kivra.dispatch.service.add_rows)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from kivra.accounts.models import utcnow
from kivra.clock import as_utc
from kivra.dispatch import resends, service
from kivra.dispatch.models import Dispatch
from kivra.extensions import db
from kivra.payroll import service as payroll
from tests.dispatch.test_engine import NUMBERS, calculated_run, sender  # noqa: F401 - fixture
from tests.dispatch.test_send_statistics import statements_of
from tests.tally_check import assert_tally_matches

pytestmark = pytest.mark.both_databases


def rows_in_order(run) -> list[Dispatch]:
    db.session.expire_all()
    return list(db.session.scalars(select(Dispatch).where(Dispatch.run_id == run.id).order_by(Dispatch.position)))


def test_pressing_send_writes_the_runs_rows_in_one_statement_whatever_its_size(company, sender):
    run = calculated_run(company, *NUMBERS[:6])
    statements = statements_of(lambda: service.request_send(run, sender))
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO DISPATCH ")]
    assert len(inserts) == 1, inserts  # was one per row on SQLite, a VALUES list of every row on PostgreSQL
    assert "SELECT" in inserts[0].upper() and "VALUES" not in inserts[0].upper()
    assert len(rows_in_order(run)) == 6


def test_each_row_gets_its_payslip_version_employee_and_place_in_the_send(company, sender):
    run = calculated_run(company, *NUMBERS[:4])
    kept = run.payslips[2].employee
    kept.min_lon_only = True
    db.session.commit()
    before = utcnow()
    send = service.request_send(run, sender)
    after = utcnow()
    rows = rows_in_order(run)
    payslips = sorted(run.payslips, key=lambda payslip: payslip.id)
    assert [row.position for row in rows] == [0, 1, 2, 3]
    assert [(row.payslip_id, row.version_id, row.employee_id) for row in rows] == [
        (p.id, p.versions[-1].id, p.employee_id) for p in payslips]
    assert {(row.company_id, row.send_id, row.run_id) for row in rows} == {(company.id, send.id, run.id)}
    by_employee = {row.employee_id: row for row in rows}
    assert (by_employee[kept.id].channel, by_employee[kept.id].reason, by_employee[kept.id].routed) == (
        "minlon", "min_lon_only", True)
    others = [row for row in rows if row.employee_id != kept.id]
    assert {(row.channel, row.reason, row.routed) for row in others} == {("kivra", None, False)}
    assert {(row.state, row.attempts, row.payload_sha256, row.claimed_by) for row in rows} == {
        ("queued", 0, None, None)}
    for row in rows:  # requested now: due now, and in this month on the status pages
        assert before <= as_utc(row.created_at) <= after and before <= as_utc(row.due_at) <= after
        assert before <= as_utc(row.dispatched_at) <= after
    assert_tally_matches(db.session.connection())  # the triggers counted each row once


def test_a_min_lon_send_routes_every_row_there(company, sender):
    run = calculated_run(company, *NUMBERS[:2])
    service.request_send(run, sender, min_lon_only=True)
    assert {(row.channel, row.reason, row.routed, row.state) for row in rows_in_order(run)} == {
        ("minlon", "not_now", True, "queued")}


def test_a_scheduled_sends_rows_are_due_when_it_is(company, sender):
    run = calculated_run(company, *NUMBERS[:2])
    when = (utcnow() + timedelta(hours=2)).replace(microsecond=0)
    service.request_send(run, sender, scheduled_for=when)
    assert {(as_utc(row.due_at), row.state) for row in rows_in_order(run)} == {(when, "queued")}


def test_a_send_waiting_for_the_agreement_holds_its_rows(company, sender, monkeypatch):
    run = calculated_run(company, *NUMBERS[:2])
    monkeypatch.setattr(service.agreement, "in_force", lambda company_id: None)
    service.request_send(run, sender, awaiting_agreement=True)
    assert {(row.channel, row.state) for row in rows_in_order(run)} == {("kivra", "held")}


def test_corrections_take_the_places_after_the_send_and_only_the_corrected_payslips(company, sender):
    run = calculated_run(company, *NUMBERS[:3])
    service.request_send(run, sender)
    payslip = sorted(run.payslips, key=lambda p: p.id)[1]
    payslip.lines[0].amount_ore += 100_000
    db.session.commit()
    correction = payroll.correct(payslip)
    assert resends.send_corrections(run) == 1
    rows = rows_in_order(run)
    assert [(row.position, row.payslip_id) for row in rows][-1] == (3, payslip.id)
    assert rows[-1].version_id == correction.id and rows[-1].state == "queued"
    assert [row.state for row in rows if row.payslip_id == payslip.id] == ["cancelled", "queued"]


def test_a_second_click_that_saw_the_same_corrections_adds_nothing_and_fails_nothing(company, sender, monkeypatch):
    """Two clicks on "send corrections" both read the corrections before either wrote them: the second one's rows
    break the unique (version, channel), and it adds nothing (no error page)."""
    run = calculated_run(company, *NUMBERS[:2])
    service.request_send(run, sender)
    payslip = run.payslips[0]
    payslip.lines[0].amount_ore += 100_000
    db.session.commit()
    payroll.correct(payslip)
    seen = resends.unsent_corrections(run, service.send_of(run))
    assert resends.send_corrections(run) == 1
    monkeypatch.setattr(resends, "unsent_corrections", lambda run, send: seen)  # what the other click read
    assert resends.send_corrections(run) == 0
    assert [row.state for row in rows_in_order(run)] == ["cancelled", "queued", "queued"]
