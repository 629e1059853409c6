"""Command-line tasks: `flask demo`, `serve`, `worker`, `kivra …`, `translations` (operator commands, `flask dispatch …`:
kivra/operator_cli.py)."""
import subprocess
import sys
from pathlib import Path

import click

from kivra import demo
from kivra.agreement import vla
from kivra.dispatch import access as kivra_tasks
from kivra.resources import ROOT


def init_app(app) -> None:
    from kivra import operator_cli

    operator_cli.init_app(app)

    @app.cli.command("demo")
    def demo_command():
        """Create Demo AB with users, employees and a calculated payroll run (once; never in production)."""
        if app.config["APP_ENV"] == "production":
            raise click.ClickException("flask demo does not run in production (APP_ENV=production): it makes users "
                                       "with the README's passwords. Use flask create-company and flask create-user.")
        created = demo.seed()
        click.echo("Demo data created." if created else "Demo data already present.")

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True)
    @click.option("--worker/--no-worker", default=True, show_default=True,
                  help="Start the embedded dispatch worker (leave it to separate `flask worker` processes with --no-worker).")
    def serve_command(host, port, worker):
        """Serve with the embedded defaults: Kivra sandbox in-process (unless KIVRA_API_URL is set) and a worker."""
        from kivra.serve import serve

        serve(app, host, port, with_worker=worker)

    @app.cli.command("worker")
    @click.option("--threads", type=int, default=None, help="Sends at once in this process (DISPATCH_WORKERS).")
    @click.option("--metrics-port", envvar="WORKER_METRICS_PORT", default=None,
                  help="Serve this process's Prometheus metrics on this port (or BASE+N, e.g. 9100+%i in a unit).")
    @click.option("--metrics-host", envvar="WORKER_METRICS_HOST", default="127.0.0.1", show_default=True,
                  help="The address the metrics port listens on (no authentication: keep it private).")
    def worker_command(threads, metrics_port, metrics_host):
        """Run the dispatch worker: Huey's consumer (SQLite queue, or Redis with REDIS_URL) and its housekeeping."""
        from kivra.metrics import parse_port, serve_worker_metrics
        from kivra.worker import run_worker

        if metrics_port:
            try:
                port = parse_port(metrics_port)
            except ValueError:
                raise click.BadParameter(f"not a port: {metrics_port!r}", param_hint="--metrics-port") from None
            serve_worker_metrics(port, metrics_host)
        run_worker(app, threads or app.config["DISPATCH_WORKERS"])

    @app.cli.group("kivra")
    def kivra_group():
        """Kivra: the periodic access check and the import of web payroll (VLA) agreements."""

    @kivra_group.command("check-access")
    def check_access():
        """Follow pending Kivra access requests; release or reroute the payslips waiting for them."""
        click.echo(f"{kivra_tasks.check_access()} waiting send(s) released.")

    @kivra_group.command("import-vla")
    @click.argument("orgnr")
    @click.option("--approver", required=True, help="Who approved Kivra's agreement in the web payroll.")
    @click.option("--approved", "approved_on", required=True, type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD")
    @click.option("--scope", type=click.Choice(["payslips", "invoices", "both"]), default="payslips")
    def import_vla(orgnr, approver, approved_on, scope):
        """Take over a company's Kivra agreement from the web payroll (VLA)."""
        try:
            vla.import_vla(orgnr.replace("-", ""), approver, approved_on, scope)
        except LookupError:
            raise click.ClickException(f"no company with org.nr {orgnr}") from None
        except vla.AlreadyImported:
            raise click.ClickException("the company already has a Kivra agreement; nothing was imported") from None
        click.echo("Imported; the company's Kivra status page is now in Payroll.")

    @app.cli.group()
    def translations():
        """Extract, update and compile the Swedish catalogue."""

    def pybabel(*args):
        subprocess.run([str(Path(sys.executable).parent / "pybabel"), *args], check=True, cwd=ROOT)

    @translations.command()
    def update():
        """Extract messages and merge them into translations/sv."""
        pybabel("extract", "-F", "babel.cfg", "-k", "_l", "--no-location", "--sort-output",
                "-o", "messages.pot", ".")
        if (ROOT / "translations/sv/LC_MESSAGES/messages.po").exists():
            pybabel("update", "-i", "messages.pot", "-d", "translations", "-l", "sv", "--no-wrap", "--ignore-obsolete")
        else:
            pybabel("init", "-i", "messages.pot", "-d", "translations", "-l", "sv", "--no-wrap")

    @translations.command()
    def compile():
        """Compile translations/sv to the .mo file the app reads."""
        pybabel("compile", "-d", "translations", "--statistics")
