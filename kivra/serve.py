"""`flask serve`: the app with its embedded defaults — the Kivra sandbox and an SMTP server with its web mailbox
in-process, and the dispatch worker (which also runs the periodic Kivra access check and sends the e-mail) as a
child process on the same SQLite queue, started again if it dies."""
import atexit
import logging
import signal
import subprocess
import sys
import threading

from werkzeug.serving import run_simple

from kivra.access_log import redact_werkzeug_log
from kivra.config import child_environ, log_effective
from kivra.dispatch import access as tasks
from kivra.resources import ROOT
from kivra.sandbox.server import start_in_thread
from kivra.supervisor import Supervisor

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


def embedded_mailbox(app):
    """Start the development SMTP server and its web mailbox in this process, on loopback, and send e-mail there."""
    from kivra.mailbox import start_in_thread as start_mailbox

    mailbox = start_mailbox(smtp_port=app.config["DEV_SMTP_PORT"], web_port=app.config["DEV_MAILBOX_PORT"])
    app.config["SMTP_URL"] = mailbox.smtp_url
    return mailbox


def start_worker(app) -> Supervisor:
    """The embedded dispatch worker: `flask worker` as a child process on the same SQLite queue and database, kept
    running — a killed or crashed worker is started again (backoff from 1 s, doubling up to a minute)."""
    env = child_environ(KIVRA_API_URL=app.config["KIVRA_API_URL"], PUBLIC_URL=app.config["PUBLIC_URL"],
                        **({"SMTP_URL": app.config["SMTP_URL"]} if app.config["SMTP_URL"] else {}))
    command = [sys.executable, "-m", "flask", "--app", "kivra", "worker"]
    # SIGINT on stop: Huey finishes the tasks in hand, then exits.
    supervisor = Supervisor("dispatch worker", lambda: subprocess.Popen(command, cwd=ROOT, env=env)).start()
    atexit.register(supervisor.stop)
    return supervisor


def _stop_on(supervisor: Supervisor, signum: int, leave) -> None:
    """On this signal, stop restarting first (Ctrl-C reaches the worker too), then leave."""
    def handler(*_):
        supervisor.stopping.set()
        leave()

    signal.signal(signum, handler)


def _interrupt():
    raise KeyboardInterrupt


def serve(app, host: str, port: int, with_worker: bool = True) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if app.config["KIVRA_SANDBOX_PORT"] is not None:  # no KIVRA_API_URL: the sandbox in-process
        sandbox = embedded_sandbox(app, app.config["KIVRA_SANDBOX_PORT"])
        print(f"Kivra sandbox (in-process) at {sandbox.url}/_sandbox/inbox")
    if not app.config["PUBLIC_URL_CONFIGURED"]:  # the links in e-mails lead here
        app.config["PUBLIC_URL"] = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    if not app.config["SMTP_URL"] and not app.config["MAIL_DISABLED"]:  # no SMTP_URL: a local one and its mailbox
        mailbox = embedded_mailbox(app)
        print(f"E-mail (in-process SMTP at {mailbox.smtp_url}) is read at {mailbox.web_url}/")
    if with_worker:
        supervisor = start_worker(app)  # it also runs the periodic Kivra access check
        # Stopped with SIGTERM too, the worker goes with us (atexit runs on SystemExit, not on a bare signal).
        _stop_on(supervisor, signal.SIGTERM, lambda: sys.exit(0))
        _stop_on(supervisor, signal.SIGINT, _interrupt)
    else:
        start_access_checks(app, app.config["KIVRA_ACCESS_CHECK_SECONDS"])
    log_effective(app.config, "serve", address=f"{host}:{port}", embedded_worker=with_worker)
    print(f"Payroll at http://{host}:{port}/  (admin@demo.se / demo-admin, lon@demo.se / demo-lon)")
    redact_werkzeug_log()
    run_simple(host, port, app, threaded=True, use_reloader=False)
