"""Lönekörningar: runs, their calculation, and the step "Send and Post to Voucher"."""

from flask import Response, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kivra import clock
from kivra.accounts import settings
from kivra.accounts.models import Company
from kivra.dispatch import progress
from kivra.extensions import db
from kivra.payroll import service, sie
from kivra.payroll.calculation import NegativeGrossError
from kivra.payroll.printable import UnprintableText
from kivra.status import getting_started
from kivra.web import is_htmx, redirect_to, render
from kivra.web.i18n import period_name
from kivra.web.loaders import get_run
from kivra.web.payroll import bp
from kivra.web.payroll.forms import RunForm
from kivra.web.send_step import send_and_post_page
from kivra.web.text_rules import unprintable_message


@bp.get("/runs")
def runs():
    period = service.first_free_period(current_user.company_id, clock.today_in_sweden())
    payout_date = settings.proposed_payout_date(db.session.get(Company, current_user.company_id), period)
    return _runs_page(RunForm(formdata=None, period=period, payout_date=payout_date))


def _runs_page(form: RunForm, status: int = 200):
    runs = service.company_runs(current_user.company_id)
    company = db.session.get(Company, current_user.company_id)
    steps = getting_started.first_steps(company)
    sends = progress.sends_by_run(company.id, [run.id for run in runs])
    return render("payroll/runs.html", "run_form", status=status, runs=runs, form=form, steps=steps,
                  payslip_counts=service.payslip_counts(runs),
                  links=_first_step_links(steps), sends=sends,
                  scheduled={run_id for run_id, pair in sends.items() if progress.is_scheduled(*pair)})


def _first_step_links(steps: getting_started.FirstSteps) -> dict:
    """Where each first step is done (kivra/status/getting_started.py)."""
    Step = getting_started.Step
    links = {Step.CONFIRM_EMAIL: url_for("signup.pending"), Step.EMPLOYEES: url_for("employees.new"),
             Step.FIRST_RUN: "#run_form"}
    if current_user.is_admin:  # a payroll user is told on the settings step to ask an admin
        links[Step.COMPANY_DETAILS] = url_for("company.edit")
    if steps.latest_run_id is not None:
        links[Step.SEND] = url_for("payroll.run", run_id=steps.latest_run_id)
    return links


@bp.post("/runs")
def create_run():
    form = RunForm()
    if form.validate_on_submit():
        company = db.session.get(Company, current_user.company_id)
        try:
            run = service.create_run(company, form.period.data, form.payout_date.data)
        except service.RunExistsError:
            form.period.errors.append(
                _("There is already a payroll run for %(month)s.", month=period_name(form.period.data))
            )
        else:
            flash(_("Payroll run for %(month)s created.", month=period_name(run.period)), "success")
            return redirect_to(url_for("payroll.run", run_id=run.id))
    return _runs_page(form, status=422)


@bp.get("/runs/<int:run_id>")
def run(run_id: int):
    run = get_run(run_id)
    rows = []
    for payslip in run.payslips:
        try:
            totals = service.payslip_totals(payslip)
        except NegativeGrossError:
            totals = None
        rows.append((payslip, totals))
    return render("payroll/run.html", run=run, rows=rows)


@bp.post("/runs/<int:run_id>/sync")
def sync(run_id: int):
    """Bring a draft up to date with the employee register: salaries, new and departed employees."""
    run = get_run(run_id)
    if run.is_draft:
        service.sync_draft(run)
        db.session.commit()
        flash(_("The payroll run follows the employee register again."), "success")
    return redirect_to(url_for("payroll.run", run_id=run.id))


@bp.post("/runs/<int:run_id>/calculate")
def calculate(run_id: int):
    run = get_run(run_id)
    if not run.is_draft:
        flash(_("The payroll run is already calculated."), "info")
    else:
        try:
            service.calculate_run(run)
        except service.AlreadyCalculatedError:
            flash(_("The payroll run is already calculated."), "info")
            return redirect_to(url_for("payroll.send_and_post", run_id=run.id))
        except NegativeGrossError:
            db.session.rollback()
            flash(_("A payslip has deductions larger than its pay. Correct it before calculating."), "error")
            return redirect_to(url_for("payroll.run", run_id=run.id))
        except UnprintableText as error:
            db.session.rollback()
            flash(unprintable_message(error.char), "error")
            return redirect_to(url_for("payroll.run", run_id=run.id))
        flash(_("The payroll run is calculated: every payslip is frozen as a version."), "success")
    return redirect_to(url_for("payroll.send_and_post", run_id=run.id))


@bp.get("/runs/<int:run_id>/send-and-post")
def send_and_post(run_id: int):
    run = get_run(run_id)
    if run.is_draft:
        flash(_("Calculate the payroll run before sending and posting it."), "info")
        return redirect(url_for("payroll.run", run_id=run.id))
    return send_and_post_page(run)


@bp.post("/runs/<int:run_id>/post")
def post_voucher(run_id: int):
    run = get_run(run_id)
    if run.is_draft:
        abort(409)
    try:
        voucher = service.post_voucher(run, current_user)
    except service.NothingToPostError:
        flash(_("The payroll run is already posted; there is nothing new to post."), "error")
        return send_and_post_page(run, status=409)
    flash(_("Posted as voucher %(series)s%(number)d.", series=voucher.series, number=voucher.number), "success")
    db.session.refresh(run)
    return send_and_post_page(run) if is_htmx() else redirect(url_for("payroll.send_and_post", run_id=run.id), 303)


@bp.get("/runs/<int:run_id>/voucher.se")
def voucher_sie(run_id: int):
    run = get_run(run_id)
    if not run.vouchers:
        abort(404)
    company = db.session.get(Company, run.company_id)
    vouchers = [
        sie.SieVoucher(
            v.series, v.number, v.voucher_date,
            f"Lön {run.period:%Y-%m}",  # the books are kept in Swedish, whoever exports them
            [service.Row(r.account, r.amount_ore) for r in v.rows],
        )
        for v in run.vouchers
    ]
    body = sie.sie4(company.name, company.orgnr, clock.today_in_sweden(), vouchers)
    filename = f"verifikation-{run.period:%Y-%m}.se"
    return Response(
        body,
        content_type="text/plain; charset=IBM437",  # SIE's #FORMAT PC8 is code page 437
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
