"""The migrations build exactly the schema the models describe, from an empty database."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect

from kivra import create_app
from kivra.extensions import db


def test_upgrade_from_empty_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        engine = create_engine(url)
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
            tables = set(inspect(connection).get_table_names())
        engine.dispose()
    assert not diff, diff
    assert {"company", "user", "employee", "payroll_run", "payslip", "payslip_version", "voucher"} <= tables


def test_the_worker_heartbeat_migration_goes_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        assert "worker_heartbeat" in inspect(db.engine).get_table_names()
        downgrade(revision="0007")
        assert "worker_heartbeat" not in inspect(db.engine).get_table_names()
        upgrade(revision="0009")
        columns = {column["name"] for column in inspect(db.engine).get_columns("worker_heartbeat")}
        db.engine.dispose()
    assert columns == {"id", "name", "host", "pid", "started_at", "seen_at"}
