"""The `app` fixture on each database: a fresh database per test (what a test added is gone too), a second app
on the same database, sessions in UTC, and a connection for every thread of a worker at once."""
import threading
from datetime import datetime

import pytest
from sqlalchemy import inspect, select, text

from kivra import create_app
from kivra.accounts.models import Company
from kivra.extensions import db
from kivra.worker import consumer_threads
from tests.conftest import make_company

pytestmark = pytest.mark.both_databases


@pytest.mark.parametrize("turn", ["first", "second"])
def test_every_test_starts_empty_with_ids_from_one(app, turn):
    assert db.session.scalars(select(Company)).all() == []
    assert "added_by_a_test" not in inspect(db.engine).get_table_names()
    assert make_company(f"{turn} AB").id == 1
    with db.engine.begin() as connection:  # as the delivery audit of tests/reliability does
        connection.execute(text("CREATE TABLE added_by_a_test (id INTEGER)"))


def test_a_second_app_from_app_config_shares_the_test_database(app, app_config):
    company_id = make_company().id
    other = create_app(app_config)
    with other.app_context():
        try:
            assert db.session.get(Company, company_id).name == "Demo AB"
        finally:
            db.session.remove()
            db.engine.dispose()


def test_times_are_read_back_as_written(app, database):
    """Naive UTC in, the same naive UTC out, whatever zone the server is in (the PostgreSQL one is in Stockholm)."""
    company = make_company()
    company.moved_from_vla_at = datetime(2026, 3, 29, 1, 30)  # the night Sweden moves its clocks forward
    db.session.commit()
    db.session.expire_all()
    assert company.moved_from_vla_at == datetime(2026, 3, 29, 1, 30)
    if database == "postgresql":
        assert db.session.scalar(text("SHOW timezone")) == "UTC"


def test_a_worker_of_32_threads_gets_a_connection_for_each_at_once(app):
    """`flask worker --threads 32`: its consumer's threads and its three housekeeping ones. SQLAlchemy's default
    pool (5, and 10 more) made the 16th thread wait for a connection, and after 30 s fail its attempt: on SQLite (the
    embedded default) as on PostgreSQL. Each thread holds one at the same moment."""
    threads, engine = consumer_threads(32) + 3, db.engine
    together = threading.Barrier(threads, timeout=10)
    errors = []

    def use_the_database():
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                together.wait()  # every thread holds its connection at this moment
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(type(error).__name__)

    running = [threading.Thread(target=use_the_database) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    assert errors == []
    assert engine.pool.checkedin() == threads  # kept for the next send, not opened again
