"""Writing e-mail: a message joins the caller's transaction, so it exists if, and only if, what it tells was
committed; a worker sends it (kivra/mail/delivery.py)."""
import logging

from flask import current_app
from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from kivra.clock import now as utcnow
from kivra.extensions import db
from kivra.mail.models import MailKind, MailState, OutboundEmail

log = logging.getLogger(__name__)


def disabled() -> bool:
    """MAIL_DISABLED: this installation sends no e-mail, and its pages say so instead of promising one."""
    return bool(current_app.config["MAIL_DISABLED"])


def queue(kind: MailKind, to_address: str, subject: str, body: str, **whom) -> OutboundEmail:
    """Add the message to the caller's transaction. `whom`: company_id, employee_id or user_id, for the lists."""
    email = OutboundEmail(kind=kind, to_address=to_address, subject=subject, body=body, state=MailState.QUEUED,
                          due_at=utcnow(), attempts=0, **whom)
    db.session.add(email)
    log.info("e-mail %s queued", kind, extra={"employee_id": whom.get("employee_id"), "user_id": whom.get("user_id")})
    return email


def queue_once(once_key: str, kind: MailKind, to_address: str, subject: str, body: str, **whom) -> bool:
    """Like `queue`, unless a message with this key was ever written: then nothing (and False). Two workers recording
    the same event at once write one row between them, neither transaction failing."""
    values = dict(once_key=once_key, kind=kind, to_address=to_address, subject=subject, body=body,
                  state=MailState.QUEUED, due_at=utcnow(), attempts=0, created_at=utcnow(), **whom)
    dialect = db.session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert_of = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert_of(OutboundEmail).values(**values).on_conflict_do_nothing(index_elements=["once_key"])
        # The id of the row written, if one was (the rowcount said 1 on PostgreSQL when the conflict wrote nothing).
        return db.session.scalar(statement.returning(OutboundEmail.id)) is not None
    else:  # pragma: no cover - the two databases the app runs on are above
        if db.session.scalar(select(OutboundEmail.id).where(OutboundEmail.once_key == once_key)):
            return False
        statement = insert(OutboundEmail).values(**values)
    return bool(db.session.execute(statement).rowcount)


def of_employees(employee_ids: list[int], per_employee: int = 3) -> dict[int, list[OutboundEmail]]:
    """The newest few e-mails to each of these employees, newest first: what their row in the register lists."""
    if not employee_ids:
        return {}
    ranked = (
        select(OutboundEmail.id, func.row_number().over(
            partition_by=OutboundEmail.employee_id, order_by=OutboundEmail.id.desc()).label("n"))
        .where(OutboundEmail.employee_id.in_(employee_ids))
        .subquery()
    )
    emails = db.session.scalars(
        select(OutboundEmail).join(ranked, ranked.c.id == OutboundEmail.id).where(ranked.c.n <= per_employee)
        .order_by(OutboundEmail.id.desc())
    )
    found: dict[int, list[OutboundEmail]] = {}
    for email in emails:
        found.setdefault(email.employee_id, []).append(email)
    return found


def send_again(email: OutboundEmail) -> bool:
    """A failed message queued again, due now with its attempts counted afresh; False if it has not failed."""
    if email.state != MailState.FAILED:
        return False
    email.state, email.due_at, email.attempts = MailState.QUEUED, utcnow(), 0
    email.failed_at = email.claimed_by = email.claimed_until = None
    return True
