"""`flask worker`: Huey's consumer running the dispatch tasks, plus the housekeeping thread (sweep, access checks).

Run one per machine or several; on Redis (REDIS_URL) any number of processes share the queue, and the database's
conditional updates keep every row single whichever process claims it.
"""
from flask import Flask

from kivra.config import log_effective
from kivra.dispatch import heartbeat, leases, tasks
from kivra.solutions import jobs  # noqa: F401 - the consumer must know the Kivra calls pages ask for


def run_worker(app: Flask, threads: int) -> None:
    log_effective(app.config, "worker", threads=threads)
    tasks.bind_app(app)
    alive = heartbeat.start(app, app.config["WORKER_HEARTBEAT_SECONDS"])
    stop = tasks.start_maintenance(
        app, app.config["DISPATCH_SWEEP_SECONDS"], app.config["KIVRA_ACCESS_CHECK_SECONDS"]
    )
    renewing = leases.start_heartbeat(app, app.config["DISPATCH_LEASE_SECONDS"])
    consumer = tasks.huey.create_consumer(
        workers=threads, worker_type="thread", periodic=False, initial_delay=0.05, backoff=1.5, max_delay=0.5,
        scheduler_interval=1, check_worker_health=True,
    )
    try:
        consumer.run()
    finally:
        stop.set()
        renewing.set()
        alive.stop()
