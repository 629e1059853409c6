"""Sign in, sign out and choose a language."""

from flask import flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from kivra.web.accounts.forms import LanguageForm, LoginForm
from kivra.accounts.models import User
from kivra.web.throttle import sign_in_limits
from kivra.extensions import db, login_manager
from kivra.web.i18n import LOCALES
from kivra.portal.models import PortalAccount
from kivra.web.accounts import bp
from kivra.web import render, signed_in_as
from kivra.web.loaders import safe_next


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


@bp.route("/login", methods=["GET", "POST"])
@sign_in_limits(LoginForm, "accounts/login.html", "login_form")
def login():
    if signed_in_as("user"):
        return redirect(url_for("payroll.runs"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(func.lower(User.email) == form.email.data.strip().lower()))
        if user and user.check_password(form.password.data):
            if session.get("locale") in LOCALES:  # chosen on the login page: keep it
                user.locale = session["locale"]
                db.session.commit()
            login_user(user)
            return redirect(safe_next(form.next.data), code=303)
        form.password.errors.append(_("Wrong e-mail address or password."))
        return render("accounts/login.html", "login_form", status=422, form=form)
    status = 422 if form.errors else 200
    return render("accounts/login.html", "login_form", status=status, form=form)


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
