"""A big send has PostgreSQL's statistics of the dispatch table refreshed at once: without them the planner takes the
new month for a handful of rows and the status page sorts all of a payday's rows to list 100
(kivra/dispatch/statistics.py)."""
import pytest
from sqlalchemy import event, text

from kivra.dispatch import service, statistics
from kivra.extensions import db
from tests.conftest import make_user
from tests.dispatch.test_engine import NUMBERS, calculated_run, sender  # noqa: F401 - fixture

pytestmark = pytest.mark.both_databases


def statements_of(action) -> list[str]:
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return seen


@pytest.mark.parametrize("threshold, analysed", [(3, True), (4, False)])
def test_a_send_of_at_least_the_threshold_analyses_the_dispatch_table(company, sender, monkeypatch, threshold,
                                                                      analysed):
    monkeypatch.setattr(statistics, "ANALYZE_AFTER_ROWS", threshold)
    run = calculated_run(company, *NUMBERS[:3])
    postgresql = db.engine.dialect.name == "postgresql"
    if postgresql:
        db.session.execute(text("ANALYZE dispatch"))  # the table known empty, as a bureau's knows nothing of the send
        db.session.commit()
    statements = statements_of(lambda: service.request_send(run, make_user(company, "payroll")))
    assert ("ANALYZE dispatch" in statements) is (analysed and postgresql)
    if postgresql:  # the planner now counts the send's rows
        estimate = db.session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'dispatch'"))
        assert (estimate == 3) is analysed, estimate


def test_a_table_held_by_another_analyze_costs_the_send_a_second_and_a_log_line(app, company, sender, caplog):
    """ANALYZE waits for a lock another ANALYZE or VACUUM holds: the send is written and started either way, and the
    refresh gives up after a second instead of holding the request."""
    run = calculated_run(company, *NUMBERS[:3])
    if db.engine.dialect.name != "postgresql":
        send = service.request_send(run, make_user(company, "payroll"))
        assert send.id and not [r for r in caplog.records if "statistics" in r.getMessage()]
        return
    with db.engine.connect() as other:
        other.execute(text("LOCK TABLE dispatch IN SHARE UPDATE EXCLUSIVE MODE"))  # what ANALYZE and VACUUM take
        db.session.execute(text("SET lock_timeout = '0'"))
        db.session.commit()
        send = service.request_send(run, make_user(company, "payroll"))
        statistics.analyze_dispatch()  # as after a big send
        other.rollback()
    assert send.id
    assert any("statistics were not refreshed" in r.getMessage() and "LockNotAvailable" in r.getMessage()
               for r in caplog.records)
