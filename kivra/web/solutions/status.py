"""The status pages: Kivra's month of payslips, Min lön and Kivra per employee, outcomes per month, the CSV.

Every query is scoped to the signed-in user's company; nothing here takes an id from the URL but a month, so another
company's payslips cannot be named, by a page or by a fragment."""
import unicodedata
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from babel.dates import get_month_names
from babel.numbers import get_group_symbol
from flask import abort, flash, get_template_attribute, request, url_for
from flask_babel import format_date, get_locale, gettext as _
from flask_login import current_user

from kivra import agreement, clock, status
from kivra.dispatch import service
from kivra.dispatch.models import DispatchState
from kivra.status import chart as bar_chart, export, export_audit
from kivra.web import current_company, is_htmx, redirect_to, render
from kivra.web.feedback import flash_resent
from kivra.web.loaders import run_from
from kivra.web.solutions import bp
from kivra.web.solutions.pages import context as page_context

MONTHS_IN_MENU = 24


@dataclass(frozen=True)
class MonthChoice:
    """The month picker: the month before, the one after (none past this month), the menu's months, and their names."""

    previous: date
    next: date | None
    options: list[date]
    names: dict[date, str]


def _months(month: date) -> MonthChoice:
    latest = status.this_month()
    options = [status.add_months(latest, -offset) for offset in range(MONTHS_IN_MENU)]
    if month not in options:
        options.append(month)
        options.sort(reverse=True)
    following = status.add_months(month, 1)
    previous, following = status.add_months(month, -1), following if following <= latest else None
    return MonthChoice(previous, following, options, month_names([*options, previous, following]))


def month_names(months) -> dict[date, str]:
    """`mars 2026` / `March 2026`, as the `period_name` filter writes them, with the locale looked up once: a month
    menu has two dozen."""
    names = get_month_names("wide", "stand-alone", locale=get_locale())
    return {month: f"{names[month.month]} {month.year}" for month in months if month is not None}


def _filters(default: date) -> tuple[date, str | None, str]:
    """The month (default: `default`), the outcome filter and the name search, from the query string."""
    month = status.parse_month(request.values.get("month")) or default
    outcome = request.values.get("outcome")
    search = (request.values.get("q") or "").strip()[:100]
    return month, outcome if outcome in status.PAGE_OUTCOMES else None, search


def _default_month(run=None) -> date:
    """Where the status pages open without a month: coming from a run, the month its payslips went out; otherwise
    the latest month with sends (the previous month for a company that has sent none)."""
    company_id = current_user.company_id
    month = status.run_month(run.id) if run is not None else None
    return month or status.latest_month_with_sends(company_id) or status.previous_month()


def _run_filter(month: date) -> tuple[int | None, list[tuple[int, date]]]:
    """The chosen run (`for_run`) among the month's runs with sends, and those runs: another company's run id, or a
    run with nothing in the month, filters nothing."""
    runs = status.month_runs(current_user.company_id, month)
    value = request.values.get("for_run", "")
    chosen = int(value) if value.isdigit() and int(value) in {run_id for run_id, _period in runs} else None
    return chosen, runs


def _page_number() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and 0 < len(value) < 7 else 1


@bp.app_template_filter("month_abbr")
def month_abbr(month: date) -> str:
    """`mars`, `apr.` in Swedish; `Mar`, `Apr` in English: the chart's month labels."""
    return format_date(month, "LLL")


@bp.app_template_global("counter")
def counter():
    """A formatter of whole numbers as the `number` filter writes them (`1 000` in Swedish, `1,000` in English), with
    the locale looked up once: the chart writes a hundred numbers, and Babel parses its pattern on every call."""
    separator = get_group_symbol(get_locale())
    return lambda value: f"{value:,}".replace(",", separator)


@bp.app_template_filter("minute")
def minute(moment) -> str:
    """A stored UTC time in Swedish time, `2026-03-31 23:59`: what the `datetime` filter shows, made without Babel's
    formatter because a page of payslips calls it a hundred times."""
    return status.minute_text(moment) if moment else ""


@bp.app_template_filter("month_param")
def month_param(moment) -> str:
    """A stored UTC time as the `month` of the status pages' URLs (Swedish time): `2026-11`."""
    return clock.in_sweden(moment).strftime("%Y-%m")


