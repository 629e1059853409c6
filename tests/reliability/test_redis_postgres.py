"""The production stack: two worker processes on one Redis queue and one PostgreSQL database race through a send."""
from sqlalchemy import text

from kivra.extensions import db
from tests.reliability.checks import all_final, assert_delivered_exactly_once, wait_for
from tests.reliability.processes import worker, worker_env
from tests.reliability.scenario import install_delivery_audit, migrate, queued_send

PAYSLIPS, THREADS = 300, 4
WORKERS = ("worker-a", "worker-b")


def test_two_workers_on_redis_and_postgres_share_a_send_and_deliver_each_payslip_once(
        tmp_path, processes, start_sandbox, app_on, postgres_url, redis_url):
    sandbox = start_sandbox()
    app = app_on(postgres_url, sandbox)
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    migrate(postgres_url, tmp_path / "migrate.log")
    with app.app_context():
        install_delivery_audit()  # records the application_name of the connection that marked a row delivered
    queue = {"REDIS_URL": redis_url}
    send = queued_send(app, sandbox, PAYSLIPS, queue)
    workers = [
        processes.start(worker(name, worker_env(f"{postgres_url}?application_name={name}", sandbox, **queue),
                               tmp_path / f"{name}.log", THREADS))
        for name in WORKERS
    ]

    def both_alive():
        assert all(w.alive for w in workers), f"a worker died during the send\n{processes.report()}"

    wait_for(app, send, all_final(PAYSLIPS), 120, f"all {PAYSLIPS} payslips final", processes.report, both_alive)
    both_alive()
    outcome = assert_delivered_exactly_once(app, send, sandbox.ledger())
    # Each process recorded deliveries of its own: the two really raced, and neither doubled the other's rows.
    assert set(outcome.marked_by) == set(WORKERS), outcome.marked_by
    print(f"deliveries recorded by {dict(outcome.marked_by)}; {outcome}")
