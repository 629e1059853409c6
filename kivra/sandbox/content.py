"""`POST /v2/tenant/{tenantKey}/content`: rate limit, duplicate control, then deliver, retain or refuse."""
import hashlib
import json
import logging
import time
from collections import deque
from dataclasses import dataclass

from flask import Blueprint, jsonify, request

from kivra.sandbox import faults
from kivra.sandbox.auth import authorize, state
from kivra.sandbox.errors import KivraApiError
from kivra.sandbox.matching import receives_content
from kivra.sandbox.payload import read_object
from kivra.sandbox.state import SandboxState, StoredContent, mask, object_key
from kivra.sandbox.validation import Content, validate_content

bp = Blueprint("content", __name__)
log = logging.getLogger(__name__)

RATE_WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Receipt:
    key: str
    retained: bool


def fingerprint(body: dict) -> str:
    """Kivra's duplicate control compares the whole payload except `generated_at`."""
    rest = {name: value for name, value in body.items() if name != "generated_at"}
    canonical = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _count_against_rate_limit(sandbox: SandboxState, recipient: str) -> None:
    now = time.monotonic()
    recent = sandbox.recent_sends.setdefault(recipient, deque())
    while recent and now - recent[0] >= RATE_WINDOW_SECONDS:
        recent.popleft()
    limit = sandbox.config.rate_limit_per_recipient_per_minute
    if len(recent) >= limit:
        raise KivraApiError(42900, f"At most {limit} contents to the same recipient per minute")
    recent.append(now)


def _deliverable(sandbox: SandboxState, content: Content) -> bool:
    if content.recipient_type == "ssn":
        return receives_content(sandbox.recipients.get(content.recipient))
    if content.recipient_type == "vat_number":
        return content.recipient in sandbox.config.company_recipients
    return True  # email: the sandbox treats every address as a verified Kivra user's


def _opted_out(sandbox: SandboxState, content: Content) -> bool:
    return content.recipient_type == "ssn" and sandbox.recipients.get(content.recipient) == "opted_out"


def accept(sandbox: SandboxState, tenant_key: str, content: Content, body: dict) -> Receipt:
    """Store and deliver (or retain) a valid content once; a repeat of the same payload is only counted."""
    with sandbox.lock:
        _count_against_rate_limit(sandbox, content.recipient)
        seen = (tenant_key, fingerprint(body))
        if sandbox.duplicate_control and seen in sandbox.fingerprints:
            stored = sandbox.contents[sandbox.fingerprints[seen]]
            stored.received_count += 1
            return Receipt(stored.key, stored.retained)
        deliver = _deliverable(sandbox, content)
        if not deliver and not content.retain:
            raise KivraApiError(40105, "The recipient cannot receive content from this tenant and `retain` is not set")
        if not deliver and _opted_out(sandbox, content):
            # Retain is for people who are not Kivra users yet; someone who declined this sender is a user.
            raise KivraApiError(40105, "The recipient has opted out of content from this tenant")
        stored = StoredContent(
            key=object_key(), tenant_key=tenant_key, recipient_type=content.recipient_type,
            recipient=content.recipient, subject=content.subject, type=content.type, retained=not deliver,
            retention_days=None if deliver else content.retention_days, pdf=content.pdf, html=content.html,
        )
        sandbox.contents[stored.key] = stored
        sandbox.fingerprints[seen] = stored.key
    outcome = "retained" if stored.retained else "delivered"
    log.info("content %s for %s: %s", stored.key, mask(content.recipient), outcome)
    return Receipt(stored.key, stored.retained)


@bp.post("/v2/tenant/<tenant_key>/content")
def send_content(tenant_key: str):
    authorize("post", "kivra.v2.tenant.{tenantKey}.content", tenant_key)
    hang_after = faults.before_content()
    sandbox = state()
    body = read_object(sandbox.config.max_content_bytes)
    content = validate_content(body, sandbox.config.max_subject_length)
    receipt = accept(sandbox, tenant_key, content, body)
    answer = {"subject": body["subject"], "type": body["type"]}
    if body.get("generated_at") is not None:
        answer["generated_at"] = body["generated_at"]
    response = jsonify(answer)
    response.status_code = 201
    response.headers["kivra-objkey"] = receipt.key
    # Kivra has no endpoint to read sent content back, so this URL answers 404 like any other unknown path.
    response.headers["location"] = f"{request.host_url}v2/tenant/{tenant_key}/content/{receipt.key}"
    if receipt.retained:
        response.headers["kivra-retained"] = "true"
    if hang_after:
        time.sleep(hang_after)  # stored and delivered already: the client will only see a timeout
    return response
