"""Migration 0013_mail: the outbox's earlier rows (never sent: nothing sent them) become queued or, if their
invitation link has expired, failed with that reason; whom they were for is found; resets and session versions for
users and Min lön accounts; up and down, on PostgreSQL and SQLite."""
from datetime import timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from kivra.accounts.models import Company
from kivra.clock import now
from kivra.extensions import db
from tests.conftest import make_employee
from tests.test_postgres import migrated_app, pg_app  # noqa: F401 - fixtures


def columns(table: str) -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns(table)}


def rows(sql: str) -> list[dict]:
    with db.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text(sql))]


def outbox_before_0013() -> dict[str, int]:
    """An invited employee's two invitations, a week and a half and a day old, and one to an address no employee
    has any more, written as 0012 wrote them."""
    with db.engine.begin() as connection:  # the company as 0012 has it (the model is the newest revision's)
        connection.execute(text("INSERT INTO company (name, orgnr, employer_contribution_rate, created_at, kivra_retain)"
                                " VALUES ('Demo AB', '5568402266', 31.42, :at, :no)"), {"at": now(), "no": False})
        company_id = connection.execute(text("SELECT MAX(id) FROM company")).scalar()
    employee_id = make_employee(Company(id=company_id), email="Astrid@Example.se").id
    db.session.remove()
    ids = {}
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO portal_account (employee_id, locale, created_at) VALUES (:employee, 'sv', :at)"),
            {"employee": employee_id, "at": now()})
        for name, address, age in (("old", "astrid@example.se", timedelta(days=10)),
                                   ("new", "astrid@example.se", timedelta(days=1)),
                                   ("gone", "left@example.se", timedelta(hours=1))):
            connection.execute(text("INSERT INTO outbound_email (to_address, subject, body, created_at) "
                                    "VALUES (:to, 'Din inbjudan till Min lön', 'Hej', :at)"),
                               {"to": address, "at": now() - age})
            ids[name] = connection.execute(text("SELECT MAX(id) FROM outbound_email")).scalar()
    ids["employee"], ids["company"] = employee_id, company_id
    return ids


def test_0013_queues_what_can_still_go_fails_expired_invitations_and_goes_down_keeping_every_message(migrated_app):
    upgrade(revision="0012_states")
    ids = outbox_before_0013()

    upgrade(revision="0013_mail")
    found = {row["id"]: row for row in rows("SELECT * FROM outbound_email")}
    old, new, gone = found[ids["old"]], found[ids["new"]], found[ids["gone"]]
    assert (old["state"], new["state"], gone["state"]) == ("failed", "queued", "queued")
    assert "expired" in old["last_error"] and old["failed_at"] is not None
    assert new["last_error"] is None and new["due_at"] == new["created_at"] and new["attempts"] == 0
    assert {row["kind"] for row in found.values()} == {"invitation"}
    # Whom each was for: the invited employee with that address, whatever its case; nobody for the third.
    assert (old["employee_id"], new["employee_id"], gone["employee_id"]) == (ids["employee"], ids["employee"], None)
    assert (new["company_id"], gone["company_id"]) == (ids["company"], None)
    account = rows("SELECT * FROM portal_account")[0]
    assert account["session_version"] == 0 and account["reset_hash"] is None
    assert account["notify_new_payslips"] in (True, 1)
    assert {"session_version", "reset_hash", "reset_requested_at"} <= columns("user")

    downgrade(revision="0012_states")
    assert len(rows("SELECT id FROM outbound_email")) == 3  # every message stays; only where it stood goes
    assert "state" not in columns("outbound_email") and "session_version" not in columns("user")
    assert "notify_new_payslips" not in columns("portal_account")

    upgrade()
    assert {row["state"] for row in rows("SELECT state FROM outbound_email")} == {"failed", "queued"}
