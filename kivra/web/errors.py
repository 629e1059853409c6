"""Error pages in the user's language."""
import logging
from contextlib import nullcontext

from flask import render_template, request, session
from flask_babel import force_locale, gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError

from kivra.extensions import db
from kivra.locales import LOCALES, babel_locale
from kivra.proxy import session_cookie_dropped
from kivra.web import render
from kivra.web.accounts.forms import LoginForm
from kivra.web.portal.forms import PortalLoginForm

# The sign-in pages: their form and where it is rendered, so a refused sign-in shows the form again as it was typed.
SIGN_IN_PAGES = {
    "accounts.login": (LoginForm, "accounts/login.html", "login_form"),
    "portal.login": (PortalLoginForm, "portal/login.html", "portal_login_form"),
}


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        if session_cookie_dropped():
            return https_required()
        return render("errors/error.html", "error", status=400, kind="csrf")

    for code in (400, 403, 404, 405, 409):
        app.register_error_handler(code, lambda error, code=code: render("errors/error.html", "error", status=code, kind=code))
    for code in (413, 429):
        app.register_error_handler(code, lambda error, code=code: _page(code, error))
    app.register_error_handler(500, internal_error)
    app.register_error_handler(IntegrityError, unique_conflict)


log = logging.getLogger(__name__)


def _language():
    """The chosen language (the signed-in person's, or the session's), else the browser's: a visitor who never chose
    one reads an error in the language their browser asks for."""
    if session.get("locale") or session.get("_user_id"):
        return nullcontext()
    return force_locale(babel_locale(request.accept_languages.best_match(LOCALES)))


def _page(code: int, error=None):
    if error is not None and error.response is not None:
        return error.response  # a sign-in or reset form past its limit answers with itself (kivra/web/throttle.py)
    with _language():
        return render("errors/error.html", "error", status=code, kind=code)


def internal_error(error):
    """An unhandled exception, already logged by Flask: the app's own page. The request's transaction is rolled back
    first (a failed flush leaves the session unusable, and the page reads the signed-in user); if even that page
    cannot be made, a page that needs no database. htmx does not swap a 5xx: base.html's banner says it failed."""
    try:
        db.session.rollback()
        return _page(500)
    except Exception:  # noqa: BLE001 - the database is down, say: still an answer, not Werkzeug's
        log.exception("the error page could not be rendered; a page without the database instead")
        db.session.rollback()
        with force_locale(babel_locale(request.accept_languages.best_match(LOCALES))):
            return render_template("errors/unavailable.html"), 500


def unique_conflict(error):
    """A unique constraint decided a race a route did not foresee (two clicks, two tabs): nothing was saved, so a 409
    that says so, not a 500. Any other IntegrityError (NOT NULL, a foreign key, a CHECK) is a bug: re-raised, it is
    logged (without its values: kivra.database_errors) and answered by the 500 page."""
    if not is_unique_violation(error):
        raise error
    db.session.rollback()
    return render("errors/error.html", "error", status=409, kind=409, reason=_(
        "Someone else changed the same thing at the same time, so nothing was saved. Reload the page to see the"
        " latest and try again."))


def is_unique_violation(error: IntegrityError) -> bool:
    """PostgreSQL's SQLSTATE 23505, or SQLite's "UNIQUE constraint failed"."""
    return getattr(error.orig, "sqlstate", None) == "23505" or str(error.orig).startswith("UNIQUE constraint failed")


def https_required():
    """Plain HTTP in production: say so, not "security token missing". The language chosen in the session is gone
    with the cookie, so the browser's language is the best guess."""
    with force_locale(babel_locale(request.accept_languages.best_match(LOCALES))):
        lines = [_("Open the site over HTTPS"), _(
            "Signing in needs a secure connection. This page was opened over plain HTTP, so the browser did not keep"
            " its sign-in cookie. Open the address with https:// and sign in again. If it already begins with"
            " https://, the proxy in front of the application must send X-Forwarded-Proto: https; tell your system"
            " administrator.")]
        if request.endpoint not in SIGN_IN_PAGES:
            return render("errors/error.html", "error", status=400, kind="https", lines=lines)
        form_class, template, block = SIGN_IN_PAGES[request.endpoint]
        form = form_class()  # as typed: the e-mail address stays, a password field never shows its value
        form.form_errors.extend(lines)
        return render(template, block, status=400, form=form)
