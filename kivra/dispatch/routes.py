"""Skicka lönebesked: the send button, the activation prompt, and "Not now" (Min lön only)."""
from flask import Blueprint, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kivra.accounts.models import Company
from kivra.dispatch import service
from kivra.extensions import db
from kivra.payroll.routes import get_run, send_and_post_page
from kivra.sender_api.app import kivra_client
from kivra.solutions import agreement, onboarding
from kivra.web import is_htmx

bp = Blueprint("dispatch", __name__)


def _company() -> Company:
    return db.session.get(Company, current_user.company_id)


def _send(run, **options):
    try:
        service.request_send(run, current_user, **options)
    except service.AlreadySent:
        flash(_("The payslips of this payroll run have already been sent."), "info")
        return send_and_post_page(run, block="send_payslips", status=409)
    return _after(run)


def _after(run):
    if is_htmx():
        return send_and_post_page(run, block="send_payslips")
    return redirect(url_for("payroll.send_and_post", run_id=run.id), code=303)


@bp.post("/runs/<int:run_id>/send")
def send(run_id: int):
    """First send of a company without Kivra: ask first. Otherwise queue the payslips at once."""
    run = get_run(run_id)
    if run.is_draft:
        flash(_("Calculate the payroll run before sending and posting it."), "info")
        return _after(run)
    company, since = _company(), current_app.config["KIVRA_NEW_CUSTOMERS_SINCE"]
    if service.send_of(run) is None:
        if service.needs_activation_prompt(company, since):
            return send_and_post_page(run, block="send_payslips", prompt=True)
        if service.is_new_customer(company, since) and agreement.in_force(company.id) is None:
            agreement.activate_for_new_customer(company)
        current = agreement.in_force(company.id)
        if current and current.covers_payslips and onboarding.sender_of(company.id) is None:
            onboarding.register(company, kivra_client())  # a new customer, or an agreement taken over from VLA
    return _send(run)


@bp.post("/runs/<int:run_id>/send/min-lon")
def send_to_min_lon(run_id: int):
    """"Not now": this run's payslips go to Min lön only; Kivra can be activated later."""
    run = get_run(run_id)
    if run.is_draft:
        return _after(run)
    return _send(run, min_lon_only=True)
