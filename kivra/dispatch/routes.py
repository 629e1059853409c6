"""Skicka lönebesked: the send button, the activation prompt, "Not now" (Min lön only), "send when approved"."""
from flask import Blueprint, abort, current_app, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kivra.dispatch import service
from kivra.payroll.routes import get_run, send_and_post_page
from kivra.sender_api.app import kivra_client
from kivra.solutions import activation, agreement
from kivra.web import current_company, is_htmx, redirect_to

bp = Blueprint("dispatch", __name__)


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
    return redirect_to(url_for("payroll.send_and_post", run_id=run.id))


def _sendable(run_id: int):
    run = get_run(run_id)
    if run.is_draft:
        abort(409)
    return run


@bp.post("/runs/<int:run_id>/send")
def send(run_id: int):
    """First send of a company without Kivra: ask first. Otherwise queue the payslips at once."""
    run = _sendable(run_id)
    company, since = current_company(), current_app.config["KIVRA_NEW_CUSTOMERS_SINCE"]
    if service.send_of(run) is None:
        if service.needs_activation_prompt(company, since):
            return send_and_post_page(run, block="send_payslips", prompt=True)
        activation.prepare_send(company, kivra_client(), since)
    return _send(run)


@bp.post("/runs/<int:run_id>/send/min-lon")
def send_to_min_lon(run_id: int):
    """"Not now": this run's payslips go to Min lön only; Kivra can be activated later."""
    run = _sendable(run_id)
    if service.send_of(run) is None and agreement.in_force(run.company_id) is not None:
        # The prompt is stale: an admin approved Kivra meanwhile. Let the user choose again.
        flash(_("Kivra was activated meanwhile. Press Send payslips to send through Kivra."), "info")
        return _after(run)
    return _send(run, min_lon_only=True)


@bp.post("/runs/<int:run_id>/send/when-approved")
def send_when_approved(run_id: int):
    """A payroll user cannot approve: the run waits and goes out when an administrator approves Kivra."""
    run = _sendable(run_id)
    return _send(run, awaiting_agreement=True)
