"""When to send: now, or on the payout date at a chosen time (Swedish time), checked and turned into UTC."""
from datetime import datetime, time

from flask_babel import gettext as _

from kivra import clock


class BadSchedule(ValueError):
    """The chosen time cannot be used; the message says why, in the user's language."""


def carried_schedule(value: str | None) -> datetime | None:
    """The time chosen before the activation prompt, carried through it as `send_at` (ISO, UTC)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadSchedule(_("Enter the time as HH:MM, for example 08:00.")) from None
    if moment.tzinfo is None or moment <= clock.now():
        raise BadSchedule(_("That time has already passed. Send now, or choose a later time."))
    return moment


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
    moment = clock.from_sweden(run.payout_date, chosen)
    if moment <= clock.now():
        raise BadSchedule(_("That time has already passed. Send now, or choose a later time."))
    return moment
