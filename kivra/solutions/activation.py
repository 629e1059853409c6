"""Kivra's activation as the user meets it: approve and onboard, discontinue, start on first send, check access."""
from kivra.accounts.models import Company, User
from kivra.dispatch import service as dispatch
from kivra.payroll.models import PayrollRun
from kivra.sender_api import KivraClient
from kivra.solutions import agreement, onboarding
from kivra.solutions.models import KivraAgreement


def approve(company: Company, user: User, client: KivraClient, payslips: bool, invoices: bool,
            run: PayrollRun | None = None, scheduled_for=None) -> KivraAgreement:
    """Approve, register with Kivra, and send what waited for it — the run approved from, with no second click."""
    approved = agreement.approve(company, user, payslips=payslips, invoices=invoices)
    if payslips:
        onboarding.register(company, client)
    else:
        dispatch.reroute_to_min_lon(company, note="not_in_scope")
    dispatch.settle_waiting(company)
    if run is not None and payslips and not run.is_draft and dispatch.send_of(run) is None:
        try:
            dispatch.request_send(run, user, scheduled_for=scheduled_for)
        except dispatch.AlreadySent:
            pass  # the other tab's click sent them already
    return approved


def discontinue(company: Company, user: User) -> KivraAgreement:
    ended = agreement.discontinue(company, user)
    dispatch.reroute_to_min_lon(company)
    return ended


def prepare_send(company: Company, client: KivraClient, new_customers_since) -> None:
    """Before a send: a new customer's Kivra is switched on, and a company with an agreement but no Kivra sender
    (a new customer, or one taken over from the web payroll) is registered with Kivra."""
    if dispatch.is_new_customer(company, new_customers_since):
        agreement.activate_for_new_customer(company)
    current = agreement.in_force(company.id)
    if current is not None and current.covers_payslips and onboarding.sender_of(company.id) is None:
        onboarding.register(company, client)


def check_access(company: Company, client: KivraClient) -> int:
    """Ask Kivra again about a pending or failed registration, then route the sends that waited for it."""
    current = agreement.in_force(company.id)
    if onboarding.sender_of(company.id) is None and current is not None and current.covers_payslips:
        onboarding.register(company, client)  # e.g. an agreement taken over from the web payroll
    else:
        onboarding.refresh(company, client)
    return dispatch.settle_waiting(company)
