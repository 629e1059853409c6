"""Business dates are Swedish dates: what day it is in Stockholm, whatever the server's zone."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def now() -> datetime:
    """This instant, in UTC. The one clock business dates read: a test sets the time by replacing it."""
    return datetime.now(timezone.utc)


def swedish_date(moment: datetime) -> date:
    """The date in Sweden at an instant; a time without a zone is UTC, as the database stores times."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(STOCKHOLM).date()


def today_in_sweden() -> date:
    return swedish_date(now())
