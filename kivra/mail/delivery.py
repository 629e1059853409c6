"""Sending the outbox: each worker drains it every few seconds (MAIL_POLL_SECONDS).

A message is claimed like a dispatch row: one UPDATE marks it `sending` for this worker until a lease ends, renewed
just before the message is sent, so two workers never send the same row, and a worker killed mid-send leaves it to be
claimed again once the lease is over.
The server's answer decides the rest: taken → `sent`; a temporary failure → `queued` again after an exponential
backoff with jitter, until MAIL_MAX_ATTEMPTS; a permanent one (5xx) → `failed`, with the answer kept for the admin.

Between the server taking a message and the row saying `sent` there is a moment in which a killed worker means the
message goes twice (SMTP has no way to ask whether it got one); the Message-ID is the row's, the same both times."""
import logging
import random
import uuid
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import and_, or_, select, update

from kivra.clock import as_utc, now as utcnow
from kivra.extensions import db
from kivra.mail.models import MailState, OutboundEmail
from kivra.mail.relay import Relay, SendFailure, send

log = logging.getLogger(__name__)


def _due(now):
    return or_(and_(OutboundEmail.state == MailState.QUEUED, OutboundEmail.due_at <= now),
               and_(OutboundEmail.state == MailState.SENDING, OutboundEmail.claimed_until < now))


def claim(limit: int) -> tuple[str, list[OutboundEmail]]:
    """Up to `limit` due messages, now this worker's (a claim counts an attempt)."""
    config, now, token = current_app.config, utcnow(), uuid.uuid4().hex
    ids = db.session.scalars(
        select(OutboundEmail.id).where(_due(now)).order_by(OutboundEmail.due_at).limit(limit)
    ).all()
    if not ids:
        db.session.commit()
        return token, []
    # The condition again in the UPDATE: a row another worker claimed since the SELECT is not matched twice.
    db.session.execute(
        update(OutboundEmail).where(OutboundEmail.id.in_(ids), _due(now))
        .values(state=MailState.SENDING, claimed_by=token, attempts=OutboundEmail.attempts + 1,
                claimed_until=now + timedelta(seconds=config["MAIL_LEASE_SECONDS"]))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    claimed = db.session.scalars(select(OutboundEmail).where(OutboundEmail.claimed_by == token)
                                 .order_by(OutboundEmail.id)).all()
    return token, claimed


def message(email: OutboundEmail) -> EmailMessage:
    config = current_app.config
    domain = urlsplit(config["PUBLIC_URL"]).hostname or "localhost"
    built = EmailMessage()
    built["From"] = config["MAIL_FROM"]
    built["To"] = email.to_address
    built["Subject"] = email.subject
    built["Date"] = format_datetime(as_utc(email.created_at))
    # The row's own Message-ID: the same message sent again (see above) is recognisably the same.
    built["Message-ID"] = f"<outbox-{email.id}@{domain}>"
    built["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies stay away
    built.set_content(email.body)
    return built


def _finish(email: OutboundEmail, token: str, **values) -> None:
    db.session.execute(
        update(OutboundEmail).where(OutboundEmail.id == email.id, OutboundEmail.claimed_by == token)
        .values(claimed_by=None, claimed_until=None, **values).execution_options(synchronize_session=False)
    )
    db.session.commit()


_random = random.Random()


def backoff(attempts: int, rng: random.Random = _random) -> float:
    """Exponential backoff with full jitter, from MAIL_RETRY_SECONDS up to MAIL_RETRY_CAP_SECONDS."""
    config = current_app.config
    base, cap = config["MAIL_RETRY_SECONDS"], config["MAIL_RETRY_CAP_SECONDS"]
    return rng.uniform(base / 2, min(cap, base * 2 ** (attempts - 1)))


def _failed(email: OutboundEmail, token: str, failure: SendFailure) -> None:
    now = utcnow()
    if failure.permanent or email.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        log.warning("e-mail %d (%s) failed after %d attempts: %s", email.id, email.kind, email.attempts,
                    failure.answer)
        _finish(email, token, state=MailState.FAILED, failed_at=now, last_error=failure.answer[:1000])
    else:
        delay = backoff(email.attempts)
        log.info("e-mail %d (%s): %s; tried again in %.1f s", email.id, email.kind, failure.answer, delay)
        _finish(email, token, state=MailState.QUEUED, due_at=now + timedelta(seconds=delay),
                last_error=failure.answer[:1000])


def _still_ours(email: OutboundEmail, token: str) -> bool:
    """The message's claim renewed for a full lease, just before it is sent; False if another worker took it over (a
    batch on a slow server can outlast the lease of its last messages): then it is that worker's to send."""
    renewed = db.session.execute(
        update(OutboundEmail).where(OutboundEmail.id == email.id, OutboundEmail.claimed_by == token)
        .values(claimed_until=utcnow() + timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"]))
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(renewed)


def _hand_back(emails: list[OutboundEmail], token: str) -> None:
    """Claims not tried (the connection went first): queued again, due now, the attempt not counted."""
    for email in emails:
        _finish(email, token, state=MailState.QUEUED, attempts=email.attempts - 1)


def drain(limit: int | None = None) -> int:
    """Send what is due, a batch over one connection; the number of messages the server took."""
    config = current_app.config
    if config["MAIL_DISABLED"] or not config["SMTP_URL"]:
        return 0
    token, claimed = claim(limit or config["MAIL_BATCH"])
    if not claimed:
        return 0
    relay = Relay.from_url(config["SMTP_URL"])
    sent, connection, index = 0, None, 0
    try:
        for index, email in enumerate(claimed):
            if not _still_ours(email, token):
                continue
            try:
                if connection is None:
                    connection = relay.connect(config["MAIL_TIMEOUT_SECONDS"])
                send(connection, message(email))
            except SendFailure as failure:
                _failed(email, token, failure)
                if failure.connection_lost:  # the rest wait for the next round, on a new connection
                    _hand_back(claimed[index + 1:], token)
                    break
                continue
            _finish(email, token, state=MailState.SENT, sent_at=utcnow(), last_error=None)
            log.info("e-mail %d (%s) sent", email.id, email.kind)
            sent += 1
    except Exception:
        # Something not foreseen (a bug, the database gone): what was not yet tried waits for the next round rather
        # than for its lease; the one in hand keeps its claim, as it may have left.
        db.session.rollback()
        _hand_back(claimed[index + 1:], token)
        raise
    finally:
        if connection is not None:
            try:
                connection.quit()
            except Exception:  # noqa: BLE001 - the server went first; nothing is lost
                connection.close()
    return sent
