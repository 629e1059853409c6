"""`PUT /v2/tenant/{tenantKey}/name` over real HTTP: the client renames its tenant; the sandbox answers as Kivra does
(scope `put:kivra.v2.tenant.{tenantKey}.name`, 404 for an unknown tenant, 400 without a name, 200 empty)."""
import httpx
import pytest

from kivra.demo import employee_numbers
from kivra.sender_api import KivraClient
from kivra.sender_api.errors import Forbidden, InvalidRequest, NotFound
from tests.kivra_samples import payslip

USER = employee_numbers()[0]


def test_the_client_renames_its_tenant_and_kivra_shows_the_new_name(sandbox, client, tenant, admin):
    client.send_content(tenant, payslip(USER, subject="Lönebesked november"))
    assert client.update_tenant_name(tenant, "Demo Nord AB") is None
    assert client.get_tenant(tenant)["name"] == "Demo Nord AB"
    # The recipient's inbox in the sandbox names the sender by the tenant's name.
    inbox = admin.http.get(f"/_sandbox/inbox/{sandbox.state.recipient_id(USER)}")
    assert inbox.status_code == 200 and "Demo Nord AB" in inbox.text


def test_an_unknown_tenant_is_404(client):
    with pytest.raises(NotFound) as raised:
        client.update_tenant_name("1" * 10 + "0" * 32, "Demo Nord AB")
    assert (raised.value.status, raised.value.code) == (404, 40400)


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": 7}])
def test_a_missing_or_empty_name_is_400(sandbox, client, tenant, body):
    token = client._access_token(tenant).value
    response = httpx.put(f"{sandbox.url}/v2/tenant/{tenant}/name", json=body,
                         headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 400 and response.json()["code"] == 40001
    assert client.get_tenant(tenant)["name"] == "Demo AB"
    with pytest.raises(InvalidRequest):
        client.update_tenant_name(tenant, "")


def _token(sandbox, scope: str) -> str:
    response = httpx.post(f"{sandbox.url}/v1/auth", data={"grant_type": "client_credentials", "scope": scope},
                          auth=("sandbox-client", "sandbox-secret"))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_only_a_token_whose_scope_names_the_tenants_name_may_rename_it(sandbox, tenant):
    put = f"{sandbox.url}/v2/tenant/{tenant}/name"
    reading = _token(sandbox, f"get:kivra.v2.tenant.{tenant}")
    refused = httpx.put(put, json={"name": "X AB"}, headers={"authorization": f"Bearer {reading}"})
    assert (refused.status_code, refused.json()["code"]) == (403, 40300)
    renaming = _token(sandbox, f"put:kivra.v2.tenant.{tenant}.name")
    answered = httpx.put(put, json={"name": "Demo Nord AB"}, headers={"authorization": f"Bearer {renaming}"})
    assert answered.status_code == 200 and answered.content == b""


def test_another_clients_tenant_cannot_be_renamed(sandbox, client):
    with KivraClient(sandbox.url, "other-client", "other-secret") as other:
        theirs = other.create_tenant("Tredje AB", "5560160680").key
    with pytest.raises(Forbidden):
        client.update_tenant_name(theirs, "Mitt AB")
    with KivraClient(sandbox.url, "other-client", "other-secret") as other:
        assert other.get_tenant(theirs)["name"] == "Tredje AB"
