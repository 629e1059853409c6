"""Kivra's error answers, `{code, short_message, long_message}`, as typed exceptions chosen by code."""
import httpx


class KivraError(Exception):
    """An error answer from Kivra, or no usable answer at all."""

    retryable = False

    def __init__(self, status: int, code: int, short_message: str, long_message: str, correlation_id: str | None):
        super().__init__(f"{code} {short_message}")
        self.status = status
        self.code = code
        self.short_message = short_message
        self.long_message = long_message
        self.correlation_id = correlation_id

    def __str__(self) -> str:  # never includes the request: it may carry a personnummer
        return f"Kivra {self.status}/{self.code}: {self.short_message} (correlation id {self.correlation_id})"


class TransportError(KivraError):
    """No answer: a timeout or a broken connection. The request may or may not have been carried out."""

    retryable = True

    def __init__(self, message: str):
        super().__init__(0, 0, message, message, None)


class InvalidRequest(KivraError):
    """4xx validation errors: resending the same request cannot succeed."""


class InvalidSSN(InvalidRequest):
    """40009: not a personnummer Kivra accepts (a samordningsnummer, a bad check digit)."""


class SchemaViolation(InvalidRequest):
    """40059: the salaryslip object does not follow Kivra's schema."""


class InvalidClient(KivraError):
    """40104: the client id or secret is wrong."""


class TokenRejected(KivraError):
    """40100/40015: the access token is missing, expired or revoked; authenticate again."""


class RecipientNotEligible(KivraError):
    """40105: the person cannot receive from this sender (not a Kivra user, opted out) and nothing was retained."""


class Forbidden(KivraError):
    """40300: the tenant is outside this token's scope."""


class NotFound(KivraError):
    """40400."""


class TenantConflict(KivraError):
    """40915: the org.nr belongs to a tenant outside our scope; request access."""


class TooLarge(KivraError):
    """41300: over 1 MB per content or 10 MB per request."""


class RetainNotAllowed(KivraError):
    """42221: retain is only for payslips, credit notices and signed letters."""


class RateLimited(KivraError):
    """42900: too many contents to one recipient within a minute."""

    retryable = True


class ServerError(KivraError):
    """5xx: safe to retry."""

    retryable = True


BY_CODE = {
    40009: InvalidSSN, 40059: SchemaViolation, 40104: InvalidClient, 40100: TokenRejected, 40015: TokenRejected,
    40105: RecipientNotEligible, 40300: Forbidden, 40400: NotFound, 40915: TenantConflict, 41300: TooLarge,
    42221: RetainNotAllowed, 42900: RateLimited,
}


def error_from(response: httpx.Response) -> KivraError:
    """The typed error for a non-2xx answer. Kivra sends `code` as a number, and as a string in some schemas."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    try:
        code = int(body.get("code") or response.headers.get("x-error-code") or response.status_code * 100)
    except (TypeError, ValueError):
        code = response.status_code * 100
    if response.status_code >= 500:  # whatever the code says, Kivra documents 5xx as safe to retry
        kind = ServerError
    elif response.status_code == 429:
        kind = RateLimited
    else:
        kind = BY_CODE.get(code, InvalidRequest)
    return kind(
        response.status_code,
        code,
        str(body.get("short_message") or response.reason_phrase),
        str(body.get("long_message") or ""),
        response.headers.get("x-correlation-id"),
    )
