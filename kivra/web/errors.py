"""Error pages in the user's language."""
from flask import request
from flask_babel import force_locale, gettext as _
from flask_wtf.csrf import CSRFError

from kivra.proxy import session_cookie_dropped
from kivra.web import render
from kivra.web.accounts.forms import LoginForm
from kivra.web.i18n import LOCALES
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


def https_required():
    """Plain HTTP in production: say so, not "security token missing". The language chosen in the session is gone
    with the cookie, so the browser's language is the best guess."""
    with force_locale(request.accept_languages.best_match(LOCALES) or "sv"):
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
