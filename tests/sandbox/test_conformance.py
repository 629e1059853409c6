"""The sandbox's real requests and answers, checked against Kivra's own swagger.yml with openapi-core.

Each endpoint the sandbox implements is exercised over HTTP; request and response are validated against the
operation Kivra documents (see openapi_contract.py for the few spots where the spec had to be bundled or mended).
Errors Kivra documents per operation (409 on tenant create, 413 on companymatch) are validated as responses of
that operation; every other error is checked against Kivra's `BasicErrorResponse` schema, which is how Kivra's
introduction describes all errors.
"""
import base64
import copy
import time

import httpx
import pytest
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.exceptions import InvalidRequestBody
from openapi_schema_validator import OAS31Validator

from kivra.sandbox import SandboxConfig
from kivra.sandbox.server import start_in_thread
from tests.sandbox.conftest import DEMO_VAT, PENDING_SECONDS, DemoTenant, authenticate, create_tenant
from tests.sandbox.openapi_contract import HttpxOpenAPIRequest, HttpxOpenAPIResponse, bundled_spec, kivra_openapi
from tests.sandbox.payloads import PDF, USER, b64, salaryslip_content

ACCEPTING_VAT = "SE556036079301"


@pytest.fixture(scope="module")
def openapi():
    return kivra_openapi()


@pytest.fixture(scope="module")
def basic_error_schema():
    return bundled_spec()["components"]["schemas"]["BasicErrorResponse"]


def conforms(openapi, response: httpx.Response) -> httpx.Response:
    """The request and the answer both follow the operation in Kivra's spec."""
    request = HttpxOpenAPIRequest(response.request)
    openapi.validate_request(request)
    openapi.validate_response(request, HttpxOpenAPIResponse(response))
    return response


def error_conforms(openapi, schema: dict, response: httpx.Response, code: int) -> None:
    """An error the operation does not list: Kivra's BasicErrorResponse, the code in `x-error-code` too."""
    with pytest.raises(ResponseNotFound):
        openapi.validate_response(HttpxOpenAPIRequest(response.request), HttpxOpenAPIResponse(response))
    OAS31Validator(schema).validate(response.json())
    assert response.status_code == code // 100 and response.json()["code"] == code
    assert response.headers["x-error-code"] == str(code) and response.headers["x-correlation-id"]


def test_tenant_create_201_200_and_409(openapi, http):
    headers = authenticate(http)
    assert conforms(openapi, create_tenant(http, headers)).status_code == 201
    assert conforms(openapi, create_tenant(http, headers)).status_code == 200
    conflict = conforms(openapi, create_tenant(http, headers, vat=ACCEPTING_VAT, name="Annat AB"))
    assert conflict.status_code == 409 and conflict.json()["code"] == "40915"


def test_tenant_list_and_get(openapi, http, demo_tenant):
    headers = demo_tenant.headers
    assert conforms(openapi, http.get("/v2/tenant", headers=headers)).json() == [{"key": demo_tenant.key}]
    assert conforms(openapi, http.get("/v2/tenant", params={"orgnr": DEMO_VAT}, headers=headers)).status_code == 200
    assert conforms(openapi, http.get(f"/v2/tenant/{demo_tenant.key}", headers=headers)).status_code == 200


def test_request_access_create_and_poll(openapi, http):
    headers = authenticate(http)
    created = conforms(openapi, http.post("/v2/tenant/request_access", json={"vat_number": ACCEPTING_VAT},
                                          headers=headers))
    assert created.status_code == 201 and created.json()["status"] == "pending"
    time.sleep(PENDING_SECONDS + 0.05)
    request_key = created.headers["kivra-objkey"]
    polled = conforms(openapi, http.get(f"/v2/tenant/request_access/{request_key}", headers=headers))
    assert polled.json()["status"] == "accepted"


def test_usermatch_and_companymatch(openapi, http, demo_tenant):
    path = f"/v2/tenant/{demo_tenant.key}"
    users = conforms(openapi, http.post(f"{path}/usermatch/ssn", headers=demo_tenant.headers,
                                        json={"list": ["191212121212", "197701032380", "198112172385"]}))
    assert users.json() == {"list": ["191212121212", "197701032380", "198112172385"]}
    companies = conforms(openapi, http.post(f"{path}/companymatch/vatnr", headers=demo_tenant.headers,
                                            json={"list": ["SE559408724801", DEMO_VAT]}))
    assert companies.json() == {"list": [DEMO_VAT]}
    too_large = http.post(f"{path}/companymatch/vatnr", headers=demo_tenant.headers,
                          json={"list": ["SE559408724801"] * 650_000})
    assert too_large.status_code == 413  # the 11 MB request itself is too slow for openapi-core to walk
    openapi.validate_response(HttpxOpenAPIRequest(too_large.request), HttpxOpenAPIResponse(too_large))


