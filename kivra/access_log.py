"""Access logs without secrets: an invitation (Min lön's, a colleague's), a password reset and a sign-up confirmation
carry their token in the path, and a `…token=` query parameter is a token too; all are replaced by `[redacted]` in
every part of the line (request line, path, query, referer). gunicorn: `--logger-class
kivra.access_log.RedactingLogger`; `flask serve` (werkzeug's request log): `RedactingFilter` on the werkzeug logger;
nginx: the `map`s in deploy/nginx-payroll.conf do the same."""
import logging
import re

try:
    from gunicorn.glogging import Logger
except ImportError:  # gunicorn comes with the production extra; `flask serve` needs only the filter below
    Logger = object

REDACTED = "[redacted]"
# A path segment after /invitation/, /reset-password/ or /bekrafta/ (the token routes: kivra/web/users, portal,
# accounts, signup), up to ?, /, #, a space or a quote.
_IN_PATH = re.compile(
    r"(/(?:invitation|invite|reset|password-reset|reset-password|bekrafta|confirm)/)[^/?#\s\"]+", re.IGNORECASE)
# A query parameter whose name contains "token" (token, reset_token, invitation_token…).
_IN_QUERY = re.compile(r"((?:^|[?&])[^=&?#\s\"]*token[^=&?#\s\"]*=)[^&#\s\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    return _IN_QUERY.sub(r"\1" + REDACTED, _IN_PATH.sub(r"\1" + REDACTED, text))


class RedactingLogger(Logger):
    """gunicorn's own logger, with the access log's atoms (the parts of `access_log_format`) redacted."""

    def atoms(self, resp, req, environ, request_time):  # only ever called by gunicorn
        return {key: redact(value) if isinstance(value, str) else value
                for key, value in super().atoms(resp, req, environ, request_time).items()}


class RedactingFilter(logging.Filter):
    """werkzeug's request lines (`"GET /min-lon/invitation/… HTTP/1.1" 200 -`) with their tokens redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        shown = redact(message)
        if shown != message:
            record.msg, record.args = shown, ()
        return True


def redact_werkzeug_log() -> None:
    """Once per process: the development server's request log (`flask serve`, `flask run`) without tokens."""
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactingFilter) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactingFilter())
