"""When to send: now, or on the payout date at a chosen time (Swedish time), checked and turned into UTC.

A time without a zone (the form's time on the payout date, a carried `send_at` written without one) is Swedish
wall-clock time. On the autumn day when 02:00-03:00 comes twice, such a time is the first of the two (still summer
time); on the spring day when 02:00-03:00 does not exist, it is read with winter time's offset, so 02:30 is sent at
03:30 summer time, as a clock set forward shows it. A send is scheduled at most a year (`FURTHEST`) ahead."""
from datetime import datetime, time, timedelta

from flask_babel import gettext as _

from kivra import clock

FURTHEST = timedelta(days=365)


class BadSchedule(ValueError):
    """The chosen time cannot be used; the message says why, in the user's language."""


def carried_schedule(value: str | None) -> datetime | None:
    """The time chosen before the activation prompt, carried through it as `send_at` (ISO, UTC; without a zone it is
    Swedish time)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadSchedule(_("Enter the time as HH:MM, for example 08:00.")) from None
    if moment.tzinfo is None:
        moment = clock.from_sweden(moment.date(), moment.time())
    return _checked(moment)


def scheduled_for(run, form) -> datetime | None:
    """"Send now" (None), or the payout date at the chosen time, Swedish time, as UTC; `form` is what the send form
    posted (`when`, `time`, or `send_at` carried through the activation prompt)."""
    if form.get("send_at"):
        return carried_schedule(form["send_at"])
    if form.get("when", "now") != "scheduled":
        return None
    try:
        chosen = time.fromisoformat(form.get("time", ""))
    except ValueError:
        raise BadSchedule(_("Enter the time as HH:MM, for example 08:00.")) from None
    if chosen.tzinfo is None:
        return _checked(clock.from_sweden(run.payout_date, chosen))
    return _checked(datetime.combine(run.payout_date, chosen))


def _checked(moment: datetime) -> datetime:
    """The moment in UTC, if it is still to come and at most a year ahead."""
    moment, now = clock.as_utc(moment), clock.now()
    if moment <= now:
        raise BadSchedule(_("That time has already passed. Send now, or choose a later time."))
    if moment > now + FURTHEST:
        raise BadSchedule(_("A send can be scheduled at most one year ahead. Choose an earlier payout date, or send "
                            "now."))
    return moment
