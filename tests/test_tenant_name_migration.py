"""Migration 0015_tenant_name: the kivra_job kind CHECK takes `tenantname` and a job keeps Kivra's words for its
error; down again, the renames go and every other job stays. On PostgreSQL and SQLite."""
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from kivra.extensions import db
from tests.test_postgres import migrated_app, pg_app  # noqa: F401 - fixtures

INSERT = text("INSERT INTO kivra_job (company_id, kind, state, requested_at, attempts) "
              "VALUES (:company, :kind, 'done', CURRENT_TIMESTAMP, 0)")


def kinds() -> list[str]:
    with db.engine.connect() as connection:
        return sorted(connection.execute(text("SELECT kind FROM kivra_job")).scalars())


def columns() -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns("kivra_job")}


def test_0015_adds_the_rename_job_and_kivras_message_and_goes_down_keeping_the_other_jobs(migrated_app):
    upgrade(revision="0014_self_service")
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO company (name, orgnr, employer_contribution_rate, created_at, "
                                "kivra_retain, payout_day) VALUES ('Demo AB', '5568402266', 31.42, "
                                "CURRENT_TIMESTAMP, false, 25)"))
        company = connection.execute(text("SELECT id FROM company")).scalar_one()
        connection.execute(INSERT, dict(company=company, kind="access"))
    with pytest.raises(IntegrityError), db.engine.begin() as connection:  # 0014 has no name for it
        connection.execute(INSERT, dict(company=company, kind="tenantname"))

    upgrade(revision="0015_tenant_name")
    assert "error_message" in columns()
    with db.engine.begin() as connection:
        connection.execute(INSERT, dict(company=company, kind="tenantname"))
        connection.execute(text("UPDATE kivra_job SET error_message = '`name` is required' WHERE kind = 'tenantname'"))
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(INSERT, dict(company=company, kind="tenant"))
    assert kinds() == ["access", "tenantname"]

    downgrade(revision="0014_self_service")
    assert kinds() == ["access"] and "error_message" not in columns()
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(INSERT, dict(company=company, kind="tenantname"))
    upgrade()
    assert "error_message" in columns()
