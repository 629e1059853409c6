"""Kivra call metrics of this process (a `flask worker` serves them on its own port): latency per endpoint and
Kivra's error codes. Labels are templates and codes only: no tenant key, no personnummer."""
import re

from prometheus_client import Counter, Histogram

from kivra.sender_api.errors import KivraError

LATENCY = Histogram(
    "kivra_request_duration_seconds", "Time of one HTTP attempt to Kivra's sender API, by endpoint.",
    ["method", "endpoint"], buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30),
)
ERRORS = Counter(
    "kivra_errors", "Kivra's error answers by code (transport: no answer, a timeout or a broken connection).",
    ["code"],
)
_KEYS = (
    (re.compile(r"^/v2/tenant/request_access/[^/]+"), "/v2/tenant/request_access/{request}"),
    (re.compile(r"^/v2/tenant/(?!request_access(?:/|$))[^/]+"), "/v2/tenant/{tenant}"),
)


def endpoint(path: str) -> str:
    """The path with its keys replaced by placeholders: a handful of label values, whatever the tenants."""
    for pattern, template in _KEYS:
        path = pattern.sub(template, path, count=1)
    return path


def observe(what: str, seconds: float, error: KivraError | None) -> None:
    """One attempt (`what`: "METHOD /path"), answered in `seconds`, successfully or with `error`."""
    method, _, path = what.partition(" ")
    LATENCY.labels(method, endpoint(path)).observe(seconds)
    if error is not None:
        ERRORS.labels(str(error.code) if error.code else "transport").inc()
