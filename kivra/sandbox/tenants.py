"""Tenant management: create, list and read tenants; ask for access to a tenant another client owns."""
import time

from flask import Blueprint, jsonify, request, url_for

from kivra.sandbox.auth import authorize, state
from kivra.sandbox.errors import KivraApiError, error_response
from kivra.sandbox.payload import read_object
from kivra.sandbox.state import FOREIGN_CLIENT_ID, FOREIGN_CLIENT_NAME, AccessRequest, Tenant, object_key
from kivra.sandbox.validation import VAT_NUMBER

bp = Blueprint("tenants", __name__)



def _with_location(body, status: int, key: str, location: str):
    response = jsonify(body)
    response.status_code = status
    response.headers["kivra-objkey"] = key
    response.headers["location"] = location
    return response


def _tenant_answer(tenant: Tenant, status: int):
    location = url_for("tenants.get_tenant", tenant_key=tenant.key, _external=True)
    return _with_location(tenant.as_json(), status, tenant.key, location)


def _company_ids(body: dict) -> tuple[str, list[dict]]:
    name, companies = body.get("name"), body.get("company_id")
    if not isinstance(name, str) or not name.strip():
        raise KivraApiError(40001, "`name` is required")
    if not isinstance(companies, list) or not companies:
        raise KivraApiError(40001, "`company_id` must be a non-empty list of {name, orgnr}")
    cleaned = []
    for company in companies:
        if not isinstance(company, dict) or not all(isinstance(company.get(k), str) for k in ("name", "orgnr")):
            raise KivraApiError(40001, "Each `company_id` needs a `name` and an `orgnr`")
        if not VAT_NUMBER.match(company["orgnr"]):
            raise KivraApiError(40018, "`orgnr` must be a Swedish VAT number: SE, 10 digits, 01")
        cleaned.append({"name": company["name"], "orgnr": company["orgnr"]})
    return name, cleaned


def _conflict(tenants: list[Tenant]):
    """409 with Kivra's own wording, naming each tenant outside the client's scope."""
    named = ", ".join(
        f"{{Name: {t.name}, Tenant key: {t.key}, Organisation number: {', '.join(sorted(t.orgnrs()))}}}"
        for t in tenants
    )
    return error_response(40915, "One or more of the organisation numbers within the company_id's you provided, "
                                 f"already exist in existing tenants. Tenants outside your scope: {named}")


@bp.post("/v2/tenant")
def create_tenant():
    token = authorize("post", "kivra.v2.tenant")
    name, companies = _company_ids(read_object(state().config.max_request_bytes))
    sandbox = state()
    with sandbox.lock:
        sandbox.settle_access_requests()
        mine = sandbox.client_scopes.setdefault(token.client_id, set())
        existing = {t.key: t for c in companies if (t := sandbox.tenant_by_orgnr(c["orgnr"]))}
        foreign = [t for key, t in existing.items() if key not in mine]
        if foreign:
            return _conflict(foreign)
        if existing:
            return _tenant_answer(next(iter(existing.values())), 200)
        tenant = sandbox.add_tenant(name.strip(), companies, token.client_id)
    return _tenant_answer(tenant, 201)


@bp.get("/v2/tenant")
def list_tenants():
    token = authorize("get", "kivra.v2.tenant")
    orgnr = request.args.get("orgnr")
    sandbox = state()
    with sandbox.lock:
        sandbox.settle_access_requests()
        keys = sorted(sandbox.client_scopes.get(token.client_id, ()))
        found = [key for key in keys if orgnr is None or orgnr in sandbox.tenants[key].orgnrs()]
    return jsonify([{"key": key} for key in found])


@bp.get("/v2/tenant/<tenant_key>")
def get_tenant(tenant_key: str):
    authorize("get", "kivra.v2.tenant.{tenantKey}", tenant_key)
    with state().lock:
        return jsonify(state().tenants[tenant_key].as_json())


@bp.put("/v2/tenant/<tenant_key>/name")
def update_tenant_name(tenant_key: str):
    """Kivra's display name for the tenant; 200 with an empty body."""
    authorize("put", "kivra.v2.tenant.{tenantKey}.name", tenant_key)
    name = read_object(state().config.max_request_bytes).get("name")
    if not isinstance(name, str) or not name.strip():
        raise KivraApiError(40001, "`name` is required")
    with state().lock:
        state().tenants[tenant_key].name = name.strip()
    return "", 200


def _owner_name(owner: str) -> str:
    return FOREIGN_CLIENT_NAME if owner == FOREIGN_CLIENT_ID else state().config.client_name(owner)


def _access_request_json(access: AccessRequest) -> dict:
    tenant = state().tenants[access.tenant_key]
    return {
        "created_at": access.created_at,
        "created_by": access.client_id,
        "status": access.status,
        "client_id": access.client_id,
        "client_name": _owner_name(tenant.owner),  # Kivra: the client who created the requested tenant
        "tenant_name": tenant.name,
        "tenant_key": tenant.key,
    }


@bp.post("/v2/tenant/request_access")
def request_access():
    token = authorize("post", "kivra.v2.tenant.request_access")
    vat_number = read_object(state().config.max_request_bytes).get("vat_number")
    if not isinstance(vat_number, str) or not VAT_NUMBER.match(vat_number):
        raise KivraApiError(40001, "`vat_number` must be a Swedish VAT number: SE, 10 digits, 01")
    sandbox = state()
    with sandbox.lock:
        tenant = sandbox.tenant_by_orgnr(vat_number)
        if tenant is None:
            raise KivraApiError(40400, "No tenant has this VAT number")
        access = next((a for a in sandbox.access_requests.values()
                       if a.client_id == token.client_id and a.vat_number == vat_number), None)
        if access is None:
            outcome = sandbox.config.foreign_tenants.get(vat_number, (None, "accepted"))[1]
            already_mine = tenant.key in sandbox.client_scopes.get(token.client_id, ())
            delay = 0.0 if already_mine else sandbox.config.request_access_pending_seconds
            access = AccessRequest(object_key(), token.client_id, vat_number, tenant.key,
                                   "accepted" if already_mine else outcome, time.monotonic() + delay)
            sandbox.access_requests[access.key] = access
        sandbox.settle_access_requests()
        body = _access_request_json(access)
    location = url_for("tenants.get_access_request", request_key=access.key, _external=True)
    return _with_location(body, 201, access.key, location)


@bp.get("/v2/tenant/request_access/<request_key>")
def get_access_request(request_key: str):
    token = authorize("get", f"kivra.v2.tenant.request_access.{request_key}")
    sandbox = state()
    with sandbox.lock:
        sandbox.settle_access_requests()
        access = sandbox.access_requests.get(request_key)
        if access is None or access.client_id != token.client_id:
            raise KivraApiError(40400, "No access request with this key")
        response = jsonify(_access_request_json(access))
    response.headers["kivra-objkey"] = access.key
    return response
