"""Two processes' clients against the sandbox over HTTP: the worker's token predates a tenant the web registered
(or was granted), and the worker still delivers to it, once."""
import httpx
import pytest

from kivra.demo import employee_numbers
from kivra.sender_api import KivraClient
from kivra.sender_api.errors import Forbidden
from tests.contract.conftest import DEMO_ORGNR
from tests.kivra_samples import payslip

USER = employee_numbers()[0]
FIRST_ORGNR, GRANTED_ORGNR = "5560160680", "5560360793"  # ours from the start; another integrator's, granted later


@pytest.fixture
def worker(sandbox):
    """The worker process's client, a client of its own (its own token cache) for the same Kivra client id."""
    client = KivraClient(sandbox.url, "sandbox-client", "sandbox-secret", backoff=0.01, backoff_cap=0.05,
                         timeout=httpx.Timeout(2.0, connect=1.0))
    yield client
    client.close()


def _worker_holds_a_token(worker, client) -> None:
    """The worker has sent before, for a company registered earlier, so it holds a token from before."""
    first = client.create_tenant("Först AB", FIRST_ORGNR).key
    worker.send_content(first, payslip(USER, subject="Lönebesked oktober"))


def _delivered_to(admin, tenant_key: str) -> list[dict]:
    return [content for content in admin.ledger()["contents"] if content["tenant_key"] == tenant_key]


def test_the_worker_sends_to_a_tenant_the_web_created_after_its_token(worker, client, admin):
    _worker_holds_a_token(worker, client)
    created = client.create_tenant("Demo AB", DEMO_ORGNR)  # the web process approves Kivra for a new company
    assert created.created
    sent = worker.send_content(created.key, payslip(USER))
    [content] = _delivered_to(admin, created.key)
    assert content["key"] == sent.key and content["delivered_count"] == 1 and content["received_count"] == 1


def test_the_worker_sends_to_a_tenant_granted_after_its_token(worker, client, admin):
    _worker_holds_a_token(worker, client)
    request = client.request_access(GRANTED_ORGNR)  # the org.nr belongs to another integrator's tenant
    granted = client.wait_for_access(request.key, interval=0.1, timeout=5)
    assert granted.status == "accepted"
    sent = worker.send_content(granted.tenant_key, payslip(USER))
    [content] = _delivered_to(admin, granted.tenant_key)
    assert content["key"] == sent.key and content["delivered_count"] == 1 and content["received_count"] == 1


def test_a_tenant_of_another_client_stays_forbidden(sandbox, worker, client, admin):
    _worker_holds_a_token(worker, client)
    with KivraClient(sandbox.url, "other-client", "other-secret") as other:
        theirs = other.create_tenant("Tredje AB", "5566778899").key
    for _ in range(3):
        with pytest.raises(Forbidden):
            worker.send_content(theirs, payslip(USER))
    assert _delivered_to(admin, theirs) == []
