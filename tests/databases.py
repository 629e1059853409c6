"""The integration tests' PostgreSQL: one database with the models' tables, made once a session, emptied per test."""
from dataclasses import dataclass

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.dialects import postgresql

from kivra import create_app
from kivra.config import load_config
from kivra.dispatch import tally
from kivra.extensions import db

DATABASE = "integration"  # its own: tests/test_postgres.py drops and migrates the server's first database


def config_for(url: str) -> dict:
    """The URL and engine options DATABASE_URL gives in production (on PostgreSQL: sessions in UTC)."""
    config = load_config("instance", {"APP_ENV": "testing", "SECRET_KEY": "test", "DATABASE_URL": url})
    return {key: config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS")}


@dataclass(frozen=True)
class PostgresTables:
    url: str
    empty: str  # one round trip that makes the database as fresh as a new one


def make_tables(server_url: str) -> PostgresTables:
    url = make_url(server_url).set(database=DATABASE).render_as_string(hide_password=False)
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {DATABASE}"))
            # A Swedish server's zone, as production may have: the app's own sessions must still be in UTC.
            connection.execute(text(f"ALTER DATABASE {DATABASE} SET timezone = 'Europe/Stockholm'"))
    finally:
        server.dispose()
    app = create_app({"TESTING": True, **config_for(url)})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return PostgresTables(url, _emptying_statement())


def _emptying_statement() -> str:
    """What a test added beside the models and their triggers (a table, a trigger, a function) dropped; then DELETE, children first,
    and every id sequence back at 1. DELETE of a test's few rows takes ~7 ms here; TRUNCATE takes 45–80 ms, as it
    makes new files for every table and index. A transaction a test left open fails the next test after 5 s
    instead of blocking it."""
    quote = postgresql.dialect().identifier_preparer.format_table
    models = ", ".join(f"'{table.name}'" for table in db.metadata.sorted_tables)
    triggers = ", ".join(f"'{name}'" for name in tally.TRIGGER_NAMES)  # the models' own (the dispatch tally's)
    drop_additions = f"""DO $$ DECLARE added record; BEGIN
        FOR added IN SELECT 'DROP TRIGGER ' || quote_ident(tgname) || ' ON ' || tgrelid::regclass AS ddl FROM pg_trigger
                     WHERE NOT tgisinternal AND tgname NOT IN ({triggers})
                     UNION ALL
                     SELECT 'DROP TABLE ' || oid::regclass || ' CASCADE' FROM pg_class
                     WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace AND relname NOT IN ({models})
                     UNION ALL
                     SELECT 'DROP FUNCTION ' || oid::regprocedure || ' CASCADE' FROM pg_proc
                     WHERE pronamespace = 'public'::regnamespace AND proname <> '{tally.FUNCTION_NAME}'
        LOOP EXECUTE added.ddl; END LOOP; END $$"""
    # The tally last: deleting the dispatch rows writes its deltas.
    tables = sorted(reversed(db.metadata.sorted_tables), key=lambda table: table is tally.DispatchTally.__table__)
    deletes = [f"DELETE FROM {quote(table)}" for table in tables]
    restart = ("SELECT setval(oid, 1, false) FROM pg_class "
               "WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace")
    return "; ".join(["SET LOCAL lock_timeout = '5s'", drop_additions, *deletes, restart])


def empty(tables: PostgresTables) -> None:
    with db.engine.begin() as connection:
        connection.exec_driver_sql(tables.empty)
