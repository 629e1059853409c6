"""Tenant management: create (201/200/409), list by orgnr, read, and request access to someone else's tenant."""
import re
import time

import pytest

from tests.sandbox.conftest import DEMO_VAT, PENDING_SECONDS, assert_kivra_error, authenticate, create_tenant

TENANT_KEY = re.compile(r"^\d{10}[0-9a-f]{32}$")
ACCEPTING_VAT, REJECTING_VAT = "SE556036079301", "SE556703748501"


def test_create_answers_201_with_the_key_in_headers_and_the_tenant_in_the_body(http, sandbox):
    response = create_tenant(http, authenticate(http))
    assert response.status_code == 201
    key = response.headers["kivra-objkey"]
    assert TENANT_KEY.match(key)
    assert response.headers["location"] == f"{sandbox.url}/v2/tenant/{key}"
    body = response.json()
    assert body["name"] == "Demo AB" and body["company_id"] == [{"name": "Demo AB", "orgnr": DEMO_VAT}]
    assert body["created_by"] == "sandbox-client" and body["created_at"].endswith("Z")


def test_creating_it_again_answers_200_with_the_same_tenant(http):
    headers = authenticate(http)
    first = create_tenant(http, headers)
    again = create_tenant(http, headers, name="Demo Aktiebolag")
    assert again.status_code == 200
    assert again.headers["kivra-objkey"] == first.headers["kivra-objkey"]
    assert again.json()["name"] == "Demo AB"


def test_an_orgnr_owned_by_another_client_is_409_with_a_string_code_naming_the_tenant(http):
    response = create_tenant(http, authenticate(http), vat=ACCEPTING_VAT, name="Annat AB")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "40915" and response.headers["x-error-code"] == "40915"
    assert "Annat AB" in body["long_message"] and ACCEPTING_VAT in body["long_message"]
    assert re.search(r"Tenant key: \d{10}[0-9a-f]{32}", body["long_message"])


@pytest.mark.parametrize("body, code", [
    ({"company_id": [{"name": "X", "orgnr": DEMO_VAT}]}, 40001),
    ({"name": "X"}, 40001),
    ({"name": "X", "company_id": [{"name": "X"}]}, 40001),
    ({"name": "X", "company_id": [{"name": "X", "orgnr": "5568402266"}]}, 40018),
])
def test_an_incomplete_tenant_is_refused(http, body, code):
    assert_kivra_error(http.post("/v2/tenant", json=body, headers=authenticate(http)), 400, code)


def test_malformed_json_is_40008(http):
    headers = {**authenticate(http), "content-type": "application/json"}
    response = http.post("/v2/tenant", content=b'{"name": ', headers=headers)
    assert_kivra_error(response, 400, 40008)


def test_list_by_orgnr_finds_only_tenants_in_the_clients_scope(http, demo_tenant):
    headers = demo_tenant.headers
    assert http.get("/v2/tenant", params={"orgnr": DEMO_VAT}, headers=headers).json() == [{"key": demo_tenant.key}]
    assert http.get("/v2/tenant", params={"orgnr": ACCEPTING_VAT}, headers=headers).json() == []
    assert http.get("/v2/tenant", headers=headers).json() == [{"key": demo_tenant.key}]


def test_get_returns_the_tenant(http, demo_tenant):
    body = http.get(f"/v2/tenant/{demo_tenant.key}", headers=demo_tenant.headers).json()
    assert body["company_id"][0]["orgnr"] == DEMO_VAT and body["visibility"] == "visible"


def _request_access(http, headers, vat):
    return http.post("/v2/tenant/request_access", json={"vat_number": vat}, headers=headers)


def test_access_request_is_pending_then_accepted_and_usable_after_reauthentication(http, sandbox):
    headers = authenticate(http)
    response = _request_access(http, headers, ACCEPTING_VAT)
    assert response.status_code == 201
    request_key = response.headers["kivra-objkey"]
    assert response.headers["location"] == f"{sandbox.url}/v2/tenant/request_access/{request_key}"
    body = response.json()
    assert body["status"] == "pending" and body["tenant_name"] == "Annat AB" and body["client_id"] == "sandbox-client"
    tenant_key = body["tenant_key"]
    assert _request_access(http, headers, ACCEPTING_VAT).headers["kivra-objkey"] == request_key

    time.sleep(PENDING_SECONDS + 0.05)
    polled = http.get(f"/v2/tenant/request_access/{request_key}", headers=headers)
    assert polled.status_code == 200 and polled.json()["status"] == "accepted"
    assert polled.headers["kivra-objkey"] == request_key
    assert _request_access(http, headers, ACCEPTING_VAT).json()["status"] == "accepted"
    assert_kivra_error(http.get(f"/v2/tenant/{tenant_key}", headers=headers), 403, 40300)
    assert http.get(f"/v2/tenant/{tenant_key}", headers=authenticate(http)).status_code == 200
    assert create_tenant(http, authenticate(http), vat=ACCEPTING_VAT, name="Annat AB").status_code == 200


def test_access_request_can_be_rejected(http):
    headers = authenticate(http)
    request_key = _request_access(http, headers, REJECTING_VAT).headers["kivra-objkey"]
    time.sleep(PENDING_SECONDS + 0.05)
    polled = http.get(f"/v2/tenant/request_access/{request_key}", headers=headers).json()
    assert polled["status"] == "rejected"
    assert_kivra_error(http.get(f"/v2/tenant/{polled['tenant_key']}", headers=authenticate(http)), 403, 40300)


def test_access_request_for_a_vat_number_without_tenant_is_40400(http):
    assert_kivra_error(_request_access(http, authenticate(http), "SE559408724801"), 404, 40400)
    assert_kivra_error(http.get("/v2/tenant/request_access/1234567890abcdef", headers=authenticate(http)), 404, 40400)
