"""The status pages' figures: a month of dispatches in Swedish time, totals by outcome, twelve months at a glance,
and resending a month's failed payslips.

A month is Swedish time (Europe/Stockholm): a payslip dispatched 23:59 on the last day belongs to that month. Queries
filter on the month's UTC range [start, end) and the shown states, so the covering (company_id, state, dispatched_at,
...) index does the work for its rows. Its counts come from the dispatch tally (kivra.dispatch.tally): a row per hour
with sends, so a month is counted in the same time whatever the size of the company or of a bureau's table.
"""
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from kivra import clock
from kivra.accounts.models import utcnow
from kivra.dispatch import resends
from kivra.dispatch.models import OUTCOMES, UNFINISHED, Channel, Dispatch, DispatchState
from kivra.dispatch.tally import PENDING, DispatchTally, hour_of
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.payroll.models import PayrollRun, PayslipVersion

# PENDING: the pages' one outcome for the unfinished (queued, held and sending), as the tally counts them.
# What the pages count and filter by; cancelled rows (superseded by a correction) are left out everywhere.
PAGE_OUTCOMES = OUTCOMES + (PENDING,)
PER_PAGE = 100
# Every state but cancelled, named for the queries: `state IN (...)` walks the (company_id, state, dispatched_at)
# index a range per state, where `state != 'cancelled'` would read the whole company's part of it.
SHOWN_STATES = tuple(state for state in DispatchState if state != DispatchState.CANCELLED)


# --- months ------------------------------------------------------------------------------------------------------


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def this_month(now: datetime | None = None) -> date:
    """The month it is now in Sweden."""
    local = clock.in_sweden(now or utcnow())
    return date(local.year, local.month, 1)


def previous_month(now: datetime | None = None) -> date:
    return add_months(this_month(now), -1)


def parse_month(text: str | None) -> date | None:
    """`2026-03` as the first of March 2026; None for anything else."""
    try:
        value = datetime.strptime((text or "").strip(), "%Y-%m").date()
    except ValueError:
        return None
    return value if 2000 <= value.year <= 2100 else None


def utc_range(month: date) -> tuple[datetime, datetime]:
    """The month's first and next month's first instant in Sweden, as naive UTC (how dispatched_at is stored)."""
    return clock.as_stored(clock.from_sweden(month)), clock.as_stored(clock.from_sweden(add_months(month, 1)))


def minute_text(moment: datetime) -> str:
    """`2026-03-31 23:59` in Swedish time, as the pages and the CSV write it: sorts as text, reads the same in both
    languages."""
    return clock.in_sweden(moment).strftime("%Y-%m-%d %H:%M")


def _in_month(company_id: int, month: date, run_id: int | None = None) -> tuple:
    start, end = utc_range(month)
    clauses = (Dispatch.company_id == company_id, Dispatch.state.in_(SHOWN_STATES), Dispatch.dispatched_at >= start,
               Dispatch.dispatched_at < end)
    return clauses if run_id is None else (*clauses, Dispatch.run_id == run_id)


