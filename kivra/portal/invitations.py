"""Invitations to Min lön: a signed link that expires after a week and works once (kivra/mail/links.py).

The link carries the employee's id and a random nonce (the personnummer is never in it). The account stores only the
nonce's hash: using the link clears it, a new invitation replaces it, so an older link stops working either way.
A new invitation, and choosing a password from one, end the employee's sessions (their session version counts up)."""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import generate_password_hash

from kivra.accounts import password_hashes
from kivra.accounts.models import Company, User, utcnow
from kivra.employees.models import Employee
from kivra.employees.portal_account import PortalAccount
from kivra.extensions import db
from kivra.mail import outbox
from kivra.mail.links import LinkError, OneTimeLinks, matches, public_url
from kivra.mail.models import OutboundEmail
from kivra.portal import mail

VALID_FOR = timedelta(days=7)
LINKS = OneTimeLinks("min-lon-invitation", VALID_FOR, claim="employee")
InvitationError = LinkError  # expired, used (or replaced by a newer invitation) or invalid


class NoEmailAddress(Exception):
    """The employee has no e-mail address to send the invitation to."""


@dataclass(frozen=True)
class Invitation:
    to_address: str
    link: str
    email: OutboundEmail | None  # None when MAIL_DISABLED: the admin hands the link over


def account_of(employee_id: int) -> PortalAccount | None:
    return db.session.scalar(select(PortalAccount).where(PortalAccount.employee_id == employee_id))


def accounts_of(employee_ids: list[int]) -> dict[int, PortalAccount]:
    """Each employee's Min lön account, for those invited."""
    accounts = db.session.scalars(select(PortalAccount).where(PortalAccount.employee_id.in_(employee_ids)))
    return {account.employee_id: account for account in accounts}


def invite(employee: Employee, user: User) -> Invitation:
    """Write the invitation e-mail to the outbox with a new link; any earlier link stops working."""
    if not employee.email:
        raise NoEmailAddress(employee.id)
    token, digest = LINKS.make(employee.id)
    for attempt in range(2):  # the first invitation of an employee made twice at once: the second finds the first
        account = account_of(employee.id) or PortalAccount(employee_id=employee.id)
        account.invitation_hash = digest
        if account.id is not None:  # invited again: whoever is signed in as them now is signed out
            account.session_version = PortalAccount.session_version + 1
        account.invited_at = utcnow()
        account.invited_by_id = user.id
        db.session.add(account)
        try:
            db.session.flush()
            break
        except IntegrityError:
            db.session.rollback()
            if attempt:
                raise
    link = public_url("portal.invitation", token=token)
    email = None
    if not outbox.disabled():
        company = db.session.get(Company, employee.company_id)
        email = mail.invitation(employee, company.name, link, public_url("portal.login"), VALID_FOR.days)
    db.session.commit()
    return Invitation(employee.email, link, email)


def _open(token: str) -> tuple[PortalAccount, str]:
    employee_id, expected = LINKS.open(token)
    account = account_of(employee_id)
    if account is None or not matches(account.invitation_hash, expected):
        raise LinkError("used")
    return account, expected


def open_invitation(token: str) -> PortalAccount:
    """The account the link is for, if the link can still be used; InvitationError otherwise."""
    return _open(token)[0]


def accept(token: str, password: str) -> PortalAccount:
    """Set the password and use the link up. Two tabs posting at once: the database lets one of them win."""
    account, digest = _open(token)
    used = db.session.execute(
        update(PortalAccount)
        .where(PortalAccount.id == account.id, PortalAccount.invitation_hash == digest)
        .values(invitation_hash=None, password_hash=generate_password_hash(password), password_set_at=utcnow(),
                session_version=PortalAccount.session_version + 1)  # a new password ends every other session
        .execution_options(synchronize_session=False)
    ).rowcount
    if not used:
        db.session.rollback()
        raise LinkError("used")
    db.session.commit()
    db.session.refresh(account)
    return account


def authenticate(email: str, password: str) -> PortalAccount | None:
    """The employee's account with this e-mail address and password (one person may be employed twice). An address
    with no account that has a password costs one password check all the same (kivra/accounts/password_hashes.py)."""
    accounts = db.session.scalars(
        select(PortalAccount).join(Employee, Employee.id == PortalAccount.employee_id)
        .where(func.lower(Employee.email) == email.strip().lower(), PortalAccount.password_hash.is_not(None))
        .order_by(PortalAccount.password_set_at.desc())
    ).all()
    if not accounts:
        password_hashes.refuse(password)
    return next((account for account in accounts if account.check_password(password)), None)
