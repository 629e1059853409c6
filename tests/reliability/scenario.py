"""The send under test: a company with Kivra, N employees who are all Kivra users, a calculated run, and its send
queued for real worker processes the way the web process queues it."""
import contextlib
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import text

from kivra import create_app
from kivra.accounts.models import Company, User
from kivra.config import load_config
from kivra.dispatch import activation, app_queue, service as dispatch, tasks
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.identity import luhn_valid, with_check_digit
from kivra.payroll import service as payroll
from kivra.sender_api import KivraClient
from tests.conftest import PASSWORD_HASH
from tests.reliability.processes import ROOT, Sandbox, child_env, tail


def personnummer(count: int) -> list[str]:
    """`count` distinct valid personnummer (born 1950–51, never a samordningsnummer), Luhn digit included."""
    return [with_check_digit(f"{1950 + i // 336}{1 + i // 28 % 12:02d}{1 + i % 28:02d}{i % 1000:03d}")
            for i in range(count)]


def migrate(database_url: str, log: Path) -> None:
    """`flask db upgrade` in its own process, as a deploy runs it (Alembic's logging setup stays out of pytest's)."""
    env = child_env(APP_ENV="testing", SECRET_KEY="reliability", DATABASE_URL=database_url)
    with open(log, "ab") as output:
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=ROOT, env=env,
                              stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, timeout=120)
    assert done.returncode == 0, f"flask db upgrade exited with {done.returncode}:\n{tail(log)}"


def make_app(database_url: str, sandbox_url: str) -> Flask:
    """The test process's app on the workers' database, configured as DATABASE_URL would configure it."""
    config = load_config(str(ROOT / "instance"), {"APP_ENV": "testing", "SECRET_KEY": "reliability",
                                                  "DATABASE_URL": database_url})
    return create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": config["SQLALCHEMY_DATABASE_URI"],
        "SQLALCHEMY_ENGINE_OPTIONS": config["SQLALCHEMY_ENGINE_OPTIONS"],
        "KIVRA_API_URL": sandbox_url,
    })


# Evidence the engine does not keep: which process marked a row delivered, and that it happened once per row.
AUDIT = {
    "sqlite": [
        "CREATE TABLE delivery_audit (dispatch_id INTEGER NOT NULL, marked_by TEXT)",
        "CREATE TRIGGER dispatch_delivered AFTER UPDATE OF state ON dispatch "
        "WHEN NEW.state = 'delivered' AND OLD.state <> 'delivered' "
        "BEGIN INSERT INTO delivery_audit (dispatch_id) VALUES (NEW.id); END",
    ],
    "postgresql": [
        "CREATE TABLE delivery_audit (dispatch_id INTEGER NOT NULL, marked_by TEXT)",
        "CREATE FUNCTION audit_delivery() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO delivery_audit VALUES (NEW.id, current_setting('application_name')); RETURN NEW; END $$",
        "CREATE TRIGGER dispatch_delivered AFTER UPDATE OF state ON dispatch FOR EACH ROW "
        "WHEN (NEW.state = 'delivered' AND OLD.state <> 'delivered') EXECUTE FUNCTION audit_delivery()",
    ],
}


def install_delivery_audit() -> None:
    with db.engine.begin() as connection:
        for statement in AUDIT[db.engine.dialect.name]:
            connection.execute(text(statement))


def delivery_audit() -> list[tuple[int, str | None]]:
    return [tuple(row) for row in db.session.execute(text("SELECT dispatch_id, marked_by FROM delivery_audit"))]


@dataclass(frozen=True)
class Send:
    send_id: int
    company_id: int
    numbers: list[str]


def sqlite_stack(tmp_path, sandbox: Sandbox, app_on) -> tuple[str, dict, Flask]:
    """The workers' SQLite database (migrated, deliveries audited), their SQLite queue, and this process's app on
    them: what most reliability tests start from."""
    database = f"sqlite:///{tmp_path / 'payroll.db'}"
    queue = {"HUEY_SQLITE_PATH": str(tmp_path / "queue.db")}
    migrate(database, tmp_path / "migrate.log")
    app = app_on(database, sandbox)
    with app.app_context():
        install_delivery_audit()
    return database, queue, app


