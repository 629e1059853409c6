"""Skicka lönebesked: the send button (now or scheduled), the activation prompt, "Not now" (Min lön only), "send when
approved", the progress that follows, resend failed, corrections, and calling off a scheduled send."""
from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from kivra import agreement
from kivra.dispatch import activation, resends, service
from kivra.dispatch.schedule import BadSchedule, scheduled_for
from kivra.web import current_company, is_htmx, redirect_to
from kivra.web.dispatch import bp
from kivra.web.feedback import flash_resent
from kivra.web.loaders import get_run
from kivra.web.send_step import send_and_post_page


def _send(run, **options):
    try:
        options.setdefault("scheduled_for", scheduled_for(run, request.form))
    except BadSchedule as error:
        flash(str(error), "error")
        return send_and_post_page(run, block="send_payslips", status=422)
    try:
        service.request_send(run, current_user, **options)
    except service.AlreadySent:
        flash(_("The payslips of this payroll run have already been sent."), "info")
        return send_and_post_page(run, block="send_payslips", status=409)
    except service.NotConfirmed:
        return _not_confirmed(run)
    return _after(run)


def _not_confirmed(run):
    """The company's e-mail address is not confirmed yet: the send area says so, with "send it again"."""
    flash(_("Payslips cannot be sent until your e-mail address is confirmed."), "error")
    return send_and_post_page(run, block="send_payslips", status=409)


def _after(run, status: int = 200):
    if is_htmx():
        return send_and_post_page(run, block="send_payslips", status=status)
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
        try:
            service.require_confirmed(company)
        except service.NotConfirmed:
            return _not_confirmed(run)
        if service.needs_activation_prompt(company, since):
            try:  # the chosen time goes through the prompt and the agreement with the run
                send_at = scheduled_for(run, request.form)
            except BadSchedule as error:
                flash(str(error), "error")
                return send_and_post_page(run, block="send_payslips", status=422)
            return send_and_post_page(run, block="send_payslips", prompt=True,
                                      send_at=send_at.strftime("%Y-%m-%dT%H:%M:%SZ") if send_at else None)
        activation.prepare_send(company, since)
        response = _send(run)
        activation.register_unregistered(company, current_user)  # by a worker, once the send is recorded
        return response
    return _send(run)


@bp.post("/runs/<int:run_id>/send/min-lon")
def send_to_min_lon(run_id: int):
    """"Not now": this run's payslips go to Min lön only; Kivra can be activated later."""
    run = _sendable(run_id)
    if service.send_of(run) is None and agreement.in_force(run.company_id) is not None:
        # The prompt is stale: an admin approved Kivra meanwhile. Let the user choose again.
        flash(_("Kivra was activated meanwhile. Press “Send payslips” to send through Kivra."), "info")
        return _after(run)
    return _send(run, min_lon_only=True)


@bp.post("/runs/<int:run_id>/send/when-approved")
def send_when_approved(run_id: int):
    """A payroll user cannot approve: the run waits and goes out when an administrator approves Kivra."""
    run = _sendable(run_id)
    return _send(run, awaiting_agreement=True)


@bp.get("/runs/<int:run_id>/send/progress")
def progress(run_id: int):
    """The send area as it is now: htmx polls it while payslips are on their way; a browser gets the page."""
    run = get_run(run_id)
    if not is_htmx():
        return redirect_to(url_for("payroll.send_and_post", run_id=run.id))
    return send_and_post_page(run, block="send_payslips")


@bp.post("/runs/<int:run_id>/send/resend-failed")
def resend_failed(run_id: int):
    """Only the failed payslips go again, with the bytes stored the first time."""
    run = _sendable(run_id)
    try:
        count = resends.resend_failed(run)
    except service.KivraNotInForce:
        flash(_("Kivra is not active, so failed payslips are not sent again. The employees read them in Min lön."),
              "error")
        return _after(run, status=409)
    flash_resent(count, resends.failed_past_resend(run))
    return _after(run)


@bp.post("/runs/<int:run_id>/send/corrections")
def send_corrections(run_id: int):
    """Corrected payslips go as new documents that say they are corrections; the originals are not sent again."""
    run = _sendable(run_id)
    count = resends.send_corrections(run)
    if count:
        flash(ngettext("%(num)d corrected payslip is being sent.", "%(num)d corrected payslips are being sent.", count), "success")
    else:
        flash(_("There are no corrected payslips left to send."), "info")
    return _after(run)


@bp.post("/runs/<int:run_id>/send/cancel")
def cancel(run_id: int):
    """Call off a scheduled send before it starts; the run can then be sent again."""
    run = _sendable(run_id)
    try:
        service.cancel_scheduled(run)
    except service.NotCancellable:
        flash(_("The send has already started and can no longer be cancelled."), "error")
        return _after(run, status=409)
    flash(_("The scheduled send is cancelled. Nothing was sent."), "success")
    return _after(run)
