"""Sign in, sign out and choose a language."""

from flask import flash, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from sqlalchemy import select

from kivra.accounts.models import User, authenticate
from kivra.extensions import db, login_manager
from kivra.portal.models import PortalAccount
from kivra.web.accounts import bp
from kivra.web.accounts.forms import LanguageForm, LoginForm
from kivra.web.signin import SignInPage, safe_next


@login_manager.user_loader
def load_user(user_id: str) -> User | PortalAccount | None:
    """The session names its principal: "user:<id>" a company user, "employee:<id>" an employee in Min lön."""
    kind, _sep, key = user_id.rpartition(":")
    if not key.isdigit():
        return None
    if kind in ("user", ""):  # "": a session from before employees could sign in
        return db.session.get(User, int(key))
    if kind == "employee":
        return db.session.scalar(select(PortalAccount).where(
            PortalAccount.employee_id == int(key), PortalAccount.password_hash.is_not(None)))
    return None


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
    logout_user()
    return redirect(url_for("accounts.login"), code=303)


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
