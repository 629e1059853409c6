"""Min lön: sign in, choose a password from an invitation or a reset link, read one's payslips, settings."""
from flask import abort, flash, make_response, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kivra.dispatch.corrections import corrects_received
from kivra.extensions import db
from kivra.mail.links import LinkError
from kivra.payroll.service import version_pdf
from kivra.portal import invitations, passwords, payslips
from kivra.web import is_htmx, redirect_to, render
from kivra.web.forms import MIN_PASSWORD_LENGTH, ChoosePasswordForm, words_about
from kivra.web.passwords import PasswordResetPages
from kivra.web.portal import bp
from kivra.web.portal.forms import ChangePasswordForm, PortalLoginForm, SettingsForm
from kivra.web.signin import SignInPage, sign_in, sign_out, stay_signed_in
from kivra.web.throttle import password_change_limits

SIGN_IN = SignInPage("employee", PortalLoginForm, "portal/login.html", "portal_login_form", home="portal.index",
                     within=bp.url_prefix + "/", authenticate=invitations.authenticate)  # only Min lön's own pages


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
@SIGN_IN.throttled
def login():
    return SIGN_IN.respond()


@bp.post("/logout")
def logout():
    """Ends every session of this employee, in this browser and any other (one cookie copied from it too)."""
    sign_out()
    return redirect(url_for("portal.login"), code=303)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    try:
        account = invitations.open_invitation(token)
    except LinkError as error:
        return _unusable(error)
    form = ChoosePasswordForm(words_about_the_person=words_about(account))
    if form.validate_on_submit():
        try:
            account = invitations.accept(token, form.password.data)
        except LinkError as error:  # used in another tab meanwhile
            return _unusable(error)
        sign_in(account)
        flash(_("Your password is saved. Welcome to Min lön!"), "success")
        return redirect(url_for("portal.index"), code=303)
    status = 422 if form.errors else 200
    response = make_response(render("portal/invitation.html", "choose_password", status=status, form=form,
                                     account=account, min_length=MIN_PASSWORD_LENGTH))
    response.headers["Cache-Control"] = "no-store"
    return response


def _unusable(error: LinkError):
    return render("portal/invitation.html", "choose_password", status=410, reason=error.reason,
                  days=invitations.VALID_FOR.days)


RESET = PasswordResetPages("portal", "portal.forgot_password", home="portal.index", ask=passwords.ask_for_reset,
                           open=passwords.open_reset, finish=passwords.reset_password)


@bp.route("/forgot-password", methods=["GET", "POST"])
@RESET.throttled
def forgot_password():
    return RESET.forgot()


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return RESET.reset(token)


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    account = current_user
    form = SettingsForm(obj=account)
    if form.validate_on_submit():
        account.notify_new_payslips = form.notify_new_payslips.data
        db.session.commit()
        flash(_("Saved: you get an e-mail when you have a new payslip.") if account.notify_new_payslips
              else _("Saved: you get no e-mail about new payslips. They are here all the same."), "success")
        if not is_htmx():
            return redirect_to(url_for("portal.settings"))
    return render("portal/settings.html", "settings_form", status=422 if form.errors else 200, form=form,
                  password_form=ChangePasswordForm(), min_length=MIN_PASSWORD_LENGTH)


def _password_form(form: ChangePasswordForm, status: int):
    return render("portal/settings.html", "password_form", status=status, form=SettingsForm(obj=current_user),
                  password_form=form, min_length=MIN_PASSWORD_LENGTH)


def _too_many_password_changes(message: str):
    form = ChangePasswordForm()  # as typed (password fields never show their values)
    form.current.errors = [message]
    return _password_form(form, 429)


@bp.post("/settings/password")
@password_change_limits(_too_many_password_changes)
def change_password():
    """A new password: every other session of the employee ends, this browser stays signed in."""
    form = ChangePasswordForm(words_about_the_person=words_about(current_user._get_current_object()))
    if form.validate_on_submit():
        account = current_user._get_current_object()
        if passwords.change_password(account, form.current.data, form.password.data):
            stay_signed_in(account)
            flash(_("Your new password is saved. Your other sessions have ended."), "success")
            return redirect_to(url_for("portal.settings"))
        form.current.errors.append(_("The current password is wrong."))
    return _password_form(form, 422)
