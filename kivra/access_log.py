"""gunicorn's access log without secrets: Min lön's invitation links (and any reset link) carry their token in the
path, and a `…token=` query parameter is a token too; both are replaced by `[redacted]` in every part of the line
(request line, path, query, referer). Used as `gunicorn --logger-class kivra.access_log.RedactingLogger`."""
import re

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
# A path segment after /invitation/ or /reset/ (Min lön's invitation, a password reset), up to ?, /, space or quote.
_IN_PATH = re.compile(r"(/(?:invitation|invite|reset|password-reset|reset-password)/)[^/?#\s\"]+", re.IGNORECASE)
# A query parameter whose name contains "token" (token, reset_token, invitation_token…).
_IN_QUERY = re.compile(r"((?:^|[?&])[^=&?#\s\"]*token[^=&?#\s\"]*=)[^&#\s\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    return _IN_QUERY.sub(r"\1" + REDACTED, _IN_PATH.sub(r"\1" + REDACTED, text))


class RedactingLogger(Logger):
    """gunicorn's own logger, with the access log's atoms (the parts of `access_log_format`) redacted."""

    def atoms(self, resp, req, environ, request_time):
        return {key: redact(value) if isinstance(value, str) else value
                for key, value in super().atoms(resp, req, environ, request_time).items()}
