"""E-mail through the outbox table; in development each message is also printed, so its link can be followed."""
import click
from flask import current_app
from flask_babel import force_locale, gettext as _, ngettext

from kivra.extensions import db
from kivra.portal.models import OutboundEmail

LANGUAGES = ("sv", "en")  # Swedish first: the employee's language is not known before they sign in


def queue(to_address: str, subject: str, body: str) -> OutboundEmail:
    """Add the message to the caller's transaction; it exists if, and only if, what it tells was committed."""
    email = OutboundEmail(to_address=to_address, subject=subject, body=body)
    db.session.add(email)
    return email


def announce(email: OutboundEmail) -> None:
    """Development has no mail relay: print the message (it never holds a personnummer)."""
    if current_app.config["APP_ENV"] == "development":
        click.echo(f"E-mail to {email.to_address}: {email.subject}\n\n{email.body}\n", err=True)


def invitation(to_address: str, name: str, company: str, link: str, login: str, days: int) -> OutboundEmail:
    """The invitation to Min lön, in Swedish and then English."""
    subjects, parts = [], []
    for locale in LANGUAGES:
        with force_locale(locale):
            subjects.append(_("Your invitation to Min lön"))
            parts.append("\n\n".join((
                _("Hello %(name)s,", name=name),
                _("%(company)s invites you to Min lön, where you read your payslips.", company=company),
                ngettext("Choose your password here. The link works once, for %(num)d day:",
                         "Choose your password here. The link works once, for %(num)d days:", days) + "\n" + link,
                _("Then log in at %(login)s with your e-mail address %(email)s.", login=login, email=to_address),
            )))
    return queue(to_address, " / ".join(subjects), "\n\n———\n\n".join(parts) + "\n")
