"""`flask serve`: the app with its embedded defaults — the Kivra sandbox in-process, and the dispatch worker (which
also runs the periodic Kivra access check) as a child process on the same SQLite queue."""
import atexit
import logging
import os
import signal
import subprocess
import sys
import threading

from werkzeug.serving import run_simple

from kivra import ROOT
from kivra.sandbox.server import start_in_thread
from kivra.solutions import tasks

log = logging.getLogger(__name__)


def embedded_sandbox(app, port: int):
    """Start the Kivra sandbox in this process on its own loopback port and point the app at it."""
    sandbox = start_in_thread(port=port)
    app.config["KIVRA_API_URL"] = sandbox.url
    return sandbox


def start_access_checks(app, every_seconds: float) -> threading.Event:
    """Follow pending Kivra access requests in the background, so waiting payslips go out by themselves."""
    stop = threading.Event()

    def loop():
        while not stop.wait(every_seconds):
            with app.app_context():
                try:
                    released = tasks.check_access()
                except Exception:  # noqa: BLE001 - keep checking; the next round tries again
                    log.exception("Kivra access check failed")
                    continue
            if released:
                log.info("Kivra access check released %d waiting send(s)", released)

    threading.Thread(target=loop, name="kivra-access-check", daemon=True).start()
    return stop


def start_worker(app) -> subprocess.Popen:
    """The embedded dispatch worker: `flask worker` as a child process on the same SQLite queue and database."""
    env = dict(os.environ, KIVRA_API_URL=app.config["KIVRA_API_URL"])
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT, env=env)
    atexit.register(_stop, worker)
    return worker


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGINT)  # Huey finishes the tasks in hand, then exits
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()


def serve(app, host: str, port: int, with_worker: bool = True) -> None:
    if not os.environ.get("KIVRA_API_URL"):
        sandbox = embedded_sandbox(app, int(os.environ.get("KIVRA_SANDBOX_PORT", "8765")))
        print(f"Kivra sandbox (in-process) at {sandbox.url}/_sandbox/inbox")
    if with_worker:
        start_worker(app)  # it also runs the periodic Kivra access check
        # Stopped with SIGTERM too, the worker goes with us (atexit runs on SystemExit, not on a bare signal).
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    else:
        start_access_checks(app, app.config["KIVRA_ACCESS_CHECK_SECONDS"])
    print(f"Payroll at http://{host}:{port}/  (admin@demo.se / demo-admin, lon@demo.se / demo-lon)")
    run_simple(host, port, app, threaded=True, use_reloader=False)
