"""Kivra's activation as the user meets it: approve and onboard, discontinue, start on first send.

A web request never calls Kivra: it passes no client, and a worker registers the company (kivra/dispatch/kivra_jobs.py).
Callers outside a request (the worker, the CLI, tests) may pass a client and have it done at once."""
from kivra import agreement
from kivra.accounts.models import Company, User
from kivra.agreement import onboarding
from kivra.agreement.models import JobKind, KivraAgreement, KivraJob, SenderState
from kivra.dispatch import kivra_jobs, service as dispatch
from kivra.payroll.models import PayrollRun
from kivra.sender_api import KivraClient


def approve(company: Company, user: User, client: KivraClient | None, payslips: bool, invoices: bool,
            run: PayrollRun | None = None, scheduled_for=None) -> KivraAgreement:
    """Approve, register with Kivra, and send what waited for it — the run approved from, with no second click.
    Without a client the send waits for Kivra and a worker registers the company, then releases it."""
    approved = agreement.approve(company, user, payslips=payslips, invoices=invoices)
    if payslips and client is not None:
        onboarding.register(company, client)
    elif not payslips:
        dispatch.reroute_to_min_lon(company, note="not_in_scope")
    dispatch.settle_waiting(company)
    if run is not None and payslips and not run.is_draft and dispatch.send_of(run) is None:
        try:
            dispatch.request_send(run, user, scheduled_for=scheduled_for)
        except dispatch.AlreadySent:
            pass  # the other tab's click sent them already
        except dispatch.NotConfirmed:
            pass  # the send step says the address must be confirmed first
    if payslips and client is None:  # after the send is recorded, so the worker's registration releases it
        register_later(company, user)
    return approved


def register_later(company: Company, user: User | None = None) -> KivraJob | None:
    """A worker registers the company with Kivra, or asks again about its access request, then sends what waited.
    Nothing to do for a registered company; a second ask while one is open joins it."""
    sender = onboarding.sender_of(company.id)
    if sender is not None and sender.state == SenderState.ACTIVE:
        return None
    return kivra_jobs.ask(company.id, JobKind.ACCESS, user.id if user else None)


def discontinue(company: Company, user: User) -> KivraAgreement:
    ended = agreement.discontinue(company, user)
    dispatch.reroute_to_min_lon(company)
    return ended


def prepare_send(company: Company, new_customers_since) -> None:
    """Before a send: a new customer's Kivra is switched on."""
    if dispatch.is_new_customer(company, new_customers_since):
        agreement.activate_for_new_customer(company)


def register_unregistered(company: Company, user: User | None = None) -> KivraJob | None:
    """After a send is recorded: a company with an agreement but no Kivra sender (a new customer, or one taken over
    from the web payroll), or whose registration failed, is registered by a worker; the send waits for it."""
    current, sender = agreement.in_force(company.id), onboarding.sender_of(company.id)
    if current is None or not current.covers_payslips or (sender is not None and sender.state != SenderState.FAILED):
        return None
    return register_later(company, user)
