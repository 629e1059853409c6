"""`/_sandbox`: the ledger tests read, and switches for faults, recipients and duplicate control. No auth, no faults."""
from collections import Counter
from dataclasses import asdict

from flask import Blueprint, jsonify, request

from kivra.sandbox.auth import state
from kivra.sandbox.config import RECIPIENT_STATUSES, FaultConfig
from kivra.sandbox.errors import KivraApiError

bp = Blueprint("admin", __name__, url_prefix="/_sandbox")


def _json_body():
    body = request.get_json(silent=True)
    if body is None:
        raise KivraApiError(40008)
    return body


@bp.get("/ledger")
def ledger():
    sandbox = state()
    with sandbox.lock:
        contents = [stored.as_ledger_entry() for stored in sandbox.contents.values()]
    deliveries = Counter()
    for entry in contents:
        deliveries[entry["recipient"]] += entry["delivered_count"]
    return jsonify(contents=contents, deliveries_per_recipient=dict(deliveries))


@bp.post("/reset")
def reset():
    state().reset()
    return jsonify(reset=True)


@bp.get("/faults")
def current_faults():
    return jsonify(asdict(state().faults))


@bp.post("/faults")
def replace_faults():
    try:
        faults = FaultConfig.from_dict(_json_body())
    except ValueError as error:
        raise KivraApiError(40001, str(error)) from None
    sandbox = state()
    with sandbox.lock:
        sandbox.faults = faults
        sandbox.content_requests = 0  # a new burst pattern counts from the next content request
    return jsonify(asdict(faults))


@bp.post("/recipients")
def update_recipients():
    changes = _json_body()
    if not isinstance(changes, dict) or any(status not in RECIPIENT_STATUSES for status in changes.values()):
        raise KivraApiError(40001, f"Send {{personnummer: status}} with a status among {', '.join(RECIPIENT_STATUSES)}")
    sandbox = state()
    with sandbox.lock:
        sandbox.recipients.update(changes)
        # Kivra: retained content is delivered once the recipient registers (or takes the sender back).
        released = [stored for stored in sandbox.contents.values()
                    if stored.retained and stored.recipient_type == "ssn" and changes.get(stored.recipient) == "user"]
        for stored in released:
            stored.release()
    return jsonify(updated=len(changes), released=len(released))


@bp.post("/duplicate-control")
def duplicate_control():
    body = _json_body()
    enabled = body.get("enabled") if isinstance(body, dict) else None
    if not isinstance(enabled, bool):
        raise KivraApiError(40001, 'Send {"enabled": true} or {"enabled": false}')
    sandbox = state()
    with sandbox.lock:
        sandbox.duplicate_control = enabled
    return jsonify(enabled=enabled)
