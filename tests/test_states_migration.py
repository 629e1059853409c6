"""Migration 0012_states: CHECK constraints on every state column, and no cancelled_at; up and down, on PostgreSQL
and SQLite."""
from flask_migrate import downgrade, upgrade
from sqlalchemy import CheckConstraint, inspect

from kivra.extensions import db
from tests.test_postgres import migrated_app, pg_app  # noqa: F401 - fixtures
from tests.test_states import CONSTRAINED, one_row_per_table, refused


def check_constraints() -> set[tuple[str, str]]:
    inspector = inspect(db.engine)
    existing = set(inspector.get_table_names())  # user_change is younger than 0012
    return {(table, check["name"]) for table in {t for t, _ in CONSTRAINED} & existing
            for check in inspector.get_check_constraints(table)}


def model_check_constraints() -> set[tuple[str, str]]:
    """What the models declare, so what `db.create_all()` makes (named by the metadata's convention)."""
    return {(table.name, constraint.name) for table in db.metadata.tables.values() for constraint in table.constraints
            if isinstance(constraint, CheckConstraint)}


def send_columns() -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns("payslip_send")}


def test_0012_refuses_unknown_states_drops_cancelled_at_and_goes_down_again(migrated_app):
    upgrade()
    expected = {(table, f"ck_{table}_{column}") for table, column in CONSTRAINED}
    assert check_constraints() == expected == model_check_constraints()
    assert "cancelled_at" not in send_columns()
    ids = one_row_per_table()
    db.session.remove()
    for table, column in CONSTRAINED:
        assert refused(table, column, ids[table]), f"{table}.{column} accepted 'bogus'"

    downgrade(revision="0011_storage")
    assert "cancelled_at" in send_columns()
    assert check_constraints() == {("kivra_job", "ck_kivra_job_kind"), ("kivra_job", "ck_kivra_job_state")}
    assert not refused("dispatch", "state", ids["dispatch"])  # 0011's schema takes any value again
    with db.engine.begin() as connection:  # what the upgrade meets must be a known value
        connection.exec_driver_sql(f"UPDATE dispatch SET state = 'queued' WHERE id = {ids['dispatch']}")

    upgrade()
    assert check_constraints() == expected and "cancelled_at" not in send_columns()
