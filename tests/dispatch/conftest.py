"""Every dispatch test that has an app starts and ends with an empty queue: tests/conftest.py's `app` fixture empties
the in-memory queue, which outlives each test's app, before and after. And every one ends with the dispatch tally
equal to the rows it counts (kivra/dispatch/tally.py): whatever path a test took through sends, claims, resends,
corrections and retention, the triggers counted it."""
import pytest
from sqlalchemy.exc import DBAPIError

from kivra.extensions import db
from tests.tally_check import assert_tally_matches


@pytest.fixture(autouse=True)
def _tally_counts_every_row(request):
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    yield
    with app.app_context():
        try:
            connection = db.engine.connect()
        except DBAPIError:  # the test took the database away on purpose
            return
        with connection:
            assert_tally_matches(connection)
