"""Registrera företag: the sign-up form, the page that asks to confirm the address (and sends the e-mail again), and
the confirmation link's page, which confirms with a button (a GET changes nothing)."""
from flask import current_app, flash, make_response, redirect, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from kivra.accounts import signup
from kivra.mail.links import LinkError
from kivra.web import current_company, redirect_to, render, signed_in_as
from kivra.web.forms import MIN_PASSWORD_LENGTH
from kivra.web.i18n import current_locale
from kivra.web.signin import sign_in
from kivra.web.signup import bp
from kivra.web.signup.forms import SignUpForm
from kivra.web.throttle import sign_up_limits


@bp.route("", methods=["GET", "POST"])
@sign_up_limits(SignUpForm, "signup/register.html", "signup_form", min_length=MIN_PASSWORD_LENGTH)
def register():
    if signed_in_as("user"):
        return redirect(url_for("payroll.runs"))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            user, confirmation = signup.sign_up(
                form.company_name.data, form.parsed_orgnr.digits, form.name.data, form.email.data,
                form.password.data, current_locale(), current_app.config["EMPLOYER_CONTRIBUTION_RATE"])
        except signup.OrgnrTaken:
            form.orgnr.errors.append(_("This organisation number already has an account: sign in, or ask its "
                                       "administrator to invite you."))
        except signup.EmailTaken:
            form.email.errors.append(_("This e-mail address already has an account: sign in, or use another "
                                       "address."))
        else:
            sign_in(user)
            if not confirmation.queued:
                _said_mail_disabled(confirmation)
            return redirect_to(url_for("signup.pending"))
    response = make_response(render("signup/register.html", "signup_form", status=422 if form.errors else 200,
                                    form=form, min_length=MIN_PASSWORD_LENGTH))
    response.headers["Cache-Control"] = "no-store"
    return response


def _said_mail_disabled(confirmation: signup.Confirmation) -> None:
    flash(_("E-mail is turned off in this installation, so no confirmation was sent. Confirm the address with this "
            "link; it works once, for %(days)d days: %(link)s", days=signup.VALID_FOR.days, link=confirmation.link),
          "info")


@bp.get("/bekrafta")
def pending():
    """Confirm your address: where a new company lands, and where the banner and the send step lead."""
    company = current_company()
    if company.confirmed_at is not None:
        return redirect(url_for("signup.confirmed"))
    return render("signup/pending.html", "confirmation", user=signup.awaiting_confirmation(company), form=FlaskForm(),
                  days=signup.VALID_FOR.days)


@bp.post("/bekrafta/skicka-igen")
def send_again():
    """A new confirmation e-mail, at most one a minute."""
    company, status = current_company(), 200
    try:
        confirmation = signup.send_again(company)
    except signup.SentMomentsAgo:
        flash(_("An e-mail was sent less than a minute ago. Wait a minute, then try again."), "error")
        status = 429
    else:
        if confirmation is None:
            return redirect_to(url_for("signup.confirmed"))
        if confirmation.queued:
            flash(_("A new confirmation e-mail to %(email)s is on its way.", email=confirmation.to_address), "success")
        else:
            _said_mail_disabled(confirmation)
    if status == 200:
        return redirect_to(url_for("signup.pending"))
    return render("signup/pending.html", "confirmation", status=status, user=signup.awaiting_confirmation(company),
                  form=FlaskForm(), days=signup.VALID_FOR.days)


@bp.route("/bekrafta/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """The e-mail's link: a button that confirms (signed in or not); a link that cannot be used is a 410."""
    form = FlaskForm()
    try:
        user = signup.open_link(token)
        if form.validate_on_submit():
            signup.confirm(token)
            return redirect(url_for("signup.confirmed"), code=303)
    except LinkError as error:
        return render("signup/confirm.html", status=410, reason=error.reason, days=signup.VALID_FOR.days)
    return render("signup/confirm.html", user=user, form=form)


@bp.get("/bekraftad")
def confirmed():
    """The address is confirmed: what comes next (a company still unconfirmed is sent back to confirm)."""
    if signed_in_as("user") and current_company().confirmed_at is None:
        return redirect(url_for("signup.pending"))
    return render("signup/confirmed.html", signed_in=signed_in_as("user"))
