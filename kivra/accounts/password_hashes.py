"""Checking a password against a stored hash in the same time whether or not there is one. Signing in with an
unknown address, or as someone deactivated or not yet with a password, checks a stand-in hash instead, so the answer
takes as long as a wrong password and does not tell which addresses have an account (issue 17, item 5).

The stand-in is made once per process, when first needed, with werkzeug's default method and parameters: the ones
`set_password` uses in production (scrypt). Tests store cheaper hashes (tests/conftest.py, PASSWORD_HASH), so there a
stand-in check is slower than a real one; what is tested is that each sign-in does exactly one check."""
import secrets
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash


@cache
def stand_in() -> str:
    """A hash of a random password no one knows, made as real passwords are hashed."""
    return generate_password_hash(secrets.token_urlsafe(32))


def check(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches `password_hash`; with no hash, False after checking the stand-in all the same."""
    if password_hash is None:
        check_password_hash(stand_in(), password)
        return False
    return check_password_hash(password_hash, password)


def refuse(password: str) -> None:
    """Spend one check on the stand-in: for a sign-in that fails before any password is compared."""
    check(None, password)
