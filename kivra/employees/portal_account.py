"""An employee's sign-in to Min lön (the pages are kivra/portal and kivra/web/portal)."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import generate_password_hash

from kivra.accounts import password_hashes
from kivra.accounts.models import Company, utcnow
from kivra.employees.models import Employee
from kivra.extensions import db


class PortalAccount(UserMixin, db.Model):
    """An employee's sign-in to Min lön: made by the first invitation, usable once a password is chosen.

    A principal of its own, never a company user: its session id is "employee:<employee id>" (see load_user)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    locale: Mapped[str] = mapped_column(String(5), default="sv")
    # The open invitation: the SHA-256 of the nonce its link carries. Cleared when used, replaced by a new invitation.
    invitation_hash: Mapped[str | None] = mapped_column(String(64))
    invited_at: Mapped[datetime | None]
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    password_set_at: Mapped[datetime | None]
    # The open password reset, like the invitation: the SHA-256 of its link's nonce, and when it was asked for.
    reset_hash: Mapped[str | None] = mapped_column(String(64))
    reset_requested_at: Mapped[datetime | None]
    # Counted up by a password reset: every session signed in before it ends (see get_id and load_user).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # "Du har ett nytt lönebesked" by e-mail when a payslip is published here; the employee can turn it off.
    notify_new_payslips: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    employee: Mapped[Employee] = relationship()

    principal = "employee"

    def get_id(self) -> str:
        return f"employee:{self.employee_id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.password_hash is not None

    @property
    def name(self) -> str:
        return self.employee.name

    @property
    def company(self) -> Company:
        return db.session.get(Company, self.employee.company_id)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return password_hashes.check(self.password_hash, password)
