"""The dispatch tally against the rows it counts: each key's sum in the tally is the number of rows with that key."""
from collections import Counter

from sqlalchemy import func, select

from kivra.dispatch.models import UNFINISHED, Dispatch, DispatchState
from kivra.dispatch.tally import KEY, PENDING, DispatchTally, hour_of


def counted_rows(connection) -> Counter:
    """The rows' keys counted in Python, from their columns (not from the database's own hour arithmetic)."""
    counts: Counter = Counter()
    for company_id, run_id, dispatched_at, channel, state, reason in connection.execute(select(
            Dispatch.company_id, Dispatch.run_id, Dispatch.dispatched_at, Dispatch.channel, Dispatch.state,
            Dispatch.reason).where(Dispatch.state != DispatchState.CANCELLED)):
        outcome = PENDING if state in UNFINISHED else state
        counts[company_id, hour_of(dispatched_at), run_id, channel, outcome, reason or ""] += 1
    return counts


def tallied(connection) -> Counter:
    sums = Counter()
    for *key, n in connection.execute(select(*KEY, func.sum(DispatchTally.n)).group_by(*KEY)):
        if n:
            sums[tuple(key)] = n
    return sums


def assert_tally_matches(connection) -> None:
    rows, tally = counted_rows(connection), tallied(connection)
    assert tally == rows, {"only in the rows": rows - tally, "only in the tally": tally - rows}
