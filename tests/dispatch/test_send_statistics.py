"""A big send has PostgreSQL's statistics of the dispatch table refreshed at once: without them the planner takes the
new month for a handful of rows and the status page sorts all of a payday's rows to list 100 (kivra/dispatch/service.py,
ANALYZE_AFTER_ROWS)."""
import pytest
from sqlalchemy import event, text

from kivra.dispatch import service
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
    monkeypatch.setattr(service, "ANALYZE_AFTER_ROWS", threshold)
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
