"""What every view shares: sign-in by default, htmx-aware rendering, `Vary: HX-Request`."""
from flask import redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from kivra.extensions import login_manager

PUBLIC_ENDPOINTS = {"static", "accounts.login", "accounts.set_language", "portal.login", "portal.invitation",
                    "accounts.forgot_password", "accounts.reset_password", "portal.forgot_password",
                    "portal.reset_password", "users.invitation",
                    "signup.register", "signup.confirm", "signup.confirmed",  # a new company, its e-mail link
                    "health.web", "health.workers",  # polled by supervisors and load balancers
                    "metrics.scrape"}  # Prometheus: its own bearer token (kivra/metrics.py)


def is_htmx() -> bool:
    """An htmx request wants a fragment, except when htmx restores history from the server."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def render(template: str, block: str | None = None, status: int = 200, **context):
    """The named block for htmx, the whole page otherwise."""
    if block and is_htmx():
        return render_block(template, block, **context), status
    return render_template(template, **context), status


def current_company():
    """The signed-in user's company."""
    from kivra.accounts.models import Company
    from kivra.extensions import db

    return db.session.get(Company, current_user.company_id)


def redirect_to(target: str):
    """After a POST: htmx follows `HX-Redirect`, a plain form follows a 303."""
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, code=303)


def signed_in_as(principal: str) -> bool:
    """Whether the session's principal is a company `user` or an `employee` signed in to Min lön."""
    return current_user.is_authenticated and current_user.principal == principal


def in_portal() -> bool:
    """Min lön's pages, and any page an employee sees, carry Min lön's header, never the company's."""
    return request.blueprint == "portal" or signed_in_as("employee")


def _require_login():
    """Company pages need a company user, Min lön's pages an employee; neither kind stands in for the other."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    needed = "employee" if request.blueprint == "portal" else "user"
    if signed_in_as(needed):
        return None
    if is_htmx():  # a fragment must not swap the login page into itself
        target = "portal.login" if needed == "employee" or signed_in_as("employee") else "accounts.login"
        return "", 401, {"HX-Redirect": url_for(target)}
    if signed_in_as("employee"):  # an employee on a company page: back to Min lön, which shows their payslips
        return redirect(url_for("portal.login"))
    return login_manager.unauthorized()  # to the blueprint's login page, with `next`


def _vary(response):
    response.vary.add("HX-Request")
    return response


def init_app(app) -> None:
    from kivra.web import headers
    from kivra.web.session_limits import end_stale_session

    app.before_request(end_stale_session)  # before _require_login: an ended session signs no one in
    app.before_request(_require_login)
    app.after_request(_vary)
    headers.init_app(app)  # the Content-Security-Policy and its companions, no-store
    login_manager.login_view = "accounts.login"
    login_manager.blueprint_login_views = {"portal": "portal.login"}
    app.jinja_env.globals.update(in_portal=in_portal)
    _state_globals(app)
    login_manager.login_message = None


def _state_globals(app) -> None:
    """The states, named once in the models, for templates to compare with: no state is spelled in a template."""
    from kivra import status
    from kivra.agreement import models as kivra
    from kivra.dispatch import models as dispatch
    from kivra.mail.models import MailKind, MailState
    from kivra.portal.payslips import Where

    app.jinja_env.globals.update(
        Channel=dispatch.Channel, SendState=dispatch.SendState, DispatchState=dispatch.DispatchState,
        OUTCOMES=dispatch.OUTCOMES, UNFINISHED=dispatch.UNFINISHED, PAGE_OUTCOMES=status.PAGE_OUTCOMES,
        PENDING=status.PENDING, SenderState=kivra.SenderState, JobState=kivra.JobState,
        AgreementSource=kivra.AgreementSource, AgreementEnd=kivra.AgreementEnd, Where=Where, MailState=MailState,
        MailKind=MailKind,
    )
