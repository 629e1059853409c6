"""Användare: a company's users, invited by an admin, given a role, deactivated and reactivated; every change
recorded in UserChange in the transaction that makes it.

The last active admin of a company cannot be demoted or deactivated. Two admins demoting each other at once must not
both succeed: the company's row is locked first (PostgreSQL waits there), and the change itself is one UPDATE whose
WHERE counts the other active admins (SQLite has one writer, so that statement sees every committed change)."""
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from flask_babel import force_locale, gettext as _
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from werkzeug.security import generate_password_hash

from kivra.accounts.models import ROLES, Company, User, UserAction, UserChange, utcnow
from kivra.extensions import db
from kivra.locales import babel_locale
from kivra.mail import outbox
from kivra.mail.links import LinkError, OneTimeLinks, matches, public_url
from kivra.mail.models import MailKind, OutboundEmail

VALID_FOR = timedelta(days=7)
LINKS = OneTimeLinks("user-invitation", VALID_FOR, claim="user")
ADMIN = "admin"


class UserState(StrEnum):
    ACTIVE = "active"
    INVITED = "invited"  # no password chosen yet
    DEACTIVATED = "deactivated"


def state_of(user: User) -> UserState:
    if user.deactivated_at is not None:
        return UserState.DEACTIVATED
    return UserState.INVITED if user.password_hash is None else UserState.ACTIVE


class EmailTaken(Exception):
    """Another user already has this e-mail address."""


class LastAdmin(Exception):
    """The change would leave the company without an active admin."""


class UserChanged(Exception):
    """Someone else changed the user meanwhile (the change was not made), or the change does not apply to them."""


@dataclass(frozen=True)
class Invitation:
    user: User
    link: str
    email: OutboundEmail | None  # None when MAIL_DISABLED: the admin hands the link over


def users_of(company_id: int) -> list[User]:
    return db.session.scalars(select(User).where(User.company_id == company_id).order_by(User.name, User.id)).all()


def history(company_id: int, limit: int = 200) -> list[tuple[UserChange, str]]:
    """The company's changes to its users, newest first, each with the name of the user it was done to."""
    rows = db.session.execute(
        select(UserChange, User.name).join(User, User.id == UserChange.user_id)
        .where(UserChange.company_id == company_id).order_by(UserChange.created_at.desc(), UserChange.id.desc())
        .limit(limit)
    )
    return [(change, name) for change, name in rows]


def email_taken(address: str) -> bool:
    return db.session.scalar(select(User.id).where(func.lower(User.email) == address.strip().lower())) is not None


def _record(actor: User, user: User, action: UserAction, detail: str | None = None) -> None:
    db.session.add(UserChange(company_id=user.company_id, actor_id=actor.id, actor_name=actor.name, user_id=user.id,
                              action=action, detail=detail, created_at=utcnow()))


def _require_admin(actor: User, user: User | None = None) -> None:
    if not actor.is_admin or (user is not None and user.company_id != actor.company_id):
        raise PermissionError(actor.id)


def invite(actor: User, name: str, email: str, role: str) -> Invitation:
    """A new user of the actor's company, with no password, and the e-mail inviting them to choose one."""
    _require_admin(actor)
    if role not in ROLES:
        raise ValueError(role)
    if email_taken(email):
        raise EmailTaken(email)
    user = User(company_id=actor.company_id, email=email.strip(), name=name.strip(), role=role,
                locale=actor.locale or "sv", password_hash=None, invited_at=utcnow(), invited_by_id=actor.id)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the same address invited at the same moment elsewhere
        db.session.rollback()
        raise EmailTaken(email) from None
    _record(actor, user, UserAction.INVITED, role)
    return _send_invitation(actor, user)


def resend(actor: User, user: User) -> Invitation:
    """A new invitation e-mail with a new link; the older link stops working."""
    _require_admin(actor, user)
    if state_of(user) != UserState.INVITED:
        raise UserChanged(user.id)
    user.invited_at, user.invited_by_id = utcnow(), actor.id
    user.session_version = User.session_version + 1  # invited again: any session in their name ends
    _record(actor, user, UserAction.INVITATION_RESENT)
    return _send_invitation(actor, user)


