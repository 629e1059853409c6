"""How long a session lasts: SESSION_IDLE_MINUTES without a request, and SESSION_MAX_HOURS after signing in however
busy. The times are kept in the signed session cookie (set by kivra/web/signin.py `sign_in`) and read from
kivra/clock.py, checked before every request; an ended session is emptied and the person sent to their sign-in page
with a message, in their language. The cookie itself expires after SESSION_MAX_HOURS too (PERMANENT_SESSION_LIFETIME):
Flask refuses an older one whatever it says."""
from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from kivra import clock
from kivra.web import PUBLIC_ENDPOINTS, is_htmx
from kivra.web.signin import fresh_session


def end_stale_session():
    """A before_request hook: note the request, or end the session if it has been idle or open too long."""
    if "_user_id" not in session:
        return None
    now = clock.now().timestamp()
    signed_in_at, seen_at = session.get("signed_in_at"), session.get("seen_at")
    hours, minutes = current_app.config["SESSION_MAX_HOURS"], current_app.config["SESSION_IDLE_MINUTES"]
    if signed_in_at is None or seen_at is None:  # signed in before sessions had limits
        message = None
    elif now - signed_in_at >= hours * 3600:
        message = _("You were logged out after %(hours)d hours. Log in again.", hours=hours)
    elif now - seen_at >= minutes * 60:
        message = _("You were logged out after %(minutes)d minutes without activity. Log in again.", minutes=minutes)
    else:
        session["seen_at"] = now
        return None
    return _end(message)


def _end(message: str | None):
    login = "portal.login" if session["_user_id"].startswith("employee:") else "accounts.login"
    locale = current_user.locale if current_user.is_authenticated else None  # the page after speaks theirs
    logout_user()
    fresh_session(locale)
    if message:
        flash(message, "info")
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if is_htmx():  # a fragment must not swap the login page into itself
        return "", 401, {"HX-Redirect": url_for(login)}
    return redirect(url_for(login, next=request.full_path.rstrip("?") if request.method == "GET" else None))
