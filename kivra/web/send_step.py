"""The run's send step (Skicka och bokför), rendered whole or by region: the payroll run's page shows it, and the
send buttons answer with it."""
from datetime import timedelta

from flask import current_app

from kivra import agreement
from kivra.accounts import signup
from kivra.accounts.models import Company
from kivra.agreement import kivra_calls, onboarding
from kivra.agreement.models import JobKind
from kivra.dispatch import heartbeat, resends, service as dispatch
from kivra.dispatch.progress import is_scheduled, send_progress
from kivra.extensions import db
from kivra.payroll import service
from kivra.payroll.kivra_payload import missing_employer_details
from kivra.payroll.models import PayrollRun
from kivra.payroll.voucher import ACCOUNTS, rows_for
from kivra.web import is_htmx, render


def send_and_post_page(run: PayrollRun, block: str = "voucher", status: int = 200, prompt: bool = False,
                       send_at: str | None = None):
    """The step page, or one of its regions for htmx: the send area or the voucher."""
    send = dispatch.send_of(run)
    progress = send_progress(send)
    company = db.session.get(Company, run.company_id)
    silent_after = timedelta(seconds=current_app.config["WORKER_SILENT_SECONDS"])
    return render(
        "payroll/send_and_post.html",
        block,
        status=status,
        run=run,
        voucher_rows=rows_for(service.current_totals(run)),
        to_post=service.rows_to_post(run),
        accounts=ACCOUNTS,
        fragment=is_htmx(),  # the voucher fragment also updates the run's status badge out of band
        send=send,
        progress=progress,
        scheduled=is_scheduled(send, progress),
        unsent_corrections=len(resends.unsent_corrections(run, send)),
        workers_silent_minutes=(max(1, round(silent_after.total_seconds() / 60))
                                if progress and not progress.finished and heartbeat.send_stalled(send.id, silent_after)
                                else None),
        prompt=prompt,
        send_at=send_at,
        agreement=agreement.in_force(run.company_id),
        last_agreement=next(iter(agreement.history(run.company_id)), None),  # ended: when, and by whom
        sender=onboarding.sender_of(run.company_id),
        registering=kivra_calls.open_job(run.company_id, JobKind.ACCESS),  # a worker is asking Kivra for the company
        missing_details=missing_employer_details(company),
        kivra_history=dispatch.has_kivra_history(company),
        unconfirmed=company.confirmed_at is None,  # no payslip goes until the address is confirmed
        confirm_to=signup.awaiting_confirmation(company),
        sole_trader=agreement.is_sole_trader(company),
    )
