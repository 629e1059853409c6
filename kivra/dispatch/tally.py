"""The dispatch tally: how many rows each company has per hour, run, channel, outcome and reason, kept by the database.

The status pages count a month by outcome, and the chart twelve of them. Counted from the dispatch rows, that costs a
row of index per payslip: 5 000 for a big company's month, 60 000 for its chart, and more every year. Counted from
the tally it costs a row per hour with sends: a month is a handful of rows, whatever the company's size.

Triggers on `dispatch` write the tally, so no code path can forget it (a send, a claim, a resend, retention, a
migration): each row added, changed or deleted appends its delta, -1 for what it was and +1 for what it is, when its
key changes. Appending never updates a counter row, so the workers finishing rows at once never wait for each other
or deadlock on one. Deltas are `fresh`; the sweep (`compact`) folds each key's rows into one. A key's figure is the
sum of its rows, compacted or not, so a page reads the same before and after compaction.

The key: the company, the run, the UTC hour of `dispatched_at` (hours since 1970; a Swedish month starts on a whole
UTC hour, so months are ranges of hours), the channel, the outcome (queued, held and sending are `pending`; cancelled
rows are not counted) and the reason ('' for none).
"""
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import (
    DDL,
    BigInteger,
    Index,
    Integer,
    String,
    delete,
    event,
    func,
    insert,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import Mapped, mapped_column

from kivra.extensions import db

PENDING = "pending"
COMPACTION_LOCK = 0x7461_6C6C_79  # "tally": PostgreSQL's advisory lock for one compaction at a time


class DispatchTally(db.Model):
    __table_args__ = (
        Index("ix_dispatch_tally_key", "company_id", "hour", "run_id", "channel", "outcome", "reason"),
        Index("ix_dispatch_tally_fresh", "id", sqlite_where=text("fresh"), postgresql_where=text("fresh")),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    company_id: Mapped[int]
    run_id: Mapped[int]
    hour: Mapped[int]  # hours since 1970-01-01 00:00 UTC
    channel: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(30))
    n: Mapped[int]
    fresh: Mapped[bool]


KEY = (DispatchTally.company_id, DispatchTally.hour, DispatchTally.run_id, DispatchTally.channel,
       DispatchTally.outcome, DispatchTally.reason)


def hour_of(moment: datetime) -> int:
    """The tally's hour of a moment: naive is UTC (how dispatched_at is stored), aware is converted."""
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()) // 3600


# --- the triggers ------------------------------------------------------------------------------------------------
# Written out for each database: SQLite's triggers are statements, PostgreSQL's a function. Migration 0020 creates
# the same ones (a migration keeps its own copy, as the schema stood then). The dispatch models install them
# (`install`, with their waiting and cancelled states), so wherever the dispatch table is made they are made too.
# A later migration that recreates `dispatch` on SQLite (batch_alter_table copies it to a new table) drops its
# triggers: it must create them again (tests/dispatch/test_tally.py compares a migrated database's with these).

TRIGGER_NAMES = ("dispatch_tally_insert", "dispatch_tally_delete", "dispatch_tally_update")
FUNCTION_NAME = "dispatch_tally"
_COLUMNS = "company_id, run_id, hour, channel, outcome, reason, n, fresh"
_HOUR = {
    # The stored text 'YYYY-MM-DD HH:MM:SS.ffffff' cut to its hour: strftime('%s') would round .9999995 s up.
    "sqlite": "CAST(strftime('%s', substr({row}.dispatched_at, 1, 14) || '00') AS INTEGER) / 3600",
    "postgresql": "floor(extract(epoch FROM {row}.dispatched_at) / 3600)::integer",
}


