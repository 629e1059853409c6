"""A company user's forgotten password: a reset link by e-mail (kivra/mail/resets.py)."""
from flask_babel import force_locale, gettext as _
from sqlalchemy import func, select

from kivra.accounts.models import User
from kivra.extensions import db
from kivra.locales import babel_locale
from kivra.mail import outbox
from kivra.mail.links import OneTimeLinks, public_url
from kivra.mail.models import MailKind
from kivra.mail.resets import VALID_FOR, PasswordResets

RESETS = PasswordResets(OneTimeLinks("user-password-reset", VALID_FOR, claim="user"), User, key="id")


def ask_for_reset(email_address: str) -> None:
    """E-mail a reset link to the company user with this address, if there is one (the caller never says)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email_address.strip().lower()))
    # Only a user who can sign in: one invited sets the password from the invitation (which records that they joined),
    # one deactivated could not use a new password anyway.
    token = RESETS.start(user) if user is not None and user.is_active else None
    if token is not None:
        link = public_url("accounts.reset_password", token=token)
        with force_locale(babel_locale(user.locale)):
            subject = _("Reset your password")
            body = "\n\n".join((
                _("Hello %(name)s,", name=user.name),
                _("Someone asked to reset the password you log in to Payroll with, %(email)s.", email=user.email),
                _("Choose a new password here. The link works once, for one hour:") + "\n" + link,
                _("If it was not you, ignore this e-mail: your password stays as it is."),
            )) + "\n"
        outbox.queue(MailKind.PASSWORD_RESET, user.email, subject, body, user_id=user.id, company_id=user.company_id)
    db.session.commit()


open_reset = RESETS.open
reset_password = RESETS.finish
