"""Fler lösningar, and Kivra's agreement: approve, change scope, status entry, discontinue."""
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kivra import agreement
from kivra.accounts import notices
from kivra.agreement import kivra_calls
from kivra.agreement.models import JobKind
from kivra.dispatch import activation
from kivra.dispatch.schedule import BadSchedule, carried_schedule
from kivra.extensions import db
from kivra.web import current_company, is_htmx, redirect_to, render, signed_in_as
from kivra.web.loaders import run_from
from kivra.web.signin import safe_next
from kivra.web.solutions import bp
from kivra.web.solutions.pages import context as page_context


def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403)


@bp.get("")
def index():
    return render("solutions/index.html", "kivra_card", **page_context())


@bp.post("/kivra/retain")
def retain():
    """Let Kivra hold payslips for employees who are not Kivra users yet (390 days), instead of Min lön."""
    _require_admin()
    company = current_company()
    company.kivra_retain = request.form.get("retain") == "1"
    db.session.commit()
    if company.kivra_retain:
        flash(_("Kivra will hold payslips for employees who are not Kivra users yet."), "success")
    else:
        flash(_("Employees who are not Kivra users get their payslips in Min lön."), "success")
    return redirect_to(url_for("solutions.kivra"))


@bp.post("/kivra/check")
def check_now():
    """Ask Kivra again about a pending or failed registration: a worker asks (as the periodic check does)."""
    activation.register_later(current_company(), current_user)
    if is_htmx():
        return render("solutions/_access.html", **page_context())
    return redirect_to(url_for("solutions.kivra"))


@bp.get("/kivra/access")
def access_progress():
    """The Kivra registration's state, which htmx polls while a worker asks Kivra; a browser gets the page."""
    if not is_htmx():
        return redirect_to(url_for("solutions.kivra"))
    context, polled = page_context(), request.args.get("job", "")
    finished = None if context["access_job"] else kivra_calls.latest(context["company"].id, JobKind.ACCESS)
    # The poll that sees its job done says what came of it (the sends it released), once.
    answered = finished is not None and str(finished.id) == polled and bool(finished.found)
    return render("solutions/_access.html", answered=answered, **context)


@bp.get("/kivra/agreement")
def show_agreement():
    return render("solutions/agreement.html", "agreement",
                  **page_context(run=run_from(request.args.get("run")), send_at=request.args.get("send_at")))


@bp.post("/kivra/agreement")
def approve():
    run = run_from(request.form.get("run"))
    _require_admin()
    payslips, invoices = bool(request.form.get("payslips")), bool(request.form.get("invoices"))
    if not (payslips or invoices):  # said beside the checkboxes, with the boxes as they were ticked
        return render("solutions/agreement.html", "agreement", status=422, scope_error=True,
                      chosen={"payslips": payslips, "invoices": invoices},
                      **page_context(run=run, send_at=request.form.get("send_at")))
    company = current_company()
    before = agreement.in_force(company.id)
    try:
        send_at = carried_schedule(request.form.get("send_at")) if run is not None else None
    except BadSchedule as error:  # the chosen time passed while the agreement was read: send now instead
        flash(str(error), "error")
        send_at = None
    try:
        activation.approve(company, current_user, None, payslips, invoices, run=run, scheduled_for=send_at)
    except agreement.AgreementConflict:
        flash(_("The agreement was changed at the same time somewhere else. Check it and try again."), "error")
        return render("solutions/agreement.html", "agreement", status=409, **page_context(run=run))
    except agreement.SoleTraderRefused:
        flash(_("Kivra does not accept payslips from sole traders (enskild firma), so Kivra cannot be activated for "
                "the company. The employees read their payslips in Min lön."), "error")
        return render("solutions/agreement.html", "agreement", status=422, **page_context(run=run))
    if before is None:
        flash(_("The Kivra agreement is approved."), "success")  # the page follows the worker registering it
    else:
        flash(scope_changed(payslips, invoices), "success")
    sent_from_run = run is not None and payslips and not run.is_draft
    return redirect_to(url_for("payroll.send_and_post", run_id=run.id) if sent_from_run else url_for("solutions.kivra"))


def scope_changed(payslips: bool, invoices: bool) -> str:
    if payslips and invoices:
        return _("The agreement now covers payslips and invoices.")
    return _("The agreement now covers payslips.") if payslips else _("The agreement now covers invoices.")


@bp.get("/kivra/discontinue")
def confirm_discontinue():
    _require_admin()
    context = page_context()
    if context["agreement"] is None:
        return redirect(url_for("solutions.kivra"))
    return render("solutions/discontinue.html", **context)


@bp.post("/kivra/discontinue")
def discontinue():
    _require_admin()
    try:
        activation.discontinue(current_company(), current_user)
    except agreement.AgreementConflict:
        flash(_("Kivra is not active for the company."), "info")
    else:
        flash(_("Kivra is discontinued. Later payslips go to Min lön; the history stays here."), "success")
    return redirect(url_for("solutions.index"), code=303)


@bp.app_template_global("vla_moved_notice_due")
def vla_moved_notice_due() -> bool:
    """The notice that the status page moved from the web payroll: on the pages a user lands on (the run list after
    signing in, Fler lösningar, a run's send step) until this user closes it."""
    return signed_in_as("user") and notices.show_vla_moved(current_user)


@bp.post("/notices/vla-moved")
def dismiss_vla_moved():
    notices.dismiss(current_user, notices.VLA_MOVED)
    if is_htmx():
        return ""
    return redirect(safe_next(request.form.get("next")), code=303)
