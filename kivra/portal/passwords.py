"""A forgotten Min lön password: a reset link by e-mail (kivra/mail/resets.py).

One address may belong to an employee of two companies: each account gets its own link, naming its company. An
invited employee who never chose a password may reset too (their invitation may have expired meanwhile)."""
from flask_babel import force_locale, gettext as _
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from kivra.accounts.models import Company, utcnow
from kivra.employees.models import Employee
from kivra.employees.portal_account import PortalAccount
from kivra.extensions import db
from kivra.locales import babel_locale
from kivra.mail import outbox
from kivra.mail.links import OneTimeLinks, public_url
from kivra.mail.models import MailKind
from kivra.mail.resets import VALID_FOR, PasswordResets

RESETS = PasswordResets(OneTimeLinks("min-lon-password-reset", VALID_FOR, claim="employee"), PortalAccount,
                        key="employee_id", on_reset={"invitation_hash": None, "password_set_at": utcnow})


def ask_for_reset(email_address: str) -> None:
    """E-mail a reset link to each Min lön account of an employee with this address (the caller never says)."""
    found = db.session.execute(
        select(PortalAccount, Employee, Company).join(Employee, Employee.id == PortalAccount.employee_id)
        .join(Company, Company.id == Employee.company_id)
        .where(func.lower(Employee.email) == email_address.strip().lower())
    ).all()
    for account, employee, company in found:
        token = RESETS.start(account)
        if token is None:
            continue
        link = public_url("portal.reset_password", token=token)
        with force_locale(babel_locale(account.locale)):
            subject = _("Reset your Min lön password")
            body = "\n\n".join((
                _("Hello %(name)s,", name=employee.name),
                _("Someone asked to reset your password for Min lön at %(company)s.", company=company.name),
                _("Choose a new password here. The link works once, for one hour:") + "\n" + link,
                _("If it was not you, ignore this e-mail: your password stays as it is."),
            )) + "\n"
        outbox.queue(MailKind.PASSWORD_RESET, employee.email, subject, body, employee_id=employee.id,
                     company_id=company.id)
    db.session.commit()


open_reset = RESETS.open
reset_password = RESETS.finish


def change_password(account: PortalAccount, current: str, new: str) -> bool:
    """The employee's new password, if `current` is their password (False otherwise, nothing changed). Every session
    of theirs ends: the caller signs the browser that changed it in again under the new session version."""
    if not account.check_password(current):
        return False
    account.password_hash = generate_password_hash(new)
    account.password_set_at = utcnow()
    account.session_version = PortalAccount.session_version + 1
    db.session.commit()
    db.session.refresh(account)
    return True