def trigger_statements(pending: tuple[str, ...], cancelled: str) -> dict[str, tuple[str, ...]]:
    """The triggers' DDL per database, for the dispatch states that count as pending and the one not counted."""
    waiting = ", ".join(f"'{state}'" for state in pending)

    def values(dialect: str, row: str, n: int) -> str:
        return (f"{row}.company_id, {row}.run_id, {_HOUR[dialect].format(row=row)}, {row}.channel, "
                f"CASE WHEN {row}.state IN ({waiting}) THEN '{PENDING}' ELSE {row}.state END, "
                f"coalesce({row}.reason, ''), {n}, {'1' if dialect == 'sqlite' else 'true'}")

    def key(dialect: str, row: str) -> str:  # what the tally keys on; NULL outcome for a cancelled row
        return (f"{row}.company_id, {row}.run_id, {_HOUR[dialect].format(row=row)}, {row}.channel, "
                f"CASE WHEN {row}.state IN ({waiting}) THEN '{PENDING}' WHEN {row}.state = '{cancelled}' THEN NULL "
                f"ELSE {row}.state END, coalesce({row}.reason, '')")

    keyed = "AFTER UPDATE OF company_id, run_id, dispatched_at, channel, state, reason ON dispatch"
    add, run = f"INSERT INTO dispatch_tally ({_COLUMNS})", f"EXECUTE FUNCTION {FUNCTION_NAME}()"
    sqlite = (
        (f"CREATE TRIGGER dispatch_tally_insert AFTER INSERT ON dispatch WHEN NEW.state != '{cancelled}'\n"
         f"BEGIN {add} VALUES ({values('sqlite', 'NEW', 1)}); END"),
        (f"CREATE TRIGGER dispatch_tally_delete AFTER DELETE ON dispatch WHEN OLD.state != '{cancelled}'\n"
         f"BEGIN {add} VALUES ({values('sqlite', 'OLD', -1)}); END"),
        (f"CREATE TRIGGER dispatch_tally_update {keyed}\n"
         f"WHEN ({key('sqlite', 'OLD')}) IS NOT ({key('sqlite', 'NEW')})\nBEGIN\n"
         f"  {add} SELECT {values('sqlite', 'OLD', -1)} WHERE OLD.state != '{cancelled}';\n"
         f"  {add} SELECT {values('sqlite', 'NEW', 1)} WHERE NEW.state != '{cancelled}';\nEND"),
    )
    postgresql = (
        (f"CREATE FUNCTION {FUNCTION_NAME}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
         f"  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state <> '{cancelled}' THEN\n"
         f"    {add} VALUES ({values('postgresql', 'OLD', -1)});\n  END IF;\n"
         f"  IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.state <> '{cancelled}' THEN\n"
         f"    {add} VALUES ({values('postgresql', 'NEW', 1)});\n  END IF;\n"
         f"  RETURN NULL;\nEND $$"),
        f"CREATE TRIGGER dispatch_tally_insert AFTER INSERT ON dispatch FOR EACH ROW {run}",
        f"CREATE TRIGGER dispatch_tally_delete AFTER DELETE ON dispatch FOR EACH ROW {run}",
        (f"CREATE TRIGGER dispatch_tally_update {keyed}\n"
         f"FOR EACH ROW WHEN (({key('postgresql', 'OLD')}) IS DISTINCT FROM ({key('postgresql', 'NEW')}))\n"
         f"{run}"),
    )
    return {"sqlite": sqlite, "postgresql": postgresql}


def install(pending: tuple[str, ...], cancelled: str) -> None:
    """Make the triggers with the tables (create_all) on either database, and drop PostgreSQL's function with them."""
    for dialect, statements in trigger_statements(pending, cancelled).items():
        for statement in statements:
            # DDL formats its text with %: SQLite's strftime('%s', ...) is written %%s for it.
            event.listen(db.metadata, "after_create", DDL(statement.replace("%", "%%")).execute_if(dialect=dialect))
    event.listen(db.metadata, "after_drop", DDL(f"DROP FUNCTION IF EXISTS {FUNCTION_NAME}()")
                 .execute_if(dialect="postgresql"))


# --- compaction --------------------------------------------------------------------------------------------------


def compact(keys: int = 2_000) -> int:
    """Fold the rows of up to `keys` keys with fresh deltas into one row each; returns how many keys. The caller
    commits. The rows deleted are exactly those summed (DELETE ... RETURNING), so a delta committed meanwhile by a
    worker stays as it is, and two sweeps compacting at once each fold only what they deleted: the sums never
    change. On PostgreSQL one sweep at a time compacts (a transaction lock), so two never wait for each other's rows.
    """
    if db.engine.dialect.name == "postgresql" and not db.session.scalar(
            select(func.pg_try_advisory_xact_lock(COMPACTION_LOCK))):
        return 0
    # One statement, a write first: on SQLite a read before it could find the file changed when it comes to write.
    chosen = select(*KEY).where(DispatchTally.fresh).distinct().limit(keys)
    sums: Counter = Counter()
    for *key, n in db.session.execute(delete(DispatchTally).where(tuple_(*KEY).in_(chosen))
                                      .returning(*KEY, DispatchTally.n)):
        sums[tuple(key)] += n
    folded = [dict(zip((column.key for column in KEY), key), n=n, fresh=False) for key, n in sums.items() if n]
    if folded:
        db.session.execute(insert(DispatchTally), folded)
    return len(sums)


def compact_all() -> int:
    """Compact until no fresh delta is left, committing each batch (after a bulk load; the sweep compacts a batch)."""
    total = 0
    while count := compact():
        db.session.commit()
        total += count
    db.session.commit()
    return total