def orgnr(index: int) -> str:
    """A valid organisation number of its own for the `index`-th company of a test (0: Demo AB's)."""
    if index == 0:
        return "5568402266"
    first_nine = f"5567{index:05d}"
    return next(first_nine + d for d in "0123456789" if luhn_valid(first_nine + d))


def company_with_employees(sandbox: Sandbox, count: int, name: str = "Tillförlitlig AB",
                           index: int = 0) -> tuple[Company, User, list[str]]:
    """Employer details filled in (Kivra refuses payslips without them), an admin, and `count` employees whom the
    sandbox knows as Kivra users; no Kivra agreement yet. The `index`-th company of a test has an org.nr, e-mail
    addresses and employees of its own, so several can share a database and Kivra's ledger tells them apart."""
    company = Company(name=name, orgnr=orgnr(index), employer_contribution_rate=Decimal("31.42"),
                      street_address="Storgatan 1", postal_code="111 22", city="Stockholm",
                      email=f"lon{index or ''}@example.se", phone="08-123 45 67")
    admin = User(company=company, role="admin", email=f"admin{index or ''}@example.se", name="Anna Admin",
                 locale="sv", password_hash=PASSWORD_HASH)
    db.session.add_all([company, admin])
    db.session.flush()
    numbers = personnummer(count * (index + 1))[count * index:]
    db.session.add_all(
        Employee(company_id=company.id, name=f"Person {index}-{n:03d}", personnummer=number,
                 employment_start=date(2020, 1, 1), monthly_salary_ore=3_000_000 + n * 100, tax_rate=Decimal("30"))
        for n, number in enumerate(numbers)
    )
    db.session.commit()
    sandbox.admin("POST", "recipients", dict.fromkeys(numbers, "user"))
    return company, admin, numbers


def company_with_kivra(sandbox: Sandbox, count: int, index: int = 0,
                       name: str = "Tillförlitlig AB") -> tuple[Company, User, list[str]]:
    """`company_with_employees`, with the agreement approved and Kivra's access granted (a tenant of its own)."""
    company, admin, numbers = company_with_employees(sandbox, count, name=name, index=index)
    with KivraClient(sandbox.url, "sandbox-client", "sandbox-secret") as client:
        activation.approve(company, admin, client, payslips=True, invoices=False)
    return company, admin, numbers


@contextlib.contextmanager
def web_queue(environ: dict, flush: bool = True):
    """The app in hand's queue as the web process's: the workers' SQLite file or Redis (the QUEUE_URL and HUEY_NAME
    these variables give a worker) instead of conftest's memory; emptied first unless `flush` is false (other sends'
    tasks stay)."""
    workers = load_config(str(ROOT / "instance"), {"APP_ENV": "testing", "SECRET_KEY": "reliability", **environ})
    config = current_app.config
    memory = config["QUEUE_URL"], config["HUEY_NAME"]
    config["QUEUE_URL"], config["HUEY_NAME"] = workers["QUEUE_URL"], workers["HUEY_NAME"]
    try:
        if flush:
            tasks.huey.flush()  # Redis outlives a test: start from an empty queue
        yield
    finally:
        config["QUEUE_URL"], config["HUEY_NAME"] = memory
        app_queue.close(workers["QUEUE_URL"])  # its connections (Redis's pool)


def queued_send(app: Flask, sandbox: Sandbox, count: int, queue_environ: dict, index: int = 0) -> Send:
    """Press "send" as the web process does: one send and its rows in one transaction, then `start_send` queued
    where the workers read (`tasks.kick`). The first company's send (index 0) starts from an empty queue; another
    company's joins whatever other sends left in it, workers running or not."""
    with app.app_context():
        company, admin, numbers = company_with_kivra(sandbox, count, index=index,
                                                     name=f"Drift {index} AB" if index else "Tillförlitlig AB")
        run = payroll.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
        payroll.calculate_run(run)
        with web_queue(queue_environ, flush=index == 0):
            send = dispatch.request_send(run, admin)
            # (With other sends' tasks in the queue, live workers take them as they come: nothing to count.)
            assert index or tasks.huey.pending_count() == 1, "start_send did not reach the workers' queue"
        queued = Send(send.id, company.id, numbers)
        db.session.remove()
    return queued