@bp.get("/kivra")
def kivra():
    """From the run's Kivra link and More Solutions: the agreement to approve, or (with one in force, or once the
    company has had one or sent payslips) the Kivra status page: a month's payslips (the previous month by default)
    and the agreement, or when and by whom Kivra was ended. Past months stay readable after discontinuing."""
    context = page_context(run=run_from(request.args.get("run")))
    if context["agreement"] is None and not context["kivra_history"]:
        return render("solutions/agreement.html", "agreement", **context)
    return _status_page(context, *_filters(_default_month(context["run"])))


def _status_page(context: dict, month: date, outcome: str | None, search: str, status_code: int = 200):
    company_id = context["company"].id
    for_run, runs = _run_filter(month)
    totals = status.month_totals(company_id, month, for_run)
    lines = status.month_lines(company_id, month, outcome, search, page=_page_number(), totals=totals, run_id=for_run)
    return render(
        "solutions/kivra.html", "dispatch_month", status=status_code, month=month, months=_months(month),
        outcome=outcome, search=search, totals=totals, lines=lines, runs=runs, for_run=for_run,
        run_names=month_names(period for _run_id, period in runs), last_month=status.previous_month(),
        nearest=status.nearest_month_with_sends(company_id, month) if not totals.total else None,
        personnummer_exports=export_audit.latest(company_id) if current_user.is_admin else [], **context)


@bp.post("/kivra/resend-failed")
def resend_failed():
    """The month's failed payslips go again, with the bytes stored the first time."""
    month, _outcome, _search = _filters(_default_month())
    context = page_context()
    try:
        count = status.resend_failed(context["company"].id, month)
    except service.KivraNotInForce:
        flash(not_resent(), "error")
        if is_htmx():
            return _status_page(context, month, None, "", status_code=409)
        return redirect_to(url_for("solutions.kivra", month=month.strftime("%Y-%m")))
    flash_resent(count, status.failed_past_resend(context["company"].id, month))
    if is_htmx():
        return _status_page(context, month, None, "")
    return redirect_to(url_for("solutions.kivra", month=month.strftime("%Y-%m")))


def not_resent() -> str:
    return _("Kivra is not active, so failed payslips are not sent again. The employees read them in Min lön.")


@bp.get("/kivra/dispatches.csv")
def export_month():
    """The month's list as CSV for Excel; the full personnummer only for an administrator who asks for it."""
    month, outcome, search = _filters(_default_month())
    full = request.args.get("full_personnummer") == "1"
    if full and not current_user.is_admin:
        abort(403)
    outcome_label = get_template_attribute("_macros.html", "outcome_label")
    reason_label = get_template_attribute("_macros.html", "dispatch_reason")
    channel_name = get_template_attribute("_macros.html", "channel_name")

    def words(line: status.DispatchLine) -> list[str]:
        reason = reason_label(line.reason) if line.reason or line.state == DispatchState.PUBLISHED else ""
        return [str(channel_name(line.channel)), str(outcome_label(line.state)), str(reason)]

    header = [_("Name"), _("Personnummer"), _("Channel"), _("Outcome"), _("Reason"), _("Kivra's code"),
              _("Correlation id"), _("Time"), _("Version"), _("Payroll run")]
    for_run, _runs = _run_filter(month)
    lines = status.all_lines(current_user.company_id, month, outcome, search, full_personnummer=full,
                             run_id=for_run)
    names = month_names({line.period for line in lines})
    body = export.month_csv(lines, header, words, full_personnummer=full, run_name=lambda line: names[line.period])
    if full:  # recorded before the file leaves: an export that could not be recorded is not made
        export_audit.record(current_user, month, outcome, bool(search), rows=len(lines))
    name = f"{_('payslips')}-{month.strftime('%Y-%m')}.csv"
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return body, 200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store",
    }


@bp.get("/dispatches")
def dispatches():
    """Min lön and Kivra on one page: per employee, which channel got the month's payslip and what happened."""
    month, _outcome, search = _filters(_default_month())
    company_id = current_user.company_id
    people, paging = status.by_employee(company_id, month, search, page=_page_number())
    return render(
        "solutions/dispatches.html", "dispatch_overview", month=month, months=_months(month), search=search,
        totals=status.month_totals(company_id, month), people=people, paging=paging,
        agreement=agreement.in_force(company_id), kivra_history=service.has_kivra_history(current_company()))


@bp.get("/dispatches/chart")
def outcome_chart():
    """Outcomes per month for the twelve months up to the chosen one (this month by default)."""
    month, _outcome, _search = _filters(status.this_month())
    series = status.monthly_outcomes(current_user.company_id, month)
    return render("solutions/chart.html", "outcome_chart", month=month, months=_months(month),
                  chart=bar_chart.layout(series), names=month_names(m.month for m in series))
