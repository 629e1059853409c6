"""Migration 0014_self_service, up and down, on PostgreSQL and SQLite: every company and user from before it is
confirmed as of the company's creation (nothing that could send is stopped); going down keeps every company and every
user who has a password, and drops only what 0013 cannot hold (invited users with no password yet, the record of
changes, the e-mail of the two new kinds)."""
from datetime import timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from kivra.clock import now
from kivra.extensions import db
from tests.test_postgres import migrated_app, pg_app  # noqa: F401 - fixtures


def columns(table: str) -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns(table)}


def rows(sql: str) -> list[dict]:
    with db.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text(sql))]


def execute(sql: str, **values) -> int:
    with db.engine.begin() as connection:
        connection.execute(text(sql), values)
        table = sql.split()[2]
        return connection.execute(text(f"SELECT MAX(id) FROM {table}")).scalar()


def before_0014() -> dict:
    """Two companies and their users as 0013 has them (the models are the newest revision's: raw SQL)."""
    ids = {}
    for name, orgnr, age in (("Demo AB", "5568402266", timedelta(days=400)), ("Annat AB", "5560360793",
                                                                             timedelta(days=3))):
        ids[name] = execute("INSERT INTO company (name, orgnr, employer_contribution_rate, created_at, kivra_retain) "
                            "VALUES (:name, :orgnr, 31.42, :at, :no)", name=name, orgnr=orgnr, at=now() - age,
                            no=False)
    for email, company in (("anna@demo.se", "Demo AB"), ("lena@demo.se", "Demo AB"), ("olle@annat.se", "Annat AB")):
        ids[email] = execute('INSERT INTO "user" (company_id, email, name, role, password_hash, locale) '
                             "VALUES (:company, :email, 'Någon', 'admin', 'pbkdf2:sha256:1$x$y', 'sv')",
                             company=ids[company], email=email)
    execute("INSERT INTO outbound_email (kind, to_address, subject, body, created_at, state, due_at, attempts, user_id)"
            " VALUES ('password_reset', 'anna@demo.se', 'Återställ', 'Hej', :at, 'sent', :at, 1, :user)",
            at=now(), user=ids["anna@demo.se"])
    return ids


def test_0014_confirms_what_existed_and_goes_down_keeping_companies_and_users_with_a_password(migrated_app):
    upgrade(revision="0013_mail")
    ids = before_0014()

    upgrade(revision="0014_self_service")
    companies = {row["id"]: row for row in rows("SELECT * FROM company")}
    for company in companies.values():
        assert company["confirmed_at"] == company["created_at"] and company["payout_day"] == 25
        assert company["bankgiro"] is None and company["account_number"] is None
    for user in rows('SELECT * FROM "user"'):
        assert user["email_confirmed_at"] == companies[user["company_id"]]["created_at"]
        assert user["deactivated_at"] is None and user["invitation_hash"] is None
    assert {"confirmed_at", "payout_day"} <= columns("company") and "user_change" in inspect(db.engine).get_table_names()

    # What 0014 can hold and 0013 cannot: a colleague invited (no password yet), the record, the new e-mail kinds.
    demo = ids["Demo AB"]
    invited = execute('INSERT INTO "user" (company_id, email, name, role, locale, session_version, invitation_hash, '
                      "invited_at, invited_by_id) VALUES (:company, 'ny@demo.se', 'Ny', 'payroll', 'sv', 0, "
                      "'abc', :at, :by)", company=demo, at=now(), by=ids["anna@demo.se"])
    execute("INSERT INTO user_change (company_id, actor_id, actor_name, user_id, action, created_at) "
            "VALUES (:company, :actor, 'Anna', :user, 'invited', :at)", company=demo, actor=ids["anna@demo.se"],
            user=invited, at=now())
    for kind, to, user in (("user_invitation", "ny@demo.se", invited), ("signup_confirmation", "olle@annat.se",
                                                                          ids["olle@annat.se"])):
        execute("INSERT INTO outbound_email (kind, to_address, subject, body, created_at, state, due_at, attempts, "
                "user_id) VALUES (:kind, :to, 'Hej', 'Hej', :at, 'queued', :at, 0, :user)", kind=kind, to=to,
                at=now(), user=user)

    downgrade(revision="0013_mail")
    assert sorted(row["name"] for row in rows("SELECT name FROM company")) == ["Annat AB", "Demo AB"]
    assert sorted(row["email"] for row in rows('SELECT email FROM "user"')) == [
        "anna@demo.se", "lena@demo.se", "olle@annat.se"]  # only the invited one, who had no password, is gone
    assert [row["kind"] for row in rows("SELECT kind FROM outbound_email")] == ["password_reset"]
    assert "user_change" not in inspect(db.engine).get_table_names()
    assert not {"confirmed_at", "payout_day", "bankgiro"} & columns("company")
    assert not {"email_confirmed_at", "invitation_hash", "deactivated_at"} & columns("user")
    assert not [column for column in inspect(db.engine).get_columns("user")
                if column["name"] == "password_hash" and column["nullable"]]

    upgrade()
    assert {row["confirmed_at"] is not None for row in rows("SELECT confirmed_at FROM company")} == {True}
