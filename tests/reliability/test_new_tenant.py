"""A long-running worker that already holds a Kivra token sends for a company that activated Kivra after it: the
token predates the company's tenant, and the worker must get a new one on its own."""
from datetime import date
from decimal import Decimal

from sqlalchemy import text

from kivra.accounts.models import Company, User
from kivra.dispatch import activation, service as dispatch, tasks
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.payroll import service as payroll
from kivra.sender_api import KivraClient
from tests.conftest import PASSWORD_HASH
from tests.reliability.checks import all_final, assert_delivered_exactly_once, wait_for
from tests.reliability.processes import Sandbox, worker, worker_env
from tests.reliability.scenario import Send, personnummer, queued_send, sqlite_stack, web_queue

FIRST, LATER = 3, 5


def send_for_a_company_activating_kivra_now(app, sandbox: Sandbox, numbers: list[str], queue: dict) -> Send:
    """The web process's part for a second company: Kivra approved (its tenant created here, not in the worker),
    then its run sent."""
    with app.app_context():
        company = Company(name="Senare AB", orgnr="5560160680", employer_contribution_rate=Decimal("31.42"),
                          street_address="Lillgatan 2", postal_code="222 33", city="Lund", email="lon@senare.se",
                          phone="046-12 34 56")
        admin = User(company=company, role="admin", email="admin@senare.se", name="Sara Senare", locale="sv",
                     password_hash=PASSWORD_HASH)
        db.session.add_all([company, admin])
        db.session.flush()
        db.session.add_all(
            Employee(company_id=company.id, name=f"Senare {index}", personnummer=number,
                     employment_start=date(2021, 1, 1), monthly_salary_ore=3_500_000, tax_rate=Decimal("30"))
            for index, number in enumerate(numbers)
        )
        db.session.commit()
        sandbox.admin("POST", "recipients", dict.fromkeys(numbers, "user"))
        with KivraClient(sandbox.url, "sandbox-client", "sandbox-secret") as web_client:
            activation.approve(company, admin, web_client, payslips=True, invoices=False)
        run = payroll.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
        payroll.calculate_run(run)
        with web_queue(queue):
            send = dispatch.request_send(run, admin)
            assert tasks.huey.pending_count() == 1, "start_send did not reach the workers' queue"
        queued = Send(send.id, company.id, numbers)
        db.session.remove()
    return queued


def test_a_worker_with_an_older_token_delivers_for_a_company_that_activated_kivra_later(
        tmp_path, processes, start_sandbox, app_on):
    sandbox = start_sandbox()
    database, queue, app = sqlite_stack(tmp_path, sandbox, app_on)
    env = worker_env(database, sandbox, **queue, DISPATCH_MAX_ATTEMPTS=3)
    running = processes.start(worker("worker", env, tmp_path / "worker.log", 2))

    # The worker sends for the first company, and so holds a token from before the second company's tenant.
    first = queued_send(app, sandbox, FIRST, queue)
    wait_for(app, first, all_final(FIRST), 60, "the first company's payslips final", processes.report)
    assert_delivered_exactly_once(app, first, sandbox.ledger())
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("DELETE FROM delivery_audit"))  # the audit check reads one send's deliveries

    later = send_for_a_company_activating_kivra_now(app, sandbox, personnummer(FIRST + LATER)[FIRST:], queue)
    wait_for(app, later, all_final(LATER), 60, "the later company's payslips final", processes.report)
    assert running.alive, processes.report()
    assert_delivered_exactly_once(app, later, sandbox.ledger())  # every row delivered: none failed, none twice
