"""Signing in, for company users (/login) and for employees in Min lön (/min-lon/login): one flow, two pages. The
form is throttled (kivra/web/throttle.py), the password checked, the language chosen before signing in kept,
and `next` followed only within the page's own side. A view helper: it reads the request and the session."""
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user

from kivra.extensions import db
from kivra.web import render, signed_in_as
from kivra.web.i18n import LOCALES
from kivra.web.throttle import sign_in_limits


def safe_next(target: str | None, within: str = "/", fallback: str = "payroll.runs") -> str:
    """A path on this site below `within`, else the `fallback` page: never another site someone slipped in
    (`https://…`, `//host`, `/\\host`)."""
    if (target and target.startswith(within) and not target.startswith("//") and "\\" not in target
            and not urlsplit(target).netloc):
        return target
    return url_for(fallback)


def sign_in(principal) -> None:
    """Sign in a company user or an employee, keeping the language they chose before signing in."""
    if session.get("locale") in LOCALES:
        principal.locale = session["locale"]
        db.session.commit()
    login_user(principal)


@dataclass(frozen=True)
class SignInPage:
    """One sign-in page: who it signs in (`user` or `employee`), its form and template block, the page they land on,
    the part of the site `next` may lead to, and how an e-mail address and password find the one signing in."""

    principal: str
    form: type
    template: str
    block: str
    home: str  # endpoint
    within: str
    authenticate: Callable[[str, str], object | None]

    def throttled(self, view):
        return sign_in_limits(self.form, self.template, self.block)(view)

    def respond(self):
        if signed_in_as(self.principal):
            return redirect(url_for(self.home))
        form = self.form(next=request.args.get("next", ""))
        if form.validate_on_submit():
            found = self.authenticate(form.email.data, form.password.data)
            if found:
                sign_in(found)
                return redirect(safe_next(form.next.data, self.within, self.home), code=303)
            form.password.errors.append(_("Wrong e-mail address or password."))
        return render(self.template, self.block, status=422 if form.errors else 200, form=form)
