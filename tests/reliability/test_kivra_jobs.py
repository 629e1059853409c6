"""Approval in a web request asks Kivra nothing: a real `flask worker` registers the company and sends the run — also
when the task was lost before any worker saw it (the worker's periodic check does the job)."""
from datetime import date

import pytest
from sqlalchemy import select

from kivra.agreement.models import KivraJob, KivraSender
from kivra.dispatch import tasks
from kivra.dispatch.models import PayslipSend
from kivra.extensions import db
from kivra.payroll import service as payroll
from tests.conftest import Client
from tests.reliability.checks import all_final, assert_delivered_exactly_once, wait_for
from tests.reliability.processes import worker, worker_env
from tests.reliability.scenario import Send, company_with_employees, install_delivery_audit, migrate, web_queue

PAYSLIPS = 20


def approve_from_the_run(app, sandbox, queue: dict) -> Send:
    """An admin approves Kivra from the run's step page, through the web app, with the workers' queue."""
    with app.app_context():
        install_delivery_audit()
        company, admin, numbers = company_with_employees(sandbox, PAYSLIPS, name="Jobb AB")
        run = payroll.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
        payroll.calculate_run(run)
        with web_queue(queue):
            browser = Client(app.test_client()).login(admin)
            response = browser.post("/solutions/kivra/agreement", {"payslips": "1", "run": run.id})
            assert response.status_code == 303
            assert tasks.huey.pending_count() == 1, "the Kivra job did not reach the workers' queue"
        assert db.session.scalar(select(KivraSender)) is None  # the request registered nothing
        send = db.session.scalar(select(PayslipSend))
        assert send.state == "waiting_for_kivra"
        made = Send(send.id, company.id, numbers)
        db.session.remove()
    return made


@pytest.mark.parametrize("lost", [False, True], ids=["task", "lost-task"])
def test_a_worker_registers_the_company_and_sends_the_run_approved_in_a_web_request(
        tmp_path, processes, start_sandbox, app_on, lost):
    sandbox = start_sandbox()
    database = f"sqlite:///{tmp_path / 'jobs.db'}"
    migrate(database, tmp_path / "migrate.log")
    app = app_on(database, sandbox)
    queue = {"HUEY_SQLITE_PATH": str(tmp_path / "queue.db")}
    send = approve_from_the_run(app, sandbox, queue)
    if lost:
        with app.app_context(), web_queue(queue):
            tasks.huey.flush()  # the task is gone; only the job row is left
    settings = dict(KIVRA_ACCESS_CHECK_SECONDS=1, KIVRA_JOB_GRACE_SECONDS=0) if lost else {}
    processes.start(worker("worker", worker_env(database, sandbox, **queue, **settings), tmp_path / "worker.log", 2))

    wait_for(app, send, all_final(PAYSLIPS), 60, f"all {PAYSLIPS} payslips final", processes.report)
    with app.app_context():
        assert db.session.scalar(select(KivraSender.state)) == "active"
        assert db.session.scalars(select(KivraJob.state)).all() == ["done"]
        db.session.remove()
    print(assert_delivered_exactly_once(app, send, sandbox.ledger()))
