"""Forgotten passwords, for company users (/forgot-password) and for employees in Min lön (/min-lon/forgot-password):
one flow, two sides, as sign-in is (kivra/web/signin.py). The answer to "send me a link" is the same whether or not
the address has an account; the form is throttled like sign-in; a used link signs the person in here and ends every
other session they had (kivra/mail/resets.py)."""
from collections.abc import Callable
from dataclasses import dataclass

from flask import flash, make_response, redirect, url_for
from flask_babel import gettext as _

from kivra.mail import outbox
from kivra.mail.links import LinkError
from kivra.mail.resets import VALID_FOR
from kivra.web import render
from kivra.web.forms import MIN_PASSWORD_LENGTH, ChoosePasswordForm, ForgotPasswordForm, words_about
from kivra.web.signin import sign_in
from kivra.web.throttle import reset_request_limits


@dataclass(frozen=True)
class PasswordResetPages:
    """One side's pages: `side` is "payroll" or "portal" (what the pages say), `forgot_endpoint` the page asking
    for a link, `home` where a reset lands."""

    side: str
    forgot_endpoint: str
    home: str
    ask: Callable[[str], None]
    open: Callable[[str], object]
    finish: Callable[[str, str], object]

    def throttled(self, view):
        return reset_request_limits(ForgotPasswordForm, "passwords/forgot.html", "forgot_form", side=self.side,
                                    mail_disabled=False)(view)

    def forgot(self):
        if outbox.disabled():
            return render("passwords/forgot.html", side=self.side, mail_disabled=True)
        form = ForgotPasswordForm()
        if form.validate_on_submit():
            self.ask(form.email.data)
            return render("passwords/forgot.html", "forgot_form", side=self.side, sent_to=form.email.data.strip(),
                          minutes=int(VALID_FOR.total_seconds() // 60))
        return render("passwords/forgot.html", "forgot_form", status=422 if form.errors else 200, form=form,
                      side=self.side, mail_disabled=False)

    def reset(self, token: str):
        try:
            principal = self.open(token)
        except LinkError as error:
            return self._unusable(error)
        form = ChoosePasswordForm(words_about_the_person=words_about(principal))
        if form.validate_on_submit():
            try:
                principal = self.finish(token, form.password.data)
            except LinkError as error:  # used in another tab meanwhile
                return self._unusable(error)
            sign_in(principal)
            flash(_("Your new password is saved, and you are logged in. Any other session of yours has ended."),
                  "success")
            return redirect(url_for(self.home), code=303)
        response = make_response(render("passwords/reset.html", "choose_password", status=422 if form.errors else 200,
                                        form=form, principal=principal, side=self.side,
                                        min_length=MIN_PASSWORD_LENGTH))
        response.headers["Cache-Control"] = "no-store"
        return response

    def _unusable(self, error: LinkError):
        return render("passwords/reset.html", "choose_password", status=410, reason=error.reason, side=self.side,
                      forgot=url_for(self.forgot_endpoint))