def _send_invitation(actor: User, user: User) -> Invitation:
    token, digest = LINKS.make(user.id)
    user.invitation_hash = digest
    link = public_url("users.invitation", token=token)
    email = None
    if not outbox.disabled():
        company = db.session.get(Company, user.company_id)
        with force_locale(babel_locale(actor.locale)):
            subject = _("%(name)s invites you to %(company)s in Payroll", name=actor.name, company=company.name)
            body = "\n\n".join((
                _("Hello %(name)s,", name=user.name),
                _("%(inviter)s invites you to work with %(company)s's payroll in Payroll, as %(role)s.",
                  inviter=actor.name, company=company.name, role=role_in_sentence(user.role)),
                _("Choose your password here. The link works once, for %(num)d days:", num=VALID_FOR.days)
                + "\n" + link,
                _("Then log in at %(login)s with your e-mail address %(email)s.",
                  login=public_url("accounts.login"), email=user.email),
            )) + "\n"
        email = outbox.queue(MailKind.USER_INVITATION, user.email, subject, body, user_id=user.id,
                             company_id=user.company_id)
    db.session.commit()
    return Invitation(user, link, email)


def role_in_sentence(role: str) -> str:
    return _("administrator") if role == ADMIN else _("payroll administrator")


def _open(token: str) -> tuple[User, str]:
    user_id, expected = LINKS.open(token)
    user = db.session.get(User, user_id)
    if user is None or user.deactivated_at is not None or not matches(user.invitation_hash, expected):
        raise LinkError("used")
    return user, expected


def inviter_of(user: User) -> str:
    """The name of whoever invited the user (the company's, if they are gone)."""
    inviter = db.session.get(User, user.invited_by_id) if user.invited_by_id else None
    return inviter.name if inviter else db.session.get(Company, user.company_id).name


def open_invitation(token: str) -> User:
    """The invited user the link is for, if it can still be used; LinkError otherwise."""
    return _open(token)[0]


def accept(token: str, password: str) -> User:
    """Set the password and use the link up. Two tabs posting at once: the database lets one of them win."""
    user, digest = _open(token)
    now = utcnow()
    used = db.session.execute(
        update(User).where(User.id == user.id, User.invitation_hash == digest, User.deactivated_at.is_(None))
        .values(invitation_hash=None, password_hash=generate_password_hash(password), email_confirmed_at=now,
                session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not used:
        db.session.rollback()
        raise LinkError("used")
    _record(user, user, UserAction.JOINED)
    db.session.commit()
    db.session.refresh(user)
    return user


def _change(actor: User, user: User, expected, values: dict) -> None:
    """UPDATE the user if they still stand as `expected` and the company keeps an active admin afterwards."""
    db.session.execute(select(Company.id).where(Company.id == user.company_id).with_for_update())
    other = aliased(User)
    other_admins = (select(func.count()).select_from(other)
                    .where(other.company_id == user.company_id, other.id != user.id, other.role == ADMIN,
                           other.deactivated_at.is_(None), other.password_hash.is_not(None))
                    .scalar_subquery())
    loses_nothing = or_(User.role != ADMIN, User.deactivated_at.is_not(None), User.password_hash.is_(None))
    changes_admin = values.get("role", ADMIN) != ADMIN or "deactivated_at" in values
    keeps_an_admin = or_(loses_nothing, other_admins > 0) if changes_admin else True
    done = db.session.execute(
        update(User).where(User.id == user.id, *expected, keeps_an_admin).values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        db.session.rollback()
        db.session.refresh(user)
        if all(db.session.scalar(select(condition).where(User.id == user.id)) for condition in expected):
            raise LastAdmin(user.id)
        raise UserChanged(user.id)


def change_role(actor: User, user: User, role: str) -> bool:
    """Give the user another role; False if they have it already. LastAdmin if they are the last active admin."""
    _require_admin(actor, user)
    if role not in ROLES:
        raise ValueError(role)
    before = user.role
    if role == before:
        return False
    _change(actor, user, [User.role == before], {"role": role})
    _record(actor, user, UserAction.ROLE_CHANGED, f"{before} {role}")
    db.session.commit()
    db.session.refresh(user)
    return True


def deactivate(actor: User, user: User) -> bool:
    """The user can no longer sign in, and every session of theirs ends now (their session version counts up); an
    open invitation stops working. False if already deactivated; LastAdmin if they are the last active admin."""
    _require_admin(actor, user)
    if user.deactivated_at is not None:
        return False
    _change(actor, user, [User.deactivated_at.is_(None)],
            {"deactivated_at": utcnow(), "session_version": User.session_version + 1, "invitation_hash": None})
    _record(actor, user, UserAction.DEACTIVATED)
    db.session.commit()
    db.session.refresh(user)
    return True


def reactivate(actor: User, user: User) -> bool:
    """The user can sign in again with their password (one invited before needs a new invitation)."""
    _require_admin(actor, user)
    done = db.session.execute(
        update(User).where(User.id == user.id, User.deactivated_at.is_not(None)).values(deactivated_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        db.session.rollback()
        return False
    _record(actor, user, UserAction.REACTIVATED)
    db.session.commit()
    db.session.refresh(user)
    return True
