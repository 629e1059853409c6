"""Signed one-time links (an invitation to Min lön, a password reset), and every link an e-mail carries.

A link carries whose it is and a random nonce, signed and timestamped with itsdangerous (never a personnummer or an
e-mail address). The account keeps only the nonce's SHA-256: using the link clears it and a newer link replaces it,
so a link works once and an older one stops working either way. Links are built from PUBLIC_URL, never from the
Host a request came with (anyone can send any Host)."""
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner


class LinkError(Exception):
    """The link cannot be used; `reason` is expired, used (or replaced by a newer link) or invalid."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def clock() -> float:
    """Seconds since the epoch; tests move it to see a link expire."""
    return time.time()


class _Signer(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(clock())


def digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


@dataclass(frozen=True)
class OneTimeLinks:
    """Links of one purpose (`salt`) that expire after `valid_for`; `claim` names the id the link is for."""

    salt: str
    valid_for: timedelta
    claim: str

    def _serializer(self) -> URLSafeTimedSerializer:
        # Signed with the current key; links made before a rotation still open with a key in SECRET_KEY_FALLBACKS
        # (itsdangerous signs with the last key of the list and accepts any of them).
        keys = [*current_app.config.get("SECRET_KEY_FALLBACKS", []), current_app.secret_key]
        return URLSafeTimedSerializer(keys, salt=self.salt, signer=_Signer)

    def make(self, key: int) -> tuple[str, str]:
        """A new link's token for `key`, and the digest to store with the account."""
        nonce = secrets.token_urlsafe(32)
        return self._serializer().dumps({self.claim: key, "nonce": nonce}), digest(nonce)

    def open(self, token: str) -> tuple[int, str]:
        """The id the link is for and its nonce's digest (compare it with the stored one); LinkError if it is expired
        or was never ours."""
        try:
            claims = self._serializer().loads(token, max_age=int(self.valid_for.total_seconds()))
        except SignatureExpired:
            raise LinkError("expired") from None
        except BadSignature:
            raise LinkError("invalid") from None
        if not isinstance(claims, dict) or not isinstance(claims.get(self.claim), int) \
                or not isinstance(claims.get("nonce"), str):
            raise LinkError("invalid")
        return claims[self.claim], digest(claims["nonce"])


def matches(stored: str | None, expected: str) -> bool:
    return stored is not None and secrets.compare_digest(stored, expected)


def public_url(endpoint: str, **values) -> str:
    """The absolute URL of a page, on PUBLIC_URL: for e-mails, made in a request or in a worker alike."""
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
