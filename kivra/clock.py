"""Swedish time and UTC, in one place. Business dates are Swedish dates: what day it is in Stockholm, whatever the
server's zone. The database stores UTC: SQLite hands a time back without a zone, PostgreSQL with one."""
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def now() -> datetime:
    """This instant, in UTC. The one clock business dates read: a test sets the time by replacing it."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """A time from the database (or anywhere) as an instant in UTC; a time without a zone is UTC, as stored."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def as_stored(moment: datetime) -> datetime:
    """An instant as the database stores it, UTC without a zone: what a query compares a column with."""
    return as_utc(moment).replace(tzinfo=None)


def in_sweden(moment: datetime) -> datetime:
    """An instant (a stored time without a zone is UTC) in Swedish time."""
    return as_utc(moment).astimezone(STOCKHOLM)


def from_sweden(day: date, at: time = time(0)) -> datetime:
    """A Swedish wall-clock time on a day, as the instant in UTC."""
    return datetime.combine(day, at, tzinfo=STOCKHOLM).astimezone(timezone.utc)


def swedish_date(moment: datetime) -> date:
    """The date in Sweden at an instant; a time without a zone is UTC, as the database stores times."""
    return in_sweden(moment).date()


def today_in_sweden() -> date:
    return swedish_date(now())
