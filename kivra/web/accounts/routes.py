"""Sign in, sign out and choose a language."""

from flask import flash, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from kivra.accounts import passwords
from kivra.accounts.models import User, authenticate
from kivra.employees.portal_account import PortalAccount
from kivra.extensions import db, login_manager
from kivra.web.accounts import bp
from kivra.web.accounts.forms import LanguageForm, LoginForm
from kivra.web.passwords import PasswordResetPages
from kivra.web.signin import SignInPage, safe_next, sign_out


@login_manager.user_loader
def load_user(user_id: str) -> User | PortalAccount | None:
    """The session names its principal and the session version it was signed in under: "user:<id>:<version>" a
    company user, "employee:<id>:<version>" an employee in Min lön. Logging out, a new password, a new invitation and
    deactivation count the version up (kivra/accounts/sessions.py), so every session from before finds no one (a session from before versions were kept has version 0)."""
    kind, key, version = _session_parts(user_id)
    if kind == "user":
        principal = db.session.get(User, key)
    elif kind == "employee":
        principal = db.session.scalar(select(PortalAccount).where(
            PortalAccount.employee_id == key, PortalAccount.password_hash.is_not(None)))
    else:
        return None
    return principal if principal is not None and principal.session_version == version else None


def _session_parts(user_id: str) -> tuple[str | None, int, int]:
    parts = user_id.split(":")
    if len(parts) == 1:
        parts = ["user", *parts]  # a session from before employees could sign in
    if len(parts) == 2:
        parts.append("0")
    kind, key, version = parts if len(parts) == 3 else (None, "", "")
    if not (key.isdigit() and version.isdigit()):
        return None, 0, 0
    return kind, int(key), int(version)


@bp.get("/")
def index():
    return redirect(url_for("payroll.runs"))


SIGN_IN = SignInPage("user", LoginForm, "accounts/login.html", "login_form", home="payroll.runs", within="/",
                     authenticate=authenticate)


@bp.route("/login", methods=["GET", "POST"])
@SIGN_IN.throttled
def login():
    return SIGN_IN.respond()


@bp.post("/logout")
def logout():
    """Ends every session of this user, in this browser and any other (one cookie copied from it too)."""
    sign_out()
    return redirect(url_for("accounts.login"), code=303)


RESET = PasswordResetPages("payroll", "accounts.forgot_password", home="payroll.runs", ask=passwords.ask_for_reset,
                           open=passwords.open_reset, finish=passwords.reset_password)


@bp.route("/forgot-password", methods=["GET", "POST"])
@RESET.throttled
def forgot_password():
    return RESET.forgot()


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return RESET.reset(token)


@bp.post("/language")
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
            db.session.commit()
    else:
        flash(_("Choose one of the languages in the list."), "error")
    return redirect(safe_next(form.next.data), code=303)
