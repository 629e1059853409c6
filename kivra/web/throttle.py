"""Sign-in throttling: refused sign-ins are counted per account and per address, and past the limit the form says
to wait. Flask-Limiter does the counting (a moving window, in Redis when there is one); a successful sign-in is
never counted, so only someone guessing passwords meets the limit.

The limit is checked before the password is: once it is reached even the right password waits, which is the point.
"""
from flask import make_response, request
from flask_babel import gettext as _
from flask_login import current_user

from kivra.extensions import limiter
from kivra.web import render

WINDOW_MINUTES = 15
PER_ACCOUNT = f"10 per {WINDOW_MINUTES} minutes"  # guessing one person's password
PER_ADDRESS = f"50 per {WINDOW_MINUTES} minutes"  # trying many accounts from one address


def _account() -> str:
    """The e-mail address tried, as the form would match it (the endpoint keeps the two sign-in pages apart)."""
    return "account:" + (request.form.get("email") or "").strip().lower()


def _refused(response) -> bool:
    return response.status_code == 422  # wrong e-mail address or password, or an incomplete form


def sign_in_limits(form_class, template: str, block: str):
    """Limit a sign-in view; past the limit it answers 429 with its own form and the reason, page or htmx."""

    def breached(_limit):
        form = form_class()  # as submitted (the password field never shows its value)
        form.password.errors = [
            _("Too many failed sign-ins. Wait %(minutes)d minutes and try again.", minutes=WINDOW_MINUTES)]
        body, status = render(template, block, status=429, form=form)
        return make_response(body, status)

    def decorate(view):
        for limit, key in ((PER_ACCOUNT, _account), (PER_ADDRESS, None)):
            view = limiter.limit(limit, key_func=key, methods=["POST"], deduct_when=_refused, on_breach=breached)(view)
        return view

    return decorate


CHANGES_PER_ACCOUNT = f"10 per {WINDOW_MINUTES} minutes"  # guessing the password a session was opened with


def _signed_in_account() -> str:
    return f"signed-in:{current_user.get_id()}"


def password_change_limits(refused):
    """Limit a "change your password" view per signed-in account, as sign-in is limited: whoever holds someone's
    session (a computer left signed in) could otherwise guess the current password, and with it take the account.
    A wrong current password or an incomplete form counts; past the limit even the right password waits, and the
    view answers 429 with `refused(message)` (the form as typed and the reason, page or htmx)."""

    def breached(_limit):
        body, status = refused(_("Too many failed attempts. Wait %(minutes)d minutes and try again.",
                                 minutes=WINDOW_MINUTES))
        return make_response(body, status)

    def decorate(view):
        return limiter.limit(CHANGES_PER_ACCOUNT, key_func=_signed_in_account, methods=["POST"], deduct_when=_refused,
                             on_breach=breached)(view)

    return decorate


RESETS_PER_ACCOUNT = f"5 per {WINDOW_MINUTES} minutes"  # each may send an e-mail to the address
RESETS_PER_ADDRESS = f"20 per {WINDOW_MINUTES} minutes"


def reset_request_limits(form_class, template: str, block: str, **context):
    """Limit a "send me a reset link" view: every request counts (each may send an e-mail); past the limit it
    answers 429 with its own form and the reason, the same whether or not the address has an account."""

    def breached(_limit):
        form = form_class()
        form.email.errors = [_("Too many requests. Wait %(minutes)d minutes and try again.", minutes=WINDOW_MINUTES)]
        body, status = render(template, block, status=429, form=form, **context)
        return make_response(body, status)

    def decorate(view):
        for limit, key in ((RESETS_PER_ACCOUNT, _account), (RESETS_PER_ADDRESS, None)):
            view = limiter.limit(limit, key_func=key, methods=["POST"], on_breach=breached)(view)
        return view

    return decorate


SIGN_UPS_PER_ADDRESS = f"10 per {WINDOW_MINUTES} minutes"  # each may make a company and send an e-mail


def sign_up_limits(form_class, template: str, block: str, **context):
    """Limit the sign-up form: every POST from an address counts (each may make a company and send an e-mail); past
    the limit it answers 429 with the form as typed (never the passwords) and the reason, page or htmx."""

    def breached(_limit):
        form = form_class()
        form.form_errors.append(_("Too many sign-ups from your address. Wait %(minutes)d minutes and try again.",
                                  minutes=WINDOW_MINUTES))
        body, status = render(template, block, status=429, form=form, **context)
        return make_response(body, status)

    def decorate(view):
        return limiter.limit(SIGN_UPS_PER_ADDRESS, methods=["POST"], on_breach=breached)(view)

    return decorate
