"""The sandbox's memory: tenants, tokens, access requests, received contents and the recipient registry."""
import hashlib
import hmac
import random
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone

from kivra.sandbox.config import FaultConfig, SandboxConfig

FOREIGN_CLIENT_ID = "client_foreign_integrator"
FOREIGN_CLIENT_NAME = "Annan integratör AB"


def object_key() -> str:
    """A Kivra-style key: 10 digits and 32 lowercase hex, like `1424780396902ee9278b16417f8e3252c3ced28c38`."""
    return f"{int(time.time()):010d}{uuid.uuid4().hex}"


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def mask(identifier: str) -> str:
    """What a log line or a list may show of a recipient: never a whole personnummer."""
    if identifier.isdigit() and len(identifier) == 12:
        return identifier[:8] + "****"
    return identifier


@dataclass
class Tenant:
    key: str
    name: str
    company_id: list[dict]
    owner: str  # the client that created it
    created_at: str = field(default_factory=utc_now)

    def orgnrs(self) -> set[str]:
        return {company["orgnr"] for company in self.company_id}

    def as_json(self) -> dict:
        """Tenant_v2 with its read-only fields."""
        return {
            "name": self.name,
            "company_id": self.company_id,
            "edit_security_level": 50,
            "groups": [],
            "visibility": "visible",
            "created_at": self.created_at,
            "created_by": self.owner,
            "status": "optional",
            "class": "opt_out",
        }


@dataclass
class Token:
    value: str
    client_id: str
    expires_at: float  # time.monotonic()
    tenant_keys: frozenset[str]  # the client's scope when the token was issued: later grants need a new token
    grants: tuple | None  # None: everything the client may do; else the scopes asked for (see auth.py)
    scope: str


@dataclass
class AccessRequest:
    key: str
    client_id: str
    vat_number: str
    tenant_key: str
    outcome: str
    decided_at: float  # time.monotonic() when the outcome applies
    created_at: str = field(default_factory=utc_now)
    status: str = "pending"


@dataclass
class StoredContent:
    key: str
    tenant_key: str
    recipient_type: str
    recipient: str
    subject: str
    type: str
    retained: bool
    retention_days: int | None
    pdf: bytes | None
    html: bytes | None
    received_at: str = field(default_factory=utc_now)
    received_count: int = 1  # every arrival of this payload, duplicates included
    delivered_count: int = 0  # deliveries into a mailbox: 1 once delivered, 0 while Kivra holds it

    def __post_init__(self):
        if not self.retained:
            self.delivered_count = 1

    def release(self) -> None:
        """The person became a Kivra user: the held content is delivered now."""
        if self.retained:
            self.retained = False
            self.delivered_count += 1

    def as_ledger_entry(self) -> dict:
        return {
            "key": self.key,
            "tenant_key": self.tenant_key,
            "recipient_type": self.recipient_type,
            "recipient": self.recipient,
            "subject": self.subject,
            "type": self.type,
            "retained": self.retained,
            "retention_days": self.retention_days,
            "received_count": self.received_count,
            "delivered_count": self.delivered_count,
            "received_at": self.received_at,
        }


class SandboxState:
    """Everything the sandbox remembers. Hold `lock` while reading or changing any of it."""

    def __init__(self, config: SandboxConfig):
        self.config = config
        self.lock = threading.RLock()
        self._recipient_id_key = secrets.token_bytes(32)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.random = random.Random(self.config.seed)
            self.faults = FaultConfig(**vars(self.config.faults))
            self.duplicate_control = self.config.duplicate_control
            self.recipients = dict(self.config.recipients)
            self.tenants: dict[str, Tenant] = {}
            self.client_scopes: dict[str, set[str]] = {client: set() for client in self.config.clients}
            self.tokens: dict[str, Token] = {}
            self.access_requests: dict[str, AccessRequest] = {}
            self.contents: dict[str, StoredContent] = {}
            self.fingerprints: dict[tuple[str, str], str] = {}
            self.recent_sends: dict[str, deque[float]] = {}
            self.content_requests = 0
            for vat_number, (name, _) in self.config.foreign_tenants.items():
                self.add_tenant(name, [{"name": name, "orgnr": vat_number}], FOREIGN_CLIENT_ID)

    def add_tenant(self, name: str, company_id: list[dict], owner: str) -> Tenant:
        with self.lock:
            tenant = Tenant(object_key(), name, company_id, owner)
            self.tenants[tenant.key] = tenant
            self.client_scopes.setdefault(owner, set()).add(tenant.key)
            return tenant

    def tenant_by_orgnr(self, orgnr: str) -> Tenant | None:
        with self.lock:
            return next((t for t in self.tenants.values() if orgnr in t.orgnrs()), None)

    def settle_access_requests(self) -> None:
        """Apply the outcome of every request whose pending time is over; accepted ones widen the client's scope."""
        now = time.monotonic()
        with self.lock:
            for request in self.access_requests.values():
                if request.status == "pending" and now >= request.decided_at:
                    request.status = request.outcome
                    if request.outcome == "accepted":
                        self.client_scopes.setdefault(request.client_id, set()).add(request.tenant_key)

    def recipient_id(self, identifier: str) -> str:
        """An opaque, stable id for URLs: a keyed hash, so a personnummer cannot be guessed back from it."""
        return hmac.new(self._recipient_id_key, identifier.encode(), hashlib.sha256).hexdigest()[:16]

    def tenant_name(self, key: str) -> str:
        with self.lock:
            tenant = self.tenants.get(key)
            return tenant.name if tenant else key
