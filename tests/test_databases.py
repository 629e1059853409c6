"""The `app` fixture on each database: a fresh database per test (what a test added is gone too), a second app
on the same database, sessions in UTC."""
from datetime import datetime

import pytest
from sqlalchemy import inspect, select, text

from kivra import create_app
from kivra.accounts.models import Company
from kivra.extensions import db
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
