"""Companies and the people who sign in for them."""
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, UniqueConstraint, false, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import generate_password_hash

from kivra.accounts import password_hashes
from kivra.clock import now as utcnow  # one clock (kivra/clock.py); the models' defaults read it
from kivra.extensions import db, one_of

ROLES = ("admin", "payroll")


class UserAction(StrEnum):
    SIGNED_UP = "signed_up"
    INVITED = "invited"
    INVITATION_RESENT = "invitation_resent"
    JOINED = "joined"  # chose a password from the invitation
    ROLE_CHANGED = "role_changed"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"


class Company(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    orgnr: Mapped[str] = mapped_column(String(10), unique=True)  # 10 digits, no hyphen
    employer_contribution_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))  # per cent
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The employer's contact details; Kivra's salaryslip object requires them.
    street_address: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))
    # Set when the company's Kivra agreement was imported from the web payroll (VLA).
    moved_from_vla_at: Mapped[datetime | None]
    # Let Kivra hold payslips for employees who are not Kivra users yet (retain, 390 days) instead of Min lön.
    kivra_retain: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Set when the first admin of a company that signed up confirmed their e-mail address: no payslip goes before.
    # Companies made otherwise (`flask demo`, provisioning, and every company before sign-up existed) are confirmed:
    # as they are made, by default (sign-up clears it: kivra/accounts/signup.py).
    confirmed_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    # Where the salaries are paid from (Företagsinställningar): a bankgiro number, or a clearing and account number.
    bankgiro: Mapped[str | None] = mapped_column(String(8))  # 7 or 8 digits, no hyphen
    clearing_number: Mapped[str | None] = mapped_column(String(5))
    account_number: Mapped[str | None] = mapped_column(String(15))
    # The day of the month salaries are paid, proposed for each new payroll run.
    payout_day: Mapped[int] = mapped_column(default=25, server_default="25")

    users: Mapped[list["User"]] = relationship(back_populates="company")

    @property
    def vat_number(self) -> str:
        """Swedish VAT number as Kivra expects it: SE + org.nr + 01."""
        return f"SE{self.orgnr}01"

    @property
    def orgnr_formatted(self) -> str:
        return f"{self.orgnr[:6]}-{self.orgnr[6:]}"


class DismissedNotice(db.Model):
    """A one-time message a user has closed, e.g. "the Kivra status page has moved here"."""

    __table_args__ = (UniqueConstraint("user_id", "notice"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    notice: Mapped[str] = mapped_column(String(40))
    dismissed_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(256))  # None: invited, no password chosen yet
    locale: Mapped[str] = mapped_column(String(5), default="sv")
    # Sign-up: the address is confirmed by a one-time link (its nonce's SHA-256 is kept until used).
    email_confirmed_at: Mapped[datetime | None]
    # An invitation by a colleague (Användare): the open link's nonce's SHA-256, when and by whom.
    invitation_hash: Mapped[str | None] = mapped_column(String(64))
    invited_at: Mapped[datetime | None]
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Deactivated by an admin: cannot sign in, and every session ended (session_version counted up with it).
    deactivated_at: Mapped[datetime | None]
    # The open password reset: the SHA-256 of its link's nonce (kivra/mail/links.py), and when it was asked for.
    reset_hash: Mapped[str | None] = mapped_column(String(64))
    reset_requested_at: Mapped[datetime | None]
    # Counted up by a password reset: every session signed in before it ends (see get_id and load_user).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    company: Mapped[Company] = relationship(back_populates="users", foreign_keys=[company_id])

    principal = "user"  # not an employee signed in to Min lön (kivra.employees.portal_account.PortalAccount)

    def get_id(self) -> str:
        return f"user:{self.id}:{self.session_version}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    @property
    def is_active(self) -> bool:
        """Flask-Login's: a deactivated user, or one invited who has not chosen a password, cannot be signed in."""
        return self.deactivated_at is None and self.password_hash is not None

    def check_password(self, password: str) -> bool:
        return password_hashes.check(self.password_hash, password)


def authenticate(email: str, password: str) -> User | None:
    """The company user with this e-mail address (any case) and password, unless deactivated. Exactly one password
    check either way, so the time taken does not tell whether the address has an account (password_hashes)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or not user.is_active:
        password_hashes.refuse(password)
        return None
    return user if user.check_password(password) else None


class UserChange(db.Model):
    """What an admin did to a company's users (Användare): who, when, to whom, what. Listed on the users page; never
    rewritten."""

    __table_args__ = (CheckConstraint(one_of("action", tuple(UserAction)), name="action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: the user themself (sign-up)
    actor_name: Mapped[str] = mapped_column(String(200))  # as it was: a name changed later does not rewrite history
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(String(200))  # e.g. the roles before and after: "payroll admin"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
