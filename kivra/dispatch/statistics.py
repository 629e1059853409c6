"""PostgreSQL's statistics of the dispatch table, refreshed after a big send.

The planner knows a big send's rows only once the dispatch table is analysed, which autovacuum does after a tenth of
the table has changed: in a bureau's table of a million rows, never for one company's 20 000. Until then it takes the
new month for a handful of rows, and the status page sorts all 20 000 to list the first 100 (145–330 ms a view during
a send, 44–63 ms once analysed; docs/benchmarks.md, "Web during a send"). A send this big has the table analysed at
once: a sample, about 0.2 s. SQLite keeps no statistics unless asked: nothing to do there.
"""
import logging

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kivra.extensions import db

log = logging.getLogger(__name__)
ANALYZE_AFTER_ROWS = 1000


def after_send(rows: int) -> None:
    """A send of `rows` rows was written (and started): analyse the table if it was a big one."""
    if rows >= ANALYZE_AFTER_ROWS and db.engine.dialect.name == "postgresql":
        analyze_dispatch()


def analyze_dispatch() -> None:
    """Worth doing, never worth waiting for: another ANALYZE or a VACUUM holding the table makes it give up after a
    second, and a failure is logged (the send is written and started already; autovacuum catches up later)."""
    try:
        db.session.execute(text("SET LOCAL lock_timeout = '1s'"))
        db.session.execute(text("ANALYZE dispatch"))
        db.session.commit()
    except DBAPIError as error:
        db.session.rollback()
        log.warning("the dispatch table's statistics were not refreshed after a big send (%s)",
                    type(error.orig).__name__)
