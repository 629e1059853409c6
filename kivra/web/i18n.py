"""Locale selection and the Babel-backed formatters templates use."""
from datetime import date, datetime
from decimal import Decimal

from flask import session
from flask_babel import format_currency, format_date, format_datetime, format_decimal, get_locale
from flask_login import current_user

from kivra.clock import as_utc, in_sweden
from kivra.locales import LOCALES, babel_locale
from kivra.money import kronor

LOCALE_NAMES = {"sv": "Svenska", "en": "English"}


def select_locale() -> str:
    """The signed-in user's saved language, else the session's choice, else Swedish."""
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return babel_locale(current_user.locale)
    return babel_locale(session.get("locale"))


def money(ore: int | None) -> str:
    """Öre as the locale's currency text: `32 500,00 kr` in Swedish, `SEK 32,500.00` in English."""
    if ore is None:
        return ""
    if current_locale() == "en":  # CLDR's English glues the code to the number: SEK32,500.00
        return format_currency(kronor(ore), "SEK", format="¤\u00a0#,##0.00")
    return format_currency(kronor(ore), "SEK")


def period_name(period: date) -> str:
    """A payroll period as month and year, e.g. `november 2026`."""
    return format_date(period, "LLLL yyyy")


def long_date(value: date | None) -> str:
    return format_date(value, "long") if value else ""


def percent(rate: Decimal) -> str:
    """`31,42 %` in Swedish, `31.42%` in English."""
    number = format_decimal(rate, "#,##0.##")
    return f"{number}\u00a0%" if current_locale() == "sv" else f"{number}%"


def datetime_text(value) -> str:
    """A timestamp in Swedish time (stored as UTC; SQLite hands it back without a zone)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):  # an ISO timestamp carried in a form
        value = datetime.fromisoformat(value)
    return format_datetime(as_utc(value), "yyyy-MM-dd HH:mm")


def day_month(value) -> str:
    """A stored UTC time's day in Swedish time, short: `25 nov.` / `25 Nov`."""
    return format_date(in_sweden(value).date(), "d MMM") if value else ""


def day(value) -> str:
    """A stored UTC time's day in Swedish time: `30 nov. 2026` / `30 Nov 2026`."""
    return format_date(in_sweden(value).date(), "medium") if value else ""


def day_time(value) -> str:
    """A stored UTC time in Swedish time, short: `25 nov. 08:00` / `25 Nov 08:00`."""
    return f"{day_month(value)} {in_sweden(value):%H:%M}" if value else ""


def short_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def number(value: int) -> str:
    """`1 000` in Swedish, `1,000` in English."""
    return format_decimal(value, "#,##0")


def current_locale() -> str:
    """The language, `sv` or `en` (the locale formats English as en_GB)."""
    locale = get_locale()
    return locale.language if locale else "sv"


def init_app(app) -> None:
    app.jinja_env.filters.update(
        money=money,
        period_name=period_name,
        long_date=long_date,
        short_date=short_date,
        day_month=day_month,
        day=day,
        day_time=day_time,
        percent=percent,
        datetime=datetime_text,
        number=number,
    )
    app.jinja_env.add_extension("jinja2.ext.do")
    from kivra.web import is_htmx

    # Flash messages belong to the page; a fragment shows them only when it is swapped in on its own.
    app.jinja_env.globals.update(current_locale=current_locale, LOCALE_NAMES=LOCALE_NAMES, htmx_request=is_htmx)
