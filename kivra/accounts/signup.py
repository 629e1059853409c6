"""A company that signs up by itself (/registrera): the company, its first admin and the record of it in one
transaction, with an e-mail whose one-time link confirms the admin's address. Until it is confirmed the company can
do everything but send payslips (kivra.dispatch.service.require_confirmed).

The link names the user and carries a signed nonce that expires (kivra/mail/links.py); it works while the address is
unconfirmed, so confirming uses it up. No organisation number goes into the e-mail: a sole trader's is a personnummer.
"""
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from flask_babel import force_locale, gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from kivra.accounts.models import Company, User, UserAction, UserChange
from kivra.clock import as_utc, now as utcnow
from kivra.extensions import db
from kivra.locales import babel_locale
from kivra.mail import outbox
from kivra.mail.links import LinkError, OneTimeLinks, public_url
from kivra.mail.models import MailKind, OutboundEmail

VALID_FOR = timedelta(days=3)
SENT_AGAIN_AFTER = timedelta(minutes=1)  # "send the e-mail again" sends at most one a minute
LINKS = OneTimeLinks("signup-confirmation", VALID_FOR, claim="user")


class OrgnrTaken(ValueError):
    """A company with this organisation number already has an account."""


class EmailTaken(ValueError):
    """A user with this e-mail address already exists."""


@dataclass(frozen=True)
class Confirmation:
    """A confirmation e-mail written: to whom, and its link (for an installation with e-mail turned off)."""

    to_address: str
    link: str
    queued: bool


def _orgnr_taken(orgnr: str) -> bool:
    return db.session.scalar(select(Company.id).where(Company.orgnr == orgnr)) is not None


def _email_taken(email: str) -> bool:
    return db.session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None


def sign_up(company_name: str, orgnr: str, admin_name: str, email: str, password: str, locale: str,
            contribution_rate: Decimal) -> tuple[User, Confirmation]:
    """Create the company (unconfirmed) and its first admin, record it and write the confirmation e-mail, in one
    transaction. `orgnr` is ten digits (kivra.identity.parse_orgnr). OrgnrTaken or EmailTaken if either exists."""
    email = email.strip().lower()
    if _orgnr_taken(orgnr):
        raise OrgnrTaken(orgnr)
    if _email_taken(email):
        raise EmailTaken(email)
    company = Company(name=company_name.strip(), orgnr=orgnr, employer_contribution_rate=contribution_rate,
                      created_at=utcnow())
    user = User(company=company, email=email, name=admin_name.strip(), role="admin", locale=locale,
                email_confirmed_at=None)
    user.set_password(password)
    db.session.add_all([company, user])
    try:
        db.session.flush()
    except IntegrityError:  # the same org.nr or address signed up a moment ago, in another request
        db.session.rollback()
        if _orgnr_taken(orgnr):
            raise OrgnrTaken(orgnr) from None
        raise EmailTaken(email) from None
    company.confirmed_at = None  # the model's default confirms every company made otherwise; this one waits
    db.session.add(UserChange(company_id=company.id, actor_id=None, actor_name=user.name, user_id=user.id,
                              action=UserAction.SIGNED_UP))
    confirmation = _write_confirmation(user, company)
    db.session.commit()
    return user, confirmation


def _write_confirmation(user: User, company: Company) -> Confirmation:
    token, _digest = LINKS.make(user.id)  # the link is used up by confirming: no digest to keep
    link = public_url("signup.confirm", token=token)
    if outbox.disabled():
        return Confirmation(user.email, link, queued=False)
    with force_locale(babel_locale(user.locale)):
        subject = _("Confirm your e-mail address")
        body = "\n\n".join((
            _("Hello %(name)s,", name=user.name),
            _("You signed up %(company)s for Payroll with this e-mail address, %(email)s.", company=company.name,
              email=user.email),
            _("Confirm the address here. The link works once, for %(days)d days:", days=VALID_FOR.days) + "\n" + link,
            _("Until the address is confirmed you can add employees and calculate payroll runs, but not send "
              "payslips."),
            _("If you did not sign up, ignore this e-mail."),
        )) + "\n"
    outbox.queue(MailKind.SIGNUP_CONFIRMATION, user.email, subject, body, user_id=user.id, company_id=company.id)
    return Confirmation(user.email, link, queued=True)


def awaiting_confirmation(company: Company) -> User | None:
    """The admin who signed the company up, while the company is unconfirmed; None once it is (or if it never
    signed up)."""
    if company.confirmed_at is not None:
        return None
    return db.session.scalar(
        select(User).join(UserChange, UserChange.user_id == User.id)
        .where(UserChange.company_id == company.id, UserChange.action == UserAction.SIGNED_UP)
        .order_by(UserChange.id)
    )


class SentMomentsAgo(Exception):
    """A confirmation e-mail went less than a minute ago: no second one yet."""


def send_again(company: Company) -> Confirmation | None:
    """A new confirmation e-mail to the admin who signed up; None if the company is confirmed already.
    SentMomentsAgo within a minute of the last one."""
    user = awaiting_confirmation(company)
    if user is None:
        return None
    last = db.session.scalar(select(func.max(OutboundEmail.created_at)).where(
        OutboundEmail.user_id == user.id, OutboundEmail.kind == MailKind.SIGNUP_CONFIRMATION))
    if last is not None and utcnow() - as_utc(last) < SENT_AGAIN_AFTER:
        raise SentMomentsAgo(company.id)
    confirmation = _write_confirmation(user, company)
    db.session.commit()
    return confirmation


def open_link(token: str) -> User:
    """Whose confirmation link it is, while it can be used; LinkError (expired, invalid, used) otherwise."""
    user_id, _digest = LINKS.open(token)
    user = db.session.get(User, user_id)
    if user is None:
        raise LinkError("invalid")
    if user.email_confirmed_at is not None:
        raise LinkError("used")
    return user


def confirm(token: str) -> User:
    """Confirm the address, and the company with it (if it was unconfirmed). Once: a second use, or two tabs at
    once, find it used."""
    user = open_link(token)
    now = utcnow()
    done = db.session.execute(
        update(User).where(User.id == user.id, User.email_confirmed_at.is_(None)).values(email_confirmed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        db.session.rollback()
        raise LinkError("used")
    db.session.execute(
        update(Company).where(Company.id == user.company_id, Company.confirmed_at.is_(None)).values(confirmed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(user)
    return user
