"""Signing in, for company users (/login) and for employees in Min lön (/min-lon/login): one flow, two pages. The
form is throttled (kivra/web/throttle.py), the password checked, the language chosen before signing in kept,
and `next` followed only within the page's own side. A view helper: it reads the request and the session.

Signing in starts a fresh session: nothing from before it carries over but the language (no CSRF token, no key
someone planted), and it notes when, for the session's limits (kivra/web/session_limits.py). Signing out ends every
session of that person, in any browser: their session version counts up (kivra/accounts/sessions.py)."""
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from kivra import clock
from kivra.accounts.sessions import end_sessions
from kivra.extensions import db
from kivra.web import render, signed_in_as
from kivra.web.i18n import LOCALES
from kivra.web.throttle import sign_in_limits


def safe_next(target: str | None, within: str = "/", fallback: str = "payroll.runs") -> str:
    """A path on this site below `within`, else the `fallback` page: never another site someone slipped in
    (`https://…`, `//host`, `/\\host`). A control character (CR, LF, …) is no link anyone followed: 400."""
    refuse_control_characters(target)
    if (target and target.startswith(within) and not target.startswith("//") and "\\" not in target
            and not urlsplit(target).netloc):
        return target
    return url_for(fallback)


def refuse_control_characters(target: str | None) -> None:
    """A `next` with CR, LF or another control character: a bad request (it could split the Location header)."""
    if target and any(ord(char) < 32 or ord(char) == 127 for char in target):
        abort(400)


def sign_in(principal) -> None:
    """Sign in a company user or an employee in a fresh session, keeping the language they chose before signing in."""
    if session.get("locale") in LOCALES:
        principal.locale = session["locale"]
        db.session.commit()
    fresh_session()
    login_user(principal)
    session["signed_in_at"] = session["seen_at"] = clock.now().timestamp()


def stay_signed_in(principal) -> None:
    """This browser's session goes on under the principal's new session version (after a password change that ended
    every other session); it keeps its sign-in time, so its limits do not start again."""
    login_user(principal)


def sign_out() -> None:
    """End the signed-in person's sessions, this browser's and any other (a copied cookie too)."""
    if current_user.is_authenticated:
        end_sessions(current_user._get_current_object())
    logout_user()
    fresh_session()


def fresh_session(locale: str | None = None) -> None:
    """Empty the session but for the language; a new CSRF token is made when a form next asks for one."""
    locale = locale or session.get("locale")
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)  # Flask-WTF's copy for this request
    if locale in LOCALES:
        session["locale"] = locale


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
        refuse_control_characters(request.args.get("next"))
        form = self.form(next=request.args.get("next", ""))
        if form.validate_on_submit():
            found = self.authenticate(form.email.data, form.password.data)
            if found:
                sign_in(found)
                return redirect(safe_next(form.next.data, self.within, self.home), code=303)
            form.password.errors.append(_("Wrong e-mail address or password."))
        return render(self.template, self.block, status=422 if form.errors else 200, form=form)