def _month_of(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    local = clock.in_sweden(moment)
    return date(local.year, local.month, 1)


def latest_month_with_sends(company_id: int) -> date | None:
    """The newest month in which the company's payslips went out: where the status page opens (the index's max)."""
    return _month_of(db.session.scalar(select(func.max(Dispatch.dispatched_at)).where(
        Dispatch.company_id == company_id, Dispatch.state != DispatchState.CANCELLED)))


def nearest_month_with_sends(company_id: int, month: date) -> date | None:
    """For an empty month: the closest month before or after it with sends (before wins a tie)."""
    start, end = utc_range(month)
    sent = (Dispatch.company_id == company_id, Dispatch.state != DispatchState.CANCELLED)
    before = _month_of(db.session.scalar(select(func.max(Dispatch.dispatched_at)).where(
        *sent, Dispatch.dispatched_at < start)))
    after = _month_of(db.session.scalar(select(func.min(Dispatch.dispatched_at)).where(
        *sent, Dispatch.dispatched_at >= end)))
    if before is None or after is None:
        return before or after

    def distance(other: date) -> int:
        return abs((other.year - month.year) * 12 + other.month - month.month)

    return before if distance(before) <= distance(after) else after


def run_month(run_id: int) -> date | None:
    """The month a run's payslips went out in (its first row), where the status page opens coming from the run."""
    return _month_of(db.session.scalar(select(func.min(Dispatch.dispatched_at)).where(
        Dispatch.run_id == run_id, Dispatch.state != DispatchState.CANCELLED)))


def month_runs(company_id: int, month: date) -> list[tuple[int, date]]:
    """The payroll runs with payslips sent in the month, newest period first: the status page's run filter. Read
    from the dispatch tally, the month's few rows per hour with sends, where the rows would be a probe per run (and
    a run with nothing in the month reads the whole month's rows to find none)."""
    first, last = _hours(month)
    sent = (select(DispatchTally.run_id)
            .where(DispatchTally.company_id == company_id, DispatchTally.hour >= first, DispatchTally.hour < last)
            .group_by(DispatchTally.run_id).having(func.sum(DispatchTally.n) > 0))
    return [(run_id, period) for run_id, period in db.session.execute(
        select(PayrollRun.id, PayrollRun.period).where(PayrollRun.company_id == company_id, PayrollRun.id.in_(sent))
        .order_by(PayrollRun.period.desc()))]


def _outcome_clause(outcome: str):
    return Dispatch.state.in_(UNFINISHED) if outcome == PENDING else Dispatch.state == outcome


# --- totals ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """Counts by outcome (queued, held and sending together as pending), Min lön's by reason, and by channel."""

    by_outcome: dict[str, int]
    min_lon_reasons: dict[str, int]
    by_channel: dict[tuple[str, str], int]

    def __getitem__(self, outcome: str) -> int:
        return self.by_outcome.get(outcome, 0)

    @property
    def total(self) -> int:
        return sum(self.by_outcome.values())

    def channel(self, channel: str, outcome: str | None = None) -> int:
        return sum(n for (c, o), n in self.by_channel.items() if c == channel and outcome in (None, o))


def _outcome(state: str) -> str:
    return PENDING if state in UNFINISHED else state


def _hours(month: date) -> tuple[int, int]:
    """The month's range [first, next month's first) of tally hours."""
    start, end = utc_range(month)
    return hour_of(start), hour_of(end)


def month_totals(company_id: int, month: date, run_id: int | None = None) -> Totals:
    """The month's counts (one run's payslips in it, when `run_id` is given), summed from the tally: a row per hour,
    run, channel, outcome and reason with sends, not a row per payslip."""
    by_outcome: dict[str, int] = {}
    reasons: dict[str, int] = {}
    by_channel: dict[tuple[str, str], int] = {}
    first, last = _hours(month)
    query = (select(DispatchTally.channel, DispatchTally.outcome, DispatchTally.reason, func.sum(DispatchTally.n))
             .where(DispatchTally.company_id == company_id, DispatchTally.hour >= first, DispatchTally.hour < last)
             .group_by(DispatchTally.channel, DispatchTally.outcome, DispatchTally.reason))
    if run_id is not None:
        query = query.where(DispatchTally.run_id == run_id)
    for channel, outcome, reason, count in db.session.execute(query):
        if not count:
            continue
        by_outcome[outcome] = by_outcome.get(outcome, 0) + count
        by_channel[channel, outcome] = by_channel.get((channel, outcome), 0) + count
        if outcome == DispatchState.PUBLISHED:
            reasons[reason or "no_agreement"] = reasons.get(reason or "no_agreement", 0) + count
    return Totals(by_outcome, reasons, by_channel)


@dataclass(frozen=True)
class MonthOutcomes:
    month: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def monthly_outcomes(company_id: int, last: date, months: int = 12) -> list[MonthOutcomes]:
    """Outcomes per month for the `months` months up to `last`: the tally's hours of the twelve months by outcome,
    each hour then placed in its month."""
    firsts = [add_months(last, offset) for offset in range(1 - months, 1)]
    bounds = [_hours(first)[0] for first in firsts] + [_hours(last)[1]]
    counts = [dict.fromkeys(PAGE_OUTCOMES, 0) for _ in firsts]
    query = (select(DispatchTally.hour, DispatchTally.outcome, func.sum(DispatchTally.n))
             .where(DispatchTally.company_id == company_id, DispatchTally.hour >= bounds[0],
                    DispatchTally.hour < bounds[-1])
             .group_by(DispatchTally.hour, DispatchTally.outcome))
    for hour, outcome, count in db.session.execute(query):
        counts[bisect_right(bounds, hour) - 1][outcome] += count
    return [MonthOutcomes(first, c) for first, c in zip(firsts, counts)]


# --- rows --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DispatchLine:
    """One payslip version on its way to one channel, as the status page lists it (personnummer masked)."""

    id: int
    employee_id: int
    name: str
    birth: str  # the personnummer's first eight digits; the full number only when asked for (`personnummer`)
    channel: str
    state: str
    reason: str | None
    error_code: int | None
    correlation_id: str | None
    dispatched_at: datetime
    version: int
    period: date  # the payroll run's month: two runs sent in one month are told apart by it
    personnummer: str | None = None

    @property
    def masked(self) -> str:
        return f"{self.birth}-****"

    @property
    def outcome(self) -> str:
        return _outcome(self.state)

    @property
    def is_correction(self) -> bool:
        return self.version > 1


@dataclass(frozen=True)
class Page:
    lines: list[DispatchLine]
    total: int  # rows matching the filter, all pages
    number: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def matching_employees(company_id: int, search: str) -> list[int]:
    """Employees whose name contains `search`, ignoring case. In Python: SQLite's lower() folds ASCII only, and
    names are Swedish (Åsa, Östen)."""
    needle = search.casefold()
    return [employee_id for employee_id, name in db.session.execute(
        select(Employee.id, Employee.name).where(Employee.company_id == company_id)) if needle in name.casefold()]


def _lines_query(company_id: int, month: date, outcome: str | None, search: str | None, full: bool = False,
                 run_id: int | None = None):
    columns = [Dispatch.id, Dispatch.employee_id, Employee.name, func.substr(Employee.personnummer, 1, 8),
               Dispatch.channel, Dispatch.state, Dispatch.reason, Dispatch.error_code, Dispatch.correlation_id,
               Dispatch.dispatched_at, PayslipVersion.number, PayrollRun.period]
    if full:
        columns.append(Employee.personnummer)
    query = (select(*columns)
             .join(Employee, Employee.id == Dispatch.employee_id)
             .join(PayslipVersion, PayslipVersion.id == Dispatch.version_id)
             .join(PayrollRun, PayrollRun.id == Dispatch.run_id)
             # The employees named by company too: PostgreSQL then hashes the company's (its index), not every
             # company's employees in a bureau's table (a sequential scan, two thirds of a 5 000-row month's time).
             .where(*_in_month(company_id, month, run_id), Employee.company_id == company_id))
    if outcome in PAGE_OUTCOMES:
        query = query.where(_outcome_clause(outcome))
    if search:
        query = query.where(Dispatch.employee_id.in_(matching_employees(company_id, search)))
    return query


_ORDER = (Employee.name, Employee.id, PayslipVersion.number, Dispatch.id)


def month_lines(company_id: int, month: date, outcome: str | None = None, search: str | None = None,
                page: int = 1, per_page: int = PER_PAGE, totals: Totals | None = None, run_id: int | None = None) -> Page:
    """A page of the month's payslips by employee name, filtered by outcome and a name search. Without a search the
    month's `totals` already say how many match, which saves counting them again."""
    query = _lines_query(company_id, month, outcome, search, run_id=run_id)
    if totals is not None and not search:  # the totals are of the same run filter
        total = totals[outcome] if outcome in PAGE_OUTCOMES else totals.total
    else:
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = db.session.execute(query.order_by(*_ORDER).limit(per_page).offset((page - 1) * per_page))
    return Page([DispatchLine(*row) for row in rows], total, page, per_page)


def all_lines(company_id: int, month: date, outcome: str | None = None, search: str | None = None,
              full_personnummer: bool = False, run_id: int | None = None) -> list[DispatchLine]:
    """Every matching payslip of the month (for the CSV); the full personnummer only when asked for."""
    query = _lines_query(company_id, month, outcome, search, full=full_personnummer, run_id=run_id).order_by(*_ORDER)
    return [DispatchLine(*row) for row in db.session.execute(query)]


@dataclass(frozen=True)
class EmployeeDispatches:
    """One employee's payslips of the month, side by side: what went to Kivra and what to Min lön."""

    employee_id: int
    name: str
    birth: str
    kivra: list[DispatchLine]
    min_lon: list[DispatchLine]

    @property
    def masked(self) -> str:
        return f"{self.birth}-****"


def by_employee(company_id: int, month: date, search: str | None = None, page: int = 1,
                per_page: int = PER_PAGE) -> tuple[list[EmployeeDispatches], Page]:
    """A page of the month's employees by name, each with their payslips per channel; and the paging. The month's
    employees are counted and paged in the database (ids only, from the month index), then the page's payslips
    read: a company of 5 000 employees costs a page, not 5 000 rows in Python."""
    month_ids = select(Dispatch.employee_id).where(*_in_month(company_id, month))
    if search:
        month_ids = month_ids.where(Dispatch.employee_id.in_(matching_employees(company_id, search)))
    paging = Page([], db.session.scalar(select(func.count()).select_from(month_ids.distinct().subquery())), 1,
                  per_page)
    paging = Page([], paging.total, min(max(page, 1), paging.pages), per_page)
    shown = list(db.session.scalars(
        select(Employee.id).where(Employee.company_id == company_id, Employee.id.in_(month_ids))
        .order_by(Employee.name, Employee.id).limit(per_page).offset((paging.number - 1) * per_page)))
    people: dict[int, EmployeeDispatches] = {}
    query = _lines_query(company_id, month, None, None).where(Dispatch.employee_id.in_(shown)).order_by(*_ORDER)
    for row in db.session.execute(query):
        line = DispatchLine(*row)
        person = people.get(line.employee_id)
        if person is None:
            person = people[line.employee_id] = EmployeeDispatches(line.employee_id, line.name, line.birth, [], [])
        (person.kivra if line.channel == Channel.KIVRA else person.min_lon).append(line)
    return list(people.values()), paging


# --- actions -----------------------------------------------------------------------------------------------------


def resend_failed(company_id: int, month: date) -> int:
    """The month's failed payslips go again (`resends.resend_failed_matching`, as for a run). Returns how many."""
    return resends.resend_failed_matching(company_id, *_in_month(company_id, month))


def failed_past_resend(company_id: int, month: date) -> int:
    """The month's failed rows that can never go again (`resends.failed_past_resend_matching`)."""
    return resends.failed_past_resend_matching(company_id, *_in_month(company_id, month))
