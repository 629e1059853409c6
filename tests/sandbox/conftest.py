"""A fresh sandbox per test, served over real HTTP on 127.0.0.1, and plain httpx to talk to it."""
import re
from dataclasses import dataclass

import httpx
import pytest

from kivra.sandbox import SandboxConfig
from kivra.sandbox.server import start_in_thread

DEMO_VAT = "SE556840226601"
PENDING_SECONDS = 0.3


@dataclass
class DemoTenant:
    key: str
    headers: dict  # a bearer token issued after the tenant joined the client's scope


@pytest.fixture
def sandbox():
    config = SandboxConfig(token_ttl=60, request_access_pending_seconds=PENDING_SECONDS, seed=7)
    with start_in_thread(config) as running:
        yield running


@pytest.fixture
def http(sandbox):
    with httpx.Client(base_url=sandbox.url, timeout=10) as client:
        yield client


def authenticate(http: httpx.Client, client_id="sandbox-client", secret="sandbox-secret") -> dict:
    response = http.post("/v1/auth", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def create_tenant(http: httpx.Client, headers: dict, vat=DEMO_VAT, name="Demo AB") -> httpx.Response:
    return http.post("/v2/tenant", json={"name": name, "company_id": [{"name": name, "orgnr": vat}]}, headers=headers)


@pytest.fixture
def demo_tenant(http) -> DemoTenant:
    response = create_tenant(http, authenticate(http))
    assert response.status_code == 201
    return DemoTenant(response.headers["kivra-objkey"], authenticate(http))


def assert_kivra_error(response: httpx.Response, status: int, code: int) -> dict:
    """Kivra's error shape: the code in the body and in `x-error-code`, a correlation id on the side."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["short_message"], str) and body["short_message"]
    assert isinstance(body["long_message"], str) and body["long_message"]
    assert response.headers["x-error-code"] == str(code)
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-correlation-id"])
    return body


def ledger(http: httpx.Client) -> dict:
    return http.get("/_sandbox/ledger").json()
