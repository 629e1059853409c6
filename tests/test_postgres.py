"""The production stack: every migration up and down on PostgreSQL, the demo company on it, and Redis answering."""
import pytest
import redis
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from kivra import create_app, demo
from kivra.accounts.models import Company
from kivra.employees.models import Employee
from kivra.extensions import db


@pytest.fixture
def pg_app(postgres_url, monkeypatch):
    """The app configured as in production, through DATABASE_URL, on an emptied database."""
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    app = create_app({"TESTING": True})
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def migrated_app(request, tmp_path):
    """An app on an empty database for a migration test: PostgreSQL as `pg_app`, and a SQLite file."""
    if request.param == "postgresql":
        yield request.getfixturevalue("pg_app")
        return
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrated.db'}"})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_migrations_build_the_models_schema_and_the_demo_seeds(pg_app):
    assert db.engine.dialect.name == "postgresql"
    upgrade()
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert not diff, diff

    assert demo.seed()
    company = db.session.scalar(select(Company).where(Company.orgnr == demo.DEMO_ORGNR))
    assert company.name == "Demo AB"
    assert db.session.scalar(select(func.count()).select_from(Employee).where(Employee.company_id == company.id)) == 25
    assert not demo.seed()


def test_every_migration_downgrades_and_upgrades_again(pg_app):
    upgrade()
    demo.seed()
    db.session.remove()  # the downgrade drops tables this session has read

    downgrade(revision="base")
    assert tables() == {"alembic_version"}

    upgrade()
    assert {"company", "employee", "payroll_run", "payslip", "kivra_agreement", "payslip_send"} <= tables()


def test_the_worker_heartbeat_migration_goes_down_and_up_again(pg_app):
    upgrade()
    assert "worker_heartbeat" in tables()
    downgrade(revision="0007")
    assert "worker_heartbeat" not in tables() and "portal_account" in tables()
    upgrade(revision="0009")
    indexes = {index["name"] for index in inspect(db.engine).get_indexes("worker_heartbeat")}
    assert indexes == {"ix_worker_heartbeat_name", "ix_worker_heartbeat_seen_at"}


def test_a_worker_heartbeat_is_read_back_alive_on_postgresql(pg_app):
    from datetime import timedelta

    from kivra.dispatch import heartbeat

    upgrade()
    assert heartbeat.silent(timedelta(minutes=1))
    heartbeat.beat()
    report = heartbeat.workers_health(timedelta(minutes=1), queue_depth=0)
    assert report.healthy and [worker["alive"] for worker in report.workers] == [True]
    assert 0 <= report.workers[0]["seen_seconds_ago"] < 5 and not heartbeat.silent(timedelta(minutes=1))


def test_redis_answers_ping(redis_url):
    with redis.Redis.from_url(redis_url) as client:
        assert client.ping()
