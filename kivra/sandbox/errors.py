"""Kivra's error answers: `{code, short_message, long_message}`, the code again in `x-error-code`."""
import logging
import traceback

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from kivra.contract import error_catalogue

log = logging.getLogger(__name__)

# Kivra's schema Error40915 declares `code` a string, unlike every other error.
STRING_CODES = frozenset({40915})


class KivraApiError(Exception):
    """Answer the request with this Kivra error code; HTTP status is the code's first three digits."""

    def __init__(self, code: int, long_message: str | None = None):
        super().__init__(code)
        if code not in error_catalogue():
            raise ValueError(f"{code} is not in Kivra's error catalogue")
        self.code = code
        self.long_message = long_message

    @property
    def status(self) -> int:
        return self.code // 100


def error_response(code: int, long_message: str | None = None):
    entry = error_catalogue()[code]
    body = {
        "code": str(code) if code in STRING_CODES else code,
        "short_message": entry["short_message"],
        "long_message": long_message or entry["long_message"],
    }
    response = jsonify(body)
    response.status_code = code // 100
    response.headers["x-error-code"] = str(code)
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(KivraApiError)
    def kivra_error(error: KivraApiError):
        return error_response(error.code, error.long_message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = (error.code or 500) * 100
        response = error_response(code if code in error_catalogue() else 50000)
        if getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        # The message could quote a personnummer or a token, so only the kind of failure and where it happened.
        frame = traceback.extract_tb(error.__traceback__)[-1]
        log.error("sandbox failed: %s at %s:%s", type(error).__name__, frame.filename, frame.lineno)
        return error_response(50000)