def test_content_delivered_and_retained(openapi, http, demo_tenant):
    path = f"/v2/tenant/{demo_tenant.key}/content"
    delivered = conforms(openapi, http.post(path, json=salaryslip_content(), headers=demo_tenant.headers))
    assert delivered.status_code == 201
    retained = http.post(path, json=salaryslip_content(ssn="197001012017", retain=True), headers=demo_tenant.headers)
    assert conforms(openapi, retained).headers["kivra-retained"] == "true"


def _kivras_content_examples() -> list[tuple[str, dict]]:
    """The request examples in Kivra's content path item, with the placeholder data made into a real PDF.

    Kivra's examples carry `REVBREJFRUY=` ("DEADBEEF") as PDF data; the sandbox checks that a PDF part is a PDF.
    """
    examples = bundled_spec()["paths"]["/v2/tenant/{tenantKey}/content"]["post"]["requestBody"]["content"][
        "application/json"]["examples"]
    prepared = []
    for name, example in examples.items():
        body = copy.deepcopy(example["value"])
        for part in body.get("parts", []):
            if base64.b64decode(part["data"]) == b"DEADBEEF":
                part["data"] = b64(PDF)
        prepared.append((name, body))
    return prepared


@pytest.fixture(scope="module")
def examples_sandbox():
    """Kivra's examples use subjects longer than the 35 characters it recommends, so the sandbox's check is off."""
    with start_in_thread(SandboxConfig(max_subject_length=None)) as running, \
            httpx.Client(base_url=running.url, timeout=10) as client:
        key = create_tenant(client, authenticate(client)).headers["kivra-objkey"]
        yield client, DemoTenant(key, authenticate(client))


@pytest.mark.parametrize("name, body", _kivras_content_examples(), ids=lambda v: v if isinstance(v, str) else "")
def test_kivras_own_content_examples_are_accepted(openapi, examples_sandbox, basic_error_schema, name, body):
    http, tenant = examples_sandbox
    response = http.post(f"/v2/tenant/{tenant.key}/content", json=body, headers=tenant.headers)
    if body.get("ssn") == "198101296928":
        # This example's personnummer fails the Luhn check digit, so the sandbox refuses it as an invalid SSN.
        error_conforms(openapi, basic_error_schema, response, 40009)
        return
    assert response.status_code == 201, response.text
    if "vat_number" in body:
        # A company payload also satisfies Content_user_v2 (neither schema forbids the other's members), so the
        # spec's own `oneOf` refuses every company payload. Only the answer can be validated for these.
        with pytest.raises(InvalidRequestBody) as refused:
            openapi.validate_request(HttpxOpenAPIRequest(response.request))
        assert "is valid under each of" in str(refused.value.__cause__)
        openapi.validate_response(HttpxOpenAPIRequest(response.request), HttpxOpenAPIResponse(response))
    else:
        conforms(openapi, response)


def test_error_answers_follow_kivras_error_schema(openapi, http, demo_tenant, basic_error_schema):
    key, headers = demo_tenant.key, demo_tenant.headers
    content = f"/v2/tenant/{key}/content"
    cases = [
        (http.get(f"/v2/tenant/{key}"), 40100),
        (http.get("/v2/tenant/1424780396902ee9278b16417f8e3252c3ced28c38", headers=headers), 40400),
        (http.post(f"/v2/tenant/{key}/usermatch/ssn", json={"list": "x"}, headers=headers), 40001),
        (http.post(content, json=salaryslip_content(ssn=None), headers=headers), 40024),
        (http.post(content, json=salaryslip_content(ssn="191212121213"), headers=headers), 40009),
        (http.post(content, json=salaryslip_content(salaryslip={}), headers=headers), 40059),
        (http.post(content, json=salaryslip_content(type="letter", salaryslip=None, retain=True, ssn=USER,
                                                    parts=None), headers=headers), 42221),
        (http.post(content, json=salaryslip_content(ssn="198807273266"), headers=headers), 40105),
        (http.post("/v2/tenant/request_access", json={"vat_number": "SE559408724801"}, headers=headers), 40400),
    ]
    late = create_tenant(http, authenticate(http), vat="SE559408724801", name="Sent AB")
    cases.append((http.get(f"/v2/tenant/{late.headers['kivra-objkey']}", headers=headers), 40300))
    for response, code in cases:
        error_conforms(openapi, basic_error_schema, response, code)
