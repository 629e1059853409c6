"""A scheduled send (issue 17, item 12): at most one year ahead, and a time without a zone is Swedish time — the
daylight-saving days included — stored as UTC."""
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from kivra import clock
from kivra.dispatch.models import PayslipSend
from kivra.dispatch.schedule import BadSchedule, carried_schedule, scheduled_for
from kivra.extensions import db
from kivra.payroll import service as payroll
from tests.conftest import make_employee, text

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
TOO_FAR = {"sv": "Ett utskick kan schemaläggas högst ett år framåt",
           "en": "A send can be scheduled at most one year ahead"}


@pytest.fixture
def fixed_now(app, monkeypatch):
    """Today is 1 December 2026, inside a request (the messages are in its language)."""
    monkeypatch.setattr(clock, "now", lambda: NOW)
    with app.test_request_context():
        yield


def paid_out(day: date):
    return SimpleNamespace(payout_date=day)


def scheduled(day: date, at: str) -> datetime:
    return scheduled_for(paid_out(day), {"when": "scheduled", "time": at})


@pytest.mark.parametrize("day, at, utc", [
    (date(2026, 12, 24), "08:00", datetime(2026, 12, 24, 7, 0)),   # winter time, UTC+1
    (date(2027, 6, 25), "08:00", datetime(2027, 6, 25, 6, 0)),     # summer time, UTC+2
    # 31 October 2027: 02:00-03:00 comes twice; the first time (still summer time) is taken
    (date(2027, 10, 31), "02:30", datetime(2027, 10, 31, 0, 30)),
    # 28 March 2027: 02:00-03:00 does not exist; 02:30 is read with winter time's offset, which is 03:30 summer time
    (date(2027, 3, 28), "02:30", datetime(2027, 3, 28, 1, 30)),
    (date(2027, 3, 28), "03:30", datetime(2027, 3, 28, 1, 30)),
])
def test_a_chosen_time_is_swedish_time_stored_as_utc(fixed_now, day, at, utc):
    assert scheduled(day, at) == utc.replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("carried, utc", [
    ("2026-12-24T08:00:00", datetime(2026, 12, 24, 7, 0)),         # no zone: Swedish time
    ("2027-06-25T08:00", datetime(2027, 6, 25, 6, 0)),
    ("2026-12-24T07:00:00Z", datetime(2026, 12, 24, 7, 0)),       # a zone is kept
    ("2026-12-24T10:00:00+03:00", datetime(2026, 12, 24, 7, 0)),
])
def test_a_carried_time_without_a_zone_is_swedish_time(fixed_now, carried, utc):
    assert carried_schedule(carried) == utc.replace(tzinfo=timezone.utc)


def test_a_time_a_year_ahead_is_taken_and_later_is_refused(fixed_now):
    assert scheduled(date(2027, 12, 1), "09:00") == datetime(2027, 12, 1, 8, 0, tzinfo=timezone.utc)
    with pytest.raises(BadSchedule, match="högst ett år framåt"):
        scheduled(date(2027, 12, 2), "09:00")
    with pytest.raises(BadSchedule, match="högst ett år framåt"):
        carried_schedule("2027-12-02T09:00:00+00:00")
    with pytest.raises(BadSchedule, match="högst ett år framåt"):
        carried_schedule("2099-01-01T08:00:00")


@pytest.fixture
def far_run(company):
    """A calculated run paid out more than a year from today."""
    make_employee(company)
    payout = clock.today_in_sweden() + timedelta(days=400)
    run = payroll.create_run(company, payout.replace(day=1), payout)
    payroll.calculate_run(run)
    return run


@pytest.mark.parametrize("htmx", [False, True])
def test_the_send_step_refuses_a_time_more_than_a_year_ahead(as_admin, far_run, lang, htmx):
    response = as_admin.post(f"/runs/{far_run.id}/send", {"when": "scheduled", "time": "08:00"}, htmx=htmx)
    assert response.status_code == 422
    assert TOO_FAR[lang] in text(response)
    body = response.get_data(as_text=True)
    assert f'action="/runs/{far_run.id}/send"' in body and ("<html" in body) is not htmx
    db.session.expire_all()
    assert db.session.scalar(select(PayslipSend).where(PayslipSend.run_id == far_run.id)) is None


def test_a_carried_time_more_than_a_year_ahead_is_refused(as_admin, far_run, lang):
    response = as_admin.post(f"/runs/{far_run.id}/send/min-lon", {"send_at": "2099-01-01T08:00:00"}, htmx=True)
    assert response.status_code == 422
    assert TOO_FAR[lang] in text(response)
    db.session.expire_all()
    assert db.session.scalar(select(PayslipSend).where(PayslipSend.run_id == far_run.id)) is None
