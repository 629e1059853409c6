"""Min lön: sign in, choose a password from an invitation, read one's payslips."""
from flask import abort, flash, make_response, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from kivra.web.throttle import sign_in_limits
from kivra.dispatch.corrections import corrects_received
from kivra.extensions import db
from kivra.web.i18n import LOCALES
from kivra.payroll.service import version_pdf
from kivra.portal import invitations, payslips
from kivra.web.portal.forms import MIN_PASSWORD_LENGTH, ChoosePasswordForm, PortalLoginForm
from kivra.portal.models import PortalAccount
from kivra.web.portal import bp
from kivra.web import render, signed_in_as


def safe_next(target: str | None) -> str:
    """Only a page of Min lön; never another site, nor a company page."""
    if target and target.startswith(bp.url_prefix + "/") and "//" not in target and "\\" not in target:
        return target
    return url_for("portal.index")


def _sign_in(account: PortalAccount) -> None:
    if session.get("locale") in LOCALES:  # chosen before signing in: keep it
        account.locale = session["locale"]
        db.session.commit()
    login_user(account)


@bp.get("/")
def index():
    received = payslips.received(current_user.employee_id)
    return render("portal/payslips.html", "payslips", received=received)


@bp.get("/payslips/<int:payslip_id>/v<int:number>.pdf")
def pdf(payslip_id: int, number: int):
    version = payslips.received_version(current_user.employee_id, payslip_id, number)
    if version is None:
        abort(404)
    run = version.payslip.run
    response = make_response(version_pdf(version, corrects_received(version)))
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="lonebesked-{run.period:%Y-%m}-v{number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/login", methods=["GET", "POST"])
@sign_in_limits(PortalLoginForm, "portal/login.html", "portal_login_form")
def login():
    if signed_in_as("employee"):
        return redirect(url_for("portal.index"))
    form = PortalLoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        account = invitations.authenticate(form.email.data, form.password.data)
        if account:
            _sign_in(account)
            return redirect(safe_next(form.next.data), code=303)
        form.password.errors.append(_("Wrong e-mail address or password."))
    status = 422 if form.errors else 200
    return render("portal/login.html", "portal_login_form", status=status, form=form)


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("portal.login"), code=303)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    try:
        account = invitations.open_invitation(token)
    except invitations.InvitationError as error:
        return _unusable(error)
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        try:
            account = invitations.accept(token, form.password.data)
        except invitations.InvitationError as error:  # used in another tab meanwhile
            return _unusable(error)
        _sign_in(account)
        flash(_("Your password is saved. Welcome to Min lön!"), "success")
        return redirect(url_for("portal.index"), code=303)
    status = 422 if form.errors else 200
    response = make_response(render("portal/invitation.html", "choose_password", status=status, form=form,
                                     account=account, min_length=MIN_PASSWORD_LENGTH))
    response.headers["Cache-Control"] = "no-store"
    return response


def _unusable(error: invitations.InvitationError):
    return render("portal/invitation.html", "choose_password", status=410, reason=error.reason,
                  days=invitations.VALID_FOR.days)
