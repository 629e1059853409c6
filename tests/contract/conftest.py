"""A sandbox per test on a free loopback port, and our client pointed at it over real HTTP."""
import httpx
import pytest

from kivra.sandbox.config import FaultConfig, SandboxConfig
from kivra.sandbox.server import start_in_thread
from kivra.sender_api import KivraClient

DEMO_ORGNR = "5568402266"


@pytest.fixture
def sandbox_config():
    return SandboxConfig(
        clients={"sandbox-client": "sandbox-secret", "other-client": "other-secret"},
        token_ttl=60,
        request_access_pending_seconds=0.3,
        seed=7,
    )


@pytest.fixture
def sandbox(sandbox_config):
    with start_in_thread(sandbox_config) as running:
        yield running


@pytest.fixture
def client(sandbox):
    client = KivraClient(sandbox.url, "sandbox-client", "sandbox-secret", backoff=0.01, backoff_cap=0.05,
                         timeout=httpx.Timeout(2.0, connect=1.0))
    yield client
    client.close()


@pytest.fixture
def tenant(client):
    return client.create_tenant("Demo AB", DEMO_ORGNR).key


class Admin:
    """The sandbox's own `/_sandbox` endpoints, for arranging a test and reading what Kivra received."""

    def __init__(self, url):
        self.http = httpx.Client(base_url=url, timeout=5.0)

    def ledger(self) -> dict:
        return self.http.get("/_sandbox/ledger").json()

    def faults(self, **settings) -> None:
        self.http.post("/_sandbox/faults", json=settings).raise_for_status()

    def recipients(self, registry: dict) -> None:
        self.http.post("/_sandbox/recipients", json=registry).raise_for_status()

    def duplicate_control(self, enabled: bool) -> None:
        self.http.post("/_sandbox/duplicate-control", json={"enabled": enabled}).raise_for_status()


@pytest.fixture
def admin(sandbox):
    admin = Admin(sandbox.url)
    yield admin
    admin.http.close()


__all__ = ["FaultConfig", "SandboxConfig"]
