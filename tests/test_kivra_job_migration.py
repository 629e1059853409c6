"""Migration 0010 (the Kivra jobs pages ask workers for), up and down, on PostgreSQL and SQLite."""
import pytest
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from kivra.extensions import db
from tests.test_postgres import migrated_app, pg_app  # noqa: F401 - fixtures

INSERT = text("INSERT INTO kivra_job (company_id, kind, state, requested_at, attempts) "
              "VALUES (:company, :kind, :state, CURRENT_TIMESTAMP, 0)")


def test_0010_adds_the_job_table_with_one_open_job_per_company_and_kind_and_goes_down_again(migrated_app):
    upgrade()
    assert "kivra_job" in inspect(db.engine).get_table_names()  # models and migrations agree: tests/test_migrations.py
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO company (name, orgnr, employer_contribution_rate, created_at, "
                                "kivra_retain) VALUES ('Demo AB', '5568402266', 31.42, CURRENT_TIMESTAMP, false)"))
        company = connection.execute(text("SELECT id FROM company")).scalar_one()
        connection.execute(INSERT, dict(company=company, kind="access", state="done"))
        connection.execute(INSERT, dict(company=company, kind="access", state="queued"))
        connection.execute(INSERT, dict(company=company, kind="usermatch", state="running"))
    for kind, state in (("access", "running"), ("access", "sending"), ("tenant", "queued")):
        with pytest.raises(IntegrityError), db.engine.begin() as connection:  # a second open job; unknown values
            connection.execute(INSERT, dict(company=company, kind=kind, state=state))

    below = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config()).get_revision("0010")
    downgrade(revision=below.down_revision)
    assert "kivra_job" not in inspect(db.engine).get_table_names()
    upgrade(revision="0010")
    assert "kivra_job" in inspect(db.engine).get_table_names()
