"""Operator commands: `flask create-company`, `flask create-user`, `flask set-password`, `flask dispatch status`
and `flask dispatch prune`.

Passwords are asked for twice with the input hidden, or read from standard input with --password-stdin (scripts);
never taken as an argument, where the shell's history and the process list would show them. Every refusal exits 1
with a message saying why."""
import json
import sys
from datetime import timedelta

import click
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from kivra import provisioning
from kivra.accounts.models import ROLES, utcnow
from kivra.config import mask_url
from kivra.dispatch import backlog, heartbeat, retention
from kivra.extensions import db

NO_WORKER = 3  # `dispatch status`: payslips are due and no worker was seen (as /healthz/workers answers 503)


def init_app(app) -> None:
    app.cli.add_command(create_company)
    app.cli.add_command(create_user)
    app.cli.add_command(set_password)
    app.cli.add_command(dispatch_group)


class Refused(click.ClickException):
    """Exit 1 with the reason."""


def _refusing(fn, *args):
    try:
        return fn(*args)
    except provisioning.ProvisioningError as error:
        db.session.rollback()
        raise Refused(str(error)) from None


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise Refused("no password on standard input")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    _refusing(provisioning.check_password, password)
    return password


password_stdin = click.option("--password-stdin", is_flag=True,
                              help="Read the password from the first line of standard input instead of asking.")


@click.command("create-company")
@click.argument("name")
@click.argument("orgnr")
def create_company(name, orgnr):
    """Create a company (a new customer: Min lön/Kivra active from the start)."""
    company = _refusing(provisioning.create_company, name, orgnr)
    click.echo(f"Created {company.name} ({company.orgnr_formatted}), company id {company.id}.")


@click.command("create-user")
@click.argument("email")
@click.option("--company", "orgnr", required=True, help="The company's org.nr.")
@click.option("--role", type=click.Choice(ROLES), required=True, help="admin may approve Kivra's agreement.")
@click.option("--name", required=True, help="The person's name, as the app shows it.")
@password_stdin
def create_user(email, orgnr, role, name, password_stdin):
    """Create a user who signs in with EMAIL for the company."""
    company = _refusing(provisioning.company_by_orgnr, orgnr)
    password = _password(password_stdin)
    user = _refusing(provisioning.create_user, email, company, role, name, password)
    click.echo(f"Created {user.role} {user.email} for {company.name} ({company.orgnr_formatted}).")


@click.command("set-password")
@click.argument("email")
@password_stdin
def set_password(email, password_stdin):
    """Set a user's password (a forgotten one, or the first admin's)."""
    password = _password(password_stdin)
    user = _refusing(provisioning.set_password, email, password)
    click.echo(f"Password set for {user.email}.")


@click.group("dispatch")
def dispatch_group():
    """The dispatch engine: what waits for the workers."""


@dispatch_group.command("status")
@click.option("--company", "orgnr", help="Only this company's payslips (org.nr).")
@click.option("--by-company", is_flag=True, help="A line per company with payslips waiting.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
def status(orgnr, by_company, as_json):
    """Queue depth, workers, payslips sending, queued and held, and the oldest due one's wait. Exits 1 when the
    database or the queue cannot be reached, 3 when payslips are due and no worker was seen lately."""
    from kivra.dispatch.tasks import huey

    try:
        depth = huey.pending_count()
    except Exception:  # noqa: BLE001 - Redis away: say so, and exit non-zero
        depth = None
    try:
        company = _refusing(provisioning.company_by_orgnr, orgnr) if orgnr else None
        health = heartbeat.workers_health(timedelta(seconds=current_app.config["WORKER_SILENT_SECONDS"]), depth)
        total = backlog.backlog(company_id=company.id if company else None)
        companies = backlog.by_company() if by_company and company is None else []
    except SQLAlchemyError as error:
        raise Refused(f"the database cannot be reached ({type(error).__name__})") from None
    report = {
        "queue": mask_url(current_app.config["QUEUE_URL"]),
        "queue_depth": depth,
        "workers_alive": sum(worker["alive"] for worker in health.workers),
        "workers": health.workers,
        "company": company.orgnr_formatted if company else None,
        "payslips": total.as_dict(),
        "companies": [{"orgnr": c.orgnr_formatted, "name": c.name, **rows.as_dict()} for c, rows in companies],
    }
    click.echo(json.dumps(report, indent=2) if as_json else _table(report, company))
    if depth is None:
        raise Refused("the queue cannot be reached")
    if not health.healthy:
        click.echo("Payslips are due and no worker has been seen lately: start `flask worker`.", err=True)
        raise click.exceptions.Exit(NO_WORKER)


def _table(report: dict, company) -> str:
    depth = "unreachable" if report["queue_depth"] is None else f"{report['queue_depth']} task(s) waiting"
    lines = [f"Queue     {report['queue']}: {depth}",
             f"Workers   {report['workers_alive']} alive of {len(report['workers'])} known",
             "",
             f"{'Payslips':<40} {'sending':>8} {'queued':>8} {'held':>8} {'oldest due':>12}"]
    scope = f"{company.orgnr_formatted} {company.name}" if company else "All companies"
    for name, rows in [(scope, report["payslips"])] + [(f"{c['orgnr']} {c['name']}", c) for c in report["companies"]]:
        oldest = "-" if rows["oldest_due_seconds"] is None else f"{rows['oldest_due_seconds']:.1f} s"
        lines.append(f"{name[:40]:<40} {rows['sending']:>8} {rows['queued']:>8} {rows['held']:>8} {oldest:>12}")
    return "\n".join(lines)


@dispatch_group.command("prune")
@click.option("--before", type=click.DateTime(["%Y-%m-%d"]),
              help="Also delete the history of payslips dispatched before this date (UTC), YYYY-MM-DD.")
@click.option("--force", is_flag=True, help="Allow --before less than seven calendar years back.")
def prune_command(before, force):
    """Drop stored payloads no longer needed (DISPATCH_FAILED_PAYLOAD_DAYS for failed payslips) and, with
    --before, the history older than bokföringslagen's seven years. Safe to run daily."""
    now = utcnow()
    if before is not None and before.date() > retention.latest_cutoff(now.date()) and not force:
        raise click.ClickException(
            f"--before {before:%Y-%m-%d} is less than {retention.LEGAL_YEARS} calendar years back (bokföringslagen"
            f" keeps records until the end of the seventh year); the latest date allowed is "
            f"{retention.latest_cutoff(now.date()):%Y-%m-%d}. Nothing was changed. Use --force to prune anyway.")
    click.echo(f"{retention.drop_final_payloads()} finished payslip(s) dropped their stored payload.")
    cutoff = retention.failed_payload_cutoff(current_app.config["DISPATCH_FAILED_PAYLOAD_DAYS"], now)
    if cutoff is not None:
        click.echo(f"{retention.drop_failed_payloads(cutoff)} failed payslip(s) older than "
                   f"{current_app.config['DISPATCH_FAILED_PAYLOAD_DAYS']} days dropped their stored payload; "
                   "they can no longer be resent.")
    if before is not None:
        pruned = retention.prune_history(before.date(), now.date(), force=force)
        click.echo(f"{pruned} dispatch row(s) dispatched before {before:%Y-%m-%d} deleted.")
