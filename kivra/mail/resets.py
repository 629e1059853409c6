"""Password resets, for company users and for employees in Min lön alike: a one-time link that expires after an hour
(the invitation's pattern, kivra/mail/links.py). Using it sets the password, uses the link up and counts the person's
session version up, which ends every session signed in before it (see load_user in kivra/web/accounts/routes.py).

Who asks is never told whether the address has an account: the pages answer the same either way."""
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import update
from werkzeug.security import generate_password_hash

from kivra.clock import as_utc, now as utcnow
from kivra.extensions import db
from kivra.mail.links import LinkError, OneTimeLinks, matches

VALID_FOR = timedelta(hours=1)
ASKED_AGAIN_AFTER = timedelta(minutes=1)  # a second request within it sends nothing more: no mail bombs


@dataclass(frozen=True)
class PasswordResets:
    """Resets of one kind of principal: `model` has reset_hash, reset_requested_at, session_version and
    password_hash columns; the link names the principal by the column `key`; `on_reset` are further values set."""

    links: OneTimeLinks
    model: type
    key: str
    on_reset: dict = field(default_factory=dict)

    def start(self, principal) -> str | None:
        """A new link's token for `principal` (any older one stops working); None if one was made a moment ago."""
        now = utcnow()
        asked = principal.reset_requested_at
        if asked is not None and now - as_utc(asked) < ASKED_AGAIN_AFTER:  # the database gives it back without a zone
            return None
        token, digest = self.links.make(getattr(principal, self.key))
        principal.reset_hash, principal.reset_requested_at = digest, now
        return token

    def _open(self, token: str):
        key, digest = self.links.open(token)
        principal = db.session.scalar(db.select(self.model).where(getattr(self.model, self.key) == key))
        if principal is None or not matches(principal.reset_hash, digest):
            raise LinkError("used")
        return principal, digest

    def open(self, token: str):
        """Whose link it is, if it can still be used; LinkError otherwise."""
        return self._open(token)[0]

    def finish(self, token: str, password: str):
        """Set the password, use the link up and end every other session. Two tabs posting at once: one wins."""
        principal, digest = self._open(token)
        done = db.session.execute(
            update(self.model).where(self.model.id == principal.id, self.model.reset_hash == digest)
            .values(reset_hash=None, password_hash=generate_password_hash(password),
                    session_version=self.model.session_version + 1,
                    **{name: value() if callable(value) else value for name, value in self.on_reset.items()})
            .execution_options(synchronize_session=False)
        ).rowcount
        if not done:
            db.session.rollback()
            raise LinkError("used")
        db.session.commit()
        db.session.refresh(principal)
        return principal
