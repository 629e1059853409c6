"""One-time messages a user can close."""
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from kivra.accounts.models import Company, DismissedNotice, User
from kivra.extensions import db

VLA_MOVED = "vla_moved"


def dismissed(user: User, notice: str) -> bool:
    return bool(db.session.scalar(select(exists().where(DismissedNotice.user_id == user.id, DismissedNotice.notice == notice))))


def show_vla_moved(user: User) -> bool:
    """"The Kivra status page has moved to Payroll", for companies that sent from the web payroll, once per user."""
    company = db.session.get(Company, user.company_id)
    return company.moved_from_vla_at is not None and not dismissed(user, VLA_MOVED)


def dismiss(user: User, notice: str) -> None:
    db.session.add(DismissedNotice(user_id=user.id, notice=notice))
    try:
        db.session.commit()
    except IntegrityError:  # closed in another tab already
        db.session.rollback()
