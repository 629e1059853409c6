"""User and company matching: which of these recipients may this tenant send to right now."""
from flask import Blueprint, jsonify

from kivra.sandbox.auth import authorize, state
from kivra.sandbox.payload import read_list_request
from kivra.sandbox.validation import ssn_problem

bp = Blueprint("matching", __name__)


def matchable(status: str | None) -> bool:
    """Only active users show up in matching; opted-out, dormant and inactive users are left out (Kivra's rules)."""
    return status == "user"


def receives_content(status: str | None) -> bool:
    """Kivra: a dormant recipient is hidden from matching "but the Tenant can still send Content which the Recipient
    will receive". Opted-out recipients and non-users do not receive."""
    return status in ("user", "dormant")


@bp.post("/v2/tenant/<tenant_key>/usermatch/ssn")
def usermatch_ssn(tenant_key: str):
    # Kivra's swagger names this operation's scope with `get:` although the method is POST.
    authorize("get", "kivra.v2.tenant.{tenantKey}.usermatch.ssn", tenant_key)
    sandbox = state()
    ssns = read_list_request(sandbox.config.max_request_bytes)
    with sandbox.lock:
        # The registry first: most numbers asked about are not in it, and the format check costs more.
        eligible = [ssn for ssn in ssns if matchable(sandbox.recipients.get(ssn)) and ssn_problem(ssn) is None]
    return jsonify({"list": eligible})


@bp.post("/v2/tenant/<tenant_key>/companymatch/vatnr")
def companymatch_vatnr(tenant_key: str):
    authorize("post", "kivra.v2.tenant.{tenantKey}.companymatch.vatnr", tenant_key)
    sandbox = state()
    vat_numbers = read_list_request(sandbox.config.max_request_bytes)
    return jsonify({"list": [vat for vat in vat_numbers if vat in sandbox.config.company_recipients]})
