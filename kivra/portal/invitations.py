"""Invitations to Min lön: a signed link that expires after a week and works once.

The link carries the employee's id and a random nonce, signed and timestamped with itsdangerous (the personnummer is
never in it). The account stores only the nonce's hash: using the link clears it, a new invitation replaces it, so an
older link stops working either way."""
import hashlib
import secrets
import time
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import generate_password_hash

from kivra.accounts.models import Company, User, utcnow
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.portal import mail
from kivra.portal.models import OutboundEmail, PortalAccount

VALID_FOR = timedelta(days=7)
SALT = "min-lon-invitation"


class NoEmailAddress(Exception):
    """The employee has no e-mail address to send the invitation to."""


class InvitationError(Exception):
    """The link cannot be used; `reason` is expired, used (or replaced by a newer invitation) or invalid."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def clock() -> float:
    """Seconds since the epoch; tests move it to see a link expire."""
    return time.time()


class _Signer(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(clock())


def _serializer() -> URLSafeTimedSerializer:
    # Signed with the current key; links made before a rotation still open with a key in SECRET_KEY_FALLBACKS
    # (itsdangerous signs with the last key of the list and accepts any of them).
    keys = [*current_app.config.get("SECRET_KEY_FALLBACKS", []), current_app.secret_key]
    return URLSafeTimedSerializer(keys, salt=SALT, signer=_Signer)


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def account_of(employee_id: int) -> PortalAccount | None:
    return db.session.scalar(select(PortalAccount).where(PortalAccount.employee_id == employee_id))


def accounts_of(employee_ids: list[int]) -> dict[int, PortalAccount]:
    """Each employee's Min lön account, for those invited."""
    accounts = db.session.scalars(select(PortalAccount).where(PortalAccount.employee_id.in_(employee_ids)))
    return {account.employee_id: account for account in accounts}


def invite(employee: Employee, user: User, link_for: Callable[[str], str], login_url: str) -> OutboundEmail:
    """Write the invitation e-mail to the outbox with a new link; any earlier link stops working."""
    if not employee.email:
        raise NoEmailAddress(employee.id)
    nonce = secrets.token_urlsafe(32)
    for attempt in range(2):  # the first invitation of an employee made twice at once: the second finds the first
        account = account_of(employee.id) or PortalAccount(employee_id=employee.id)
        account.invitation_hash = _digest(nonce)
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
    token = _serializer().dumps({"employee": employee.id, "nonce": nonce})
    company = db.session.get(Company, employee.company_id)
    email = mail.invitation(employee.email, employee.name, company.name, link_for(token), login_url,
                            VALID_FOR.days)
    db.session.commit()
    mail.announce(email)
    return email


def _open(token: str) -> tuple[PortalAccount, str]:
    try:
        claims = _serializer().loads(token, max_age=int(VALID_FOR.total_seconds()))
    except SignatureExpired:
        raise InvitationError("expired") from None
    except BadSignature:
        raise InvitationError("invalid") from None
    if not isinstance(claims, dict) or not isinstance(claims.get("employee"), int) \
            or not isinstance(claims.get("nonce"), str):
        raise InvitationError("invalid")
    account = account_of(claims["employee"])
    expected = _digest(claims["nonce"])
    if account is None or account.invitation_hash is None or \
            not secrets.compare_digest(account.invitation_hash, expected):
        raise InvitationError("used")
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
        .values(invitation_hash=None, password_hash=generate_password_hash(password), password_set_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not used:
        db.session.rollback()
        raise InvitationError("used")
    db.session.commit()
    db.session.refresh(account)
    return account


def authenticate(email: str, password: str) -> PortalAccount | None:
    """The employee's account with this e-mail address and password (one person may be employed twice)."""
    accounts = db.session.scalars(
        select(PortalAccount).join(Employee, Employee.id == PortalAccount.employee_id)
        .where(func.lower(Employee.email) == email.strip().lower(), PortalAccount.password_hash.is_not(None))
        .order_by(PortalAccount.password_set_at.desc())
    )
    return next((account for account in accounts if account.check_password(password)), None)
