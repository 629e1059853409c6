"""`POST /v1/auth` (OAuth2 client credentials) and the bearer-token checks every other endpoint makes."""
import base64
import binascii
import hmac
import math
import re
import secrets
import time

from flask import Blueprint, current_app, jsonify, request

from kivra.sandbox import faults
from kivra.sandbox.errors import KivraApiError
from kivra.sandbox.state import SandboxState, Token

bp = Blueprint("auth", __name__)

METHODS = frozenset({"get", "post", "put", "patch", "delete"})
_SCOPE = re.compile(r"^(?:(?P<methods>[a-z]+(?:,[a-z]+)*):)?kivra\.v\d+\.(?P<path>[A-Za-z0-9_*.{}-]+)$")
_TENANT_KEY = re.compile(r"^[0-9]{10}[0-9a-f]{32}$")


def state() -> SandboxState:
    return current_app.extensions["kivra_sandbox"]


def client_scope_strings(tenant_keys) -> str:
    """What a full token may do: manage tenants, and everything below each tenant in scope at issue time."""
    general = ["post:kivra.v2.tenant", "get:kivra.v2.tenant", "post:kivra.v2.tenant.request_access",
               "get:kivra.v2.tenant.request_access.*"]
    return " ".join(general + [f"kivra.v1.tenant.{key}.*" for key in sorted(tenant_keys)])


def _client_from_basic_auth() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    try:
        client_id, _, secret = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise KivraApiError(40104) from None
    expected = state().config.clients.get(client_id)
    if scheme.lower() != "basic" or expected is None or not hmac.compare_digest(expected, secret):
        raise KivraApiError(40104)
    return client_id


def _parse_scopes(requested: str, client_tenants: set[str]) -> tuple:
    """The scopes asked for at /v1/auth, each `[methods:]kivra.vN.path`; refused (40003) if beyond the client."""
    grants = []
    for item in requested.split():
        match = _SCOPE.match(item)
        methods = frozenset(match["methods"].split(",")) if match and match["methods"] else None
        if not match or (methods and not methods <= METHODS):
            raise KivraApiError(40003, f"Malformed scope: {item}")
        segments = tuple(match["path"].split("."))
        if len(segments) > 1 and segments[0] == "tenant" and _TENANT_KEY.match(segments[1]):
            if segments[1] not in client_tenants:
                raise KivraApiError(40003, "The scope names a tenant outside this client's scope")
        grants.append((methods, segments))
    if not grants:
        raise KivraApiError(40003)
    return tuple(grants)


def _matches(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    """`*` stands for one level, `**` for this level and everything below it (Kivra's wildcards)."""
    if not pattern:
        return not path
    if pattern[0] == "**":
        return bool(path)
    return bool(path) and pattern[0] in ("*", path[0]) and _matches(pattern[1:], path[1:])


def _grants(grant: tuple, method: str, path: tuple[str, ...]) -> bool:
    methods, pattern = grant
    return (methods is None or method in methods) and _matches(pattern, path)


@bp.post("/v1/auth")
def authenticate():
    client_id = _client_from_basic_auth()
    grant_type = request.form.get("grant_type")
    if not grant_type:
        raise KivraApiError(40001, "grant_type is required")
    if grant_type != "client_credentials":
        raise KivraApiError(40102, "Only the client_credentials grant type is supported")
    sandbox = state()
    with sandbox.lock:
        sandbox.settle_access_requests()
        tenant_keys = frozenset(sandbox.client_scopes.get(client_id, ()))
        requested = request.form.get("scope", "").strip()
        grants = _parse_scopes(requested, tenant_keys) if requested else None
        scope = " ".join(requested.split()) if requested else client_scope_strings(tenant_keys)
        ttl = sandbox.config.token_ttl
        token = Token(secrets.token_urlsafe(24), client_id, time.monotonic() + ttl, tenant_keys, grants, scope)
        sandbox.tokens[token.value] = token
    return jsonify(state="", access_token=token.value, expires_in=math.ceil(ttl), scope=scope, token_type="bearer")


def require_token() -> Token:
    """The live token in `Authorization: Bearer …`, else 401/40100."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    sandbox = state()
    with sandbox.lock:
        token = sandbox.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise KivraApiError(40100, "The access token is missing, unknown or revoked")
        if time.monotonic() >= token.expires_at:
            del sandbox.tokens[token.value]
            raise KivraApiError(40100, "The access token has expired; authenticate again")
        if faults.token_expires_early():
            del sandbox.tokens[token.value]
            raise KivraApiError(40100, "The access token has expired; authenticate again")
    return token


def authorize(method: str, scope_path: str, tenant_key: str | None = None) -> Token:
    """Check token, tenant (404 unknown, 403 outside the token) and scope (as in swagger: `kivra.v2.tenant.…`)."""
    token = require_token()
    if tenant_key is not None:
        with state().lock:
            known = tenant_key in state().tenants
        if not known:
            raise KivraApiError(40400, "No tenant with this key")
        if tenant_key not in token.tenant_keys:
            raise KivraApiError(40300, "The tenant is not in this access token's scope; a tenant created or "
                                       "granted after the token was issued needs a new token")
        scope_path = scope_path.replace("{tenantKey}", tenant_key)
    if token.grants is not None:
        path = tuple(scope_path.split(".")[2:])  # scopes hold for every API version: drop `kivra.vN`
        if not any(_grants(grant, method, path) for grant in token.grants):
            raise KivraApiError(40300, "The access token's scope does not allow this operation")
    return token
