"""The Kivra client: one pooled httpx connection, a shared token, retries that resend the very same bytes."""
import json
import logging
import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

import httpx

from kivra.sender_api.errors import Forbidden, KivraError, TokenRejected, TransportError, error_from

log = logging.getLogger(__name__)

USERMATCH_LIMIT_BYTES = 9_500_000  # Kivra refuses over 10 MB; stay clear of it
SCOPE_RENEWAL_SECONDS = 60.0  # a tenant still missing from a token renewed for it is asked about again after this


@dataclass(frozen=True)
class Tenant:
    key: str
    created: bool  # False: it already existed and is now in our scope


@dataclass(frozen=True)
class AccessRequest:
    key: str
    status: str  # pending | accepted | rejected
    tenant_key: str | None


@dataclass(frozen=True)
class SentContent:
    key: str
    retained: bool  # Kivra holds it until the person becomes a Kivra user
    correlation_id: str | None


@dataclass(frozen=True)
class _Token:
    value: str
    refresh_at: float
    tenants: frozenset[str] | None  # the tenants its scope named when issued; None: the scope does not say

    def reaches(self, tenant_key: str) -> bool:
        return self.tenants is None or tenant_key in self.tenants


def tenants_in_scope(scope) -> frozenset[str] | None:
    """The tenant keys a token's `scope` names (`[methods:]kivra.vN.tenant.<key>...`, separated by commas or
    spaces); None when the scope cannot say tenant by tenant: missing, a wildcard over tenants, or unknown items."""
    if not isinstance(scope, str) or not scope.strip():
        return None
    tenants: set[str] = set()
    for item in filter(None, re.split(r"[\s,]+", scope)):
        path = item.rpartition(":")[2]
        if ":" not in item and re.fullmatch(r"[a-z]+", item):
            continue  # a method of `get,put:path`, cut off by the comma
        segments = path.split(".")
        if segments[0] != "kivra" or len(segments) < 2 or any(s in ("*", "**") for s in segments[:4]):
            return None
        if len(segments) > 3 and segments[2] == "tenant" and segments[3] != "request_access":
            tenants.add(segments[3])
    return frozenset(tenants)


def vat_number(orgnr: str) -> str:
    """Kivra names companies by Swedish VAT number: SE + the 10-digit org.nr + 01."""
    digits = orgnr.replace("-", "")
    return digits if digits.startswith("SE") else f"SE{digits}01"


class KivraClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: httpx.Timeout | None = None,
        max_attempts: int = 5,
        backoff: float = 0.5,
        backoff_cap: float = 8.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        scope_renewal_seconds: float = SCOPE_RENEWAL_SECONDS,
        observe: Callable[[str, float, KivraError | None], None] | None = None,
    ):
        self._http = httpx.Client(
            base_url=base_url,
            timeout=timeout or httpx.Timeout(20.0, connect=5.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            transport=transport,
        )
        self._credentials = (client_id, client_secret)
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        self._clock = clock
        self._scope_renewal_seconds = scope_renewal_seconds
        self._observe = observe  # told of every attempt: what, how long, which error (metrics)
        self._random = random.Random()
        self._token: _Token | None = None
        self._token_lock = threading.Lock()
        self._renewed_for: dict[str, float] = {}  # tenant key -> when a token was last renewed because it lacked it

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "KivraClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- auth -----------------------------------------------------------------------------------------------

    def _access_token(self, tenant_key: str | None = None) -> _Token:
        """The cached token; one thread authenticates while the others wait for its result. For a call on a tenant
        the token's scope lacks (a tenant created or granted after it was issued, maybe by another process), the
        token is renewed first."""
        with self._token_lock:
            if self._token is None or self._clock() >= self._token.refresh_at:
                self._token = self._authenticate()
            if tenant_key is not None and not self._token.reaches(tenant_key):
                return self._renew_for(tenant_key, self._token)
            return self._token

    def _renewed_token(self, tenant_key: str, refused: _Token) -> _Token:
        """After Kivra refused `refused` for this tenant (40300): a newer token, or `refused` if there is none."""
        with self._token_lock:
            return self._renew_for(tenant_key, refused)

    def _renew_for(self, tenant_key: str, seen: _Token) -> _Token:
        """A token for a tenant `seen` does not reach; hold the lock. No authentication storm: a token another
        thread got since `seen` is used as it is, and a tenant a renewal did not bring into scope (it truly is
        outside it) is asked about again only after SCOPE_RENEWAL_SECONDS."""
        if self._token is not None and self._token is not seen:
            return self._token
        now = self._clock()
        last = self._renewed_for.get(tenant_key)
        if self._token is not None and last is not None and now - last < self._scope_renewal_seconds:
            return self._token
        log.info("kivra: renewing the access token for a tenant outside its scope")
        self._token = self._authenticate()
        self._renewed_for = {key: at for key, at in self._renewed_for.items()
                             if now - at < self._scope_renewal_seconds}
        self._renewed_for[tenant_key] = now
        return self._token

    def forget_token(self, token: str | None = None) -> None:
        """Drop the cached token (all of it, or only if it is still `token`): the next call authenticates."""
        with self._token_lock:
            if token is None or (self._token and self._token.value == token):
                self._token = None

    def _authenticate(self) -> _Token:
        response = self._with_retries(
            lambda: self._http.post(
                "/v1/auth", data={"grant_type": "client_credentials"}, auth=httpx.BasicAuth(*self._credentials)
            ),
            "POST /v1/auth",
        )
        body = response.json()
        lifetime = float(body["expires_in"])
        margin = min(300.0, lifetime * 0.1)  # renew a little before Kivra would refuse it
        return _Token(body["access_token"], self._clock() + lifetime - margin, tenants_in_scope(body.get("scope")))

    # --- the request loop -----------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: bytes | None = None, params: dict | None = None,
              tenant_key: str | None = None) -> httpx.Response:
        """One API call (on `tenant_key`'s path, if given). `body` is sent as these exact bytes on every attempt."""
        reauthenticated = rescoped = False
        token = self._access_token(tenant_key)
        while True:
            headers = {"authorization": f"Bearer {token.value}", "accept": "application/json"}
            if body is not None:
                headers["content-type"] = "application/json"
            try:
                return self._with_retries(
                    lambda: self._http.request(method, path, content=body, params=params, headers=headers),
                    f"{method} {path}",
                )
            except TokenRejected:
                if reauthenticated:
                    raise
                reauthenticated = True
                self.forget_token(token.value)
                token = self._access_token(tenant_key)
            except Forbidden:
                # The token may predate the tenant even though its scope seemed to reach it: renew once, retry once.
                if tenant_key is None or rescoped:
                    raise
                rescoped = True
                renewed = self._renewed_token(tenant_key, token)
                if renewed is token:
                    raise
                token = renewed

    def _with_retries(self, send: Callable[[], httpx.Response], what: str) -> httpx.Response:
        """Retry 5xx, 429, timeouts and broken connections with exponential backoff and full jitter."""
        for attempt in range(1, self._max_attempts + 1):
            started = time.perf_counter()
            try:
                response = send()
            except httpx.TimeoutException as exc:
                error: KivraError = TransportError(f"timeout ({type(exc).__name__})")
            except httpx.TransportError as exc:
                error = TransportError(f"connection failed ({type(exc).__name__})")
            else:
                error = None if response.is_success else error_from(response)
            self._observed(what, time.perf_counter() - started, error)
            if error is None:
                return response
            log.warning("kivra %s attempt %d: %s", what, attempt, error)
            if not error.retryable or attempt == self._max_attempts:
                raise error
            self._sleep(self._random.uniform(0, min(self._backoff_cap, self._backoff * 2 ** (attempt - 1))))
        raise AssertionError("unreachable")

    def _observed(self, what: str, seconds: float, error: KivraError | None) -> None:
        if self._observe is not None:
            try:
                self._observe(what, seconds, error)
            except Exception:  # noqa: BLE001 - metrics never stop a payslip
                log.exception("kivra: recording the call's metrics failed")

    @staticmethod
    def _json(payload) -> bytes:
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    # --- tenants --------------------------------------------------------------------------------------------

    def create_tenant(self, name: str, orgnr: str) -> Tenant:
        """Register the company as a sender. Raises TenantConflict (40915) when another client owns the org.nr."""
        body = self._json({"name": name, "company_id": [{"name": name, "orgnr": vat_number(orgnr)}]})
        response = self._call("POST", "/v2/tenant", body)
        self.forget_token()  # the new tenant is in our scope only with a new token
        return Tenant(key=response.headers["kivra-objkey"], created=response.status_code == 201)

    def find_tenants(self, orgnr: str) -> list[str]:
        response = self._call("GET", "/v2/tenant", params={"orgnr": vat_number(orgnr)})
        return [item["key"] for item in response.json()]

    def get_tenant(self, tenant_key: str) -> dict:
        return self._call("GET", f"/v2/tenant/{tenant_key}", tenant_key=tenant_key).json()

    def update_tenant_name(self, tenant_key: str, name: str) -> None:
        """The tenant's display name, which employees see on what they receive next (`PUT /v2/tenant/{key}/name`)."""
        self._call("PUT", f"/v2/tenant/{tenant_key}/name", self._json({"name": name}), tenant_key=tenant_key)

    def request_access(self, orgnr: str) -> AccessRequest:
        response = self._call("POST", "/v2/tenant/request_access", self._json({"vat_number": vat_number(orgnr)}))
        return self._access_request(response)

    def access_request(self, request_key: str) -> AccessRequest:
        request = self._access_request(self._call("GET", f"/v2/tenant/request_access/{request_key}"))
        if request.status == "accepted":
            self.forget_token()  # the granted tenant needs a token with the new scope
        return request

    def wait_for_access(self, request_key: str, interval: float = 60.0, timeout: float = 3600.0) -> AccessRequest:
        """Poll until Kivra accepts or rejects the request (in real life it can take days: keep `timeout` short)."""
        deadline = self._clock() + timeout
        while True:
            request = self.access_request(request_key)
            if request.status != "pending" or self._clock() >= deadline:
                return request
            self._sleep(interval)

    @staticmethod
    def _access_request(response: httpx.Response) -> AccessRequest:
        body = response.json()
        return AccessRequest(
            key=response.headers.get("kivra-objkey") or body.get("key", ""),
            status=body.get("status", "pending"),
            tenant_key=body.get("tenant_key"),
        )

    # --- matching and content -------------------------------------------------------------------------------

    def usermatch(self, tenant_key: str, ssns: Iterable[str]) -> set[str]:
        """The personnummer that can receive content from this tenant, asked in batches under 10 MB."""
        return self._match(tenant_key, "usermatch/ssn", ssns)

    def companymatch(self, tenant_key: str, vat_numbers: Iterable[str]) -> set[str]:
        return self._match(tenant_key, "companymatch/vatnr", vat_numbers)

    def _match(self, tenant_key: str, what: str, items: Iterable[str]) -> set[str]:
        eligible: set[str] = set()
        path = f"/v2/tenant/{tenant_key}/{what}"
        for batch in _batches(list(items), USERMATCH_LIMIT_BYTES):
            eligible.update(self._call("POST", path, self._json({"list": batch}), tenant_key=tenant_key).json()["list"])
        return eligible

    def send_content(self, tenant_key: str, payload: bytes) -> SentContent:
        """Send a content made once (see `content.py`). Retries send the identical bytes, so Kivra's duplicate
        control turns a retry after a lost answer into a no-op instead of a second payslip."""
        response = self._call("POST", f"/v2/tenant/{tenant_key}/content", payload, tenant_key=tenant_key)
        return SentContent(
            key=response.headers["kivra-objkey"],
            retained=response.headers.get("kivra-retained", "").lower() == "true",
            correlation_id=response.headers.get("x-correlation-id"),
        )


def _batches(items: list[str], limit_bytes: int) -> Iterable[list[str]]:
    """Split so each `{"list":[...]}` body stays under `limit_bytes`."""
    batch: list[str] = []
    size = len('{"list":[]}')
    for item in items:
        cost = len(item) + 3  # quotes and a comma; personnummer and VAT numbers need no escaping
        if batch and size + cost > limit_bytes:
            yield batch
            batch, size = [], len('{"list":[]}')
        batch.append(item)
        size += cost
    if batch:
        yield batch
