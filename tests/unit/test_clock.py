"""Swedish time and UTC from their one home, kivra/clock.py: the database stores UTC, SQLite hands it back without a
zone, PostgreSQL with one; the business reads Stockholm time."""
from datetime import date, datetime, time, timedelta, timezone

import pytest

from kivra import clock

SUMMER_NOON_UTC = datetime(2026, 6, 30, 12, 0, tzinfo=timezone.utc)
PLUS_TWO = timezone(timedelta(hours=2))


@pytest.mark.parametrize("value", [
    SUMMER_NOON_UTC, SUMMER_NOON_UTC.replace(tzinfo=None), SUMMER_NOON_UTC.astimezone(PLUS_TWO),
    SUMMER_NOON_UTC.astimezone(clock.STOCKHOLM),
])
def test_as_utc_is_the_same_instant_in_utc_whatever_the_database_gave(value):
    moment = clock.as_utc(value)
    assert moment == SUMMER_NOON_UTC and moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", [SUMMER_NOON_UTC, SUMMER_NOON_UTC.replace(tzinfo=None),
                                   SUMMER_NOON_UTC.astimezone(clock.STOCKHOLM)])
def test_as_stored_is_naive_utc_as_a_column_compares(value):
    assert clock.as_stored(value) == datetime(2026, 6, 30, 12, 0)
    assert clock.as_stored(value).tzinfo is None


def test_in_sweden_reads_a_stored_time_in_stockholm_summer_and_winter():
    assert clock.in_sweden(datetime(2026, 6, 30, 21, 59)).strftime("%Y-%m-%d %H:%M") == "2026-06-30 23:59"
    assert clock.in_sweden(datetime(2026, 12, 31, 22, 59, tzinfo=timezone.utc)).strftime("%H:%M %z") == "23:59 +0100"


def test_a_swedish_wall_time_becomes_the_right_utc_instant():
    assert clock.from_sweden(date(2026, 3, 1)) == datetime(2026, 2, 28, 23, 0, tzinfo=timezone.utc)
    summer = clock.from_sweden(date(2026, 6, 25), time(8))
    assert summer == datetime(2026, 6, 25, 6, 0, tzinfo=timezone.utc) and summer.utcoffset() == timedelta(0)


def test_one_stockholm_zone_in_the_app():
    from kivra import status
    from kivra.dispatch import schedule

    assert not hasattr(status, "STOCKHOLM") and not hasattr(schedule, "SWEDEN")
    assert not hasattr(status, "local_time")
    from kivra.payroll import service

    assert getattr(service, "as_utc", clock.as_utc) is clock.as_utc  # used from here, not written again


def test_one_clock_for_now_in_utc():
    from kivra.accounts import models

    assert models.utcnow is clock.now
    assert clock.now().utcoffset() == timedelta(0)


def test_a_chosen_send_time_is_checked_against_the_one_clock(monkeypatch):
    from kivra import create_app
    from kivra.dispatch import schedule

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.setattr(clock, "now", lambda: datetime(2099, 1, 1, tzinfo=timezone.utc))
    with app.test_request_context(), pytest.raises(schedule.BadSchedule):
        schedule.carried_schedule("2050-01-01T08:00:00+00:00")  # already passed, by the app's clock
