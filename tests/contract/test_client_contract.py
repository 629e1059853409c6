"""The client against the sandbox over real HTTP on 127.0.0.1: every endpoint and every error path."""
import json

import httpx
import pytest

from kivra.demo import employee_numbers
from kivra.sender_api import KivraClient
from kivra.sender_api.errors import (
    Forbidden,
    InvalidClient,
    InvalidRequest,
    InvalidSSN,
    NotFound,
    RateLimited,
    RecipientNotEligible,
    RetainNotAllowed,
    SchemaViolation,
    ServerError,
    TenantConflict,
    TokenRejected,
    TooLarge,
)
from tests.contract.conftest import DEMO_ORGNR
from tests.kivra_samples import SLIP, payslip

USER, NOT_USER, OPTED_OUT, DORMANT, COORDINATION = (employee_numbers()[i] for i in (0, 18, 20, 21, 24))


def test_authentication_with_wrong_secret_is_refused(sandbox):
    with KivraClient(sandbox.url, "sandbox-client", "wrong") as client, pytest.raises(InvalidClient) as raised:
        client.find_tenants(DEMO_ORGNR)
    assert raised.value.status == 401 and raised.value.code == 40104 and raised.value.correlation_id


def test_create_tenant_then_find_and_get_it(client):
    created = client.create_tenant("Demo AB", DEMO_ORGNR)
    assert created.created and len(created.key) == 42
    again = client.create_tenant("Demo AB", DEMO_ORGNR)
    assert again.key == created.key and not again.created  # 200: already ours
    assert client.find_tenants(DEMO_ORGNR) == [created.key]
    tenant = client.get_tenant(created.key)
    assert tenant["name"] == "Demo AB" and tenant["company_id"][0]["orgnr"] == "SE556840226601"


def test_a_new_tenant_is_usable_at_once_because_the_client_reauthenticates(client):
    key = client.create_tenant("Demo AB", DEMO_ORGNR).key
    assert client.usermatch(key, [USER]) == {USER}


def test_another_clients_tenant_is_forbidden_and_an_unknown_one_not_found(sandbox, client):
    with KivraClient(sandbox.url, "other-client", "other-secret") as other:
        theirs = other.create_tenant("Tredje AB", "5560160680").key
    with pytest.raises(Forbidden) as raised:
        client.get_tenant(theirs)
    assert (raised.value.status, raised.value.code) == (403, 40300)
    with pytest.raises(NotFound) as raised:
        client.get_tenant("1" * 10 + "0" * 32)
    assert (raised.value.status, raised.value.code) == (404, 40400)


def test_org_number_of_another_sender_needs_an_access_request(client):
    with pytest.raises(TenantConflict) as raised:
        client.create_tenant("Annat AB", "5560360793")
    assert raised.value.status == 409 and raised.value.code == 40915
    request = client.request_access("5560360793")
    assert request.status == "pending" and request.key
    assert client.request_access("5560360793").key == request.key  # the same request again
    granted = client.wait_for_access(request.key, interval=0.1, timeout=5)
    assert granted.status == "accepted" and granted.tenant_key
    assert client.usermatch(granted.tenant_key, [USER]) == {USER}  # usable with the new scope


def test_a_rejected_access_request(client):
    with pytest.raises(TenantConflict):
        client.create_tenant("Avvisat AB", "5567037485")
    request = client.request_access("5567037485")
    assert client.wait_for_access(request.key, interval=0.1, timeout=5).status == "rejected"


def test_usermatch_keeps_only_those_who_can_receive(client, tenant):
    asked = [USER, NOT_USER, OPTED_OUT, DORMANT, COORDINATION, "191212121212"]
    assert client.usermatch(tenant, asked) == {USER, "191212121212"}
    assert client.usermatch(tenant, []) == set()


def test_usermatch_batches_a_list_over_10_mb(sandbox, tenant):
    # 700 000 numbers is about 10.5 MB as JSON: in one request Kivra would refuse it with 41300.
    numbers = [f"1990{i:08d}" for i in range(700_000)] + [USER]
    with KivraClient(sandbox.url, "sandbox-client", "sandbox-secret", timeout=httpx.Timeout(60.0)) as client:
        assert client.usermatch(tenant, numbers) == {USER}


def test_companymatch(client, tenant):
    assert client.companymatch(tenant, ["SE556840226601", "SE556036079301"]) == {"SE556840226601"}


def test_send_a_payslip_to_a_kivra_user(client, tenant, admin):
    sent = client.send_content(tenant, payslip(USER))
    assert sent.key and not sent.retained and sent.correlation_id
    [content] = admin.ledger()["contents"]
    assert content["key"] == sent.key and content["type"] == "salaryslip" and content["delivered_count"] == 1


def test_not_a_kivra_user_without_retain_is_not_eligible(client, tenant, admin):
    with pytest.raises(RecipientNotEligible) as raised:
        client.send_content(tenant, payslip(NOT_USER))
    assert raised.value.status == 401 and raised.value.code == 40105
    assert admin.ledger()["contents"] == []


def test_retain_does_not_reach_someone_who_opted_out(client, tenant):
    with pytest.raises(RecipientNotEligible):
        client.send_content(tenant, payslip(OPTED_OUT, retain=True))


def test_a_dormant_user_still_receives(client, tenant):
    # Kivra: dormant users are left out of matching, "but the Tenant can still send Content which the Recipient
    # will receive".
    assert not client.send_content(tenant, payslip(DORMANT)).retained


def test_retain_lets_kivra_hold_the_payslip_of_someone_not_yet_in_kivra(client, tenant, admin):
    assert client.send_content(tenant, payslip(NOT_USER, retain=True, retention_days=390)).retained
    [content] = admin.ledger()["contents"]
    assert content["retained"] and content["retention_days"] == 390


def test_samordningsnummer_is_refused(client, tenant):
    with pytest.raises(InvalidSSN) as raised:
        client.send_content(tenant, payslip(COORDINATION))
    assert raised.value.code == 40009


def test_sandbox_refuses_a_salaryslip_that_breaks_the_schema(client, tenant):
    # Our own check would refuse this before sending, so write the body by hand to see Kivra's answer.
    body = json.loads(payslip(USER))
    body["salaryslip"] = {**SLIP, "unknown_field": 1}
    with pytest.raises(SchemaViolation) as raised:
        client.send_content(tenant, json.dumps(body).encode())
    assert raised.value.code == 40059


@pytest.mark.parametrize("change, kind, code", [
    (lambda b: b.pop("ssn"), InvalidRequest, 40024),
    (lambda b: b["parts"][0].update(data="not base64!"), InvalidRequest, 40019),
    (lambda b: b["parts"][0].update(content_type="image/png"), InvalidRequest, 40028),
    (lambda b: b.update(type="letter", retain=True, salaryslip=None) or b.pop("salaryslip"), RetainNotAllowed, 42221),
    (lambda b: b.update(ssn="19121212121"), InvalidSSN, 40009),
])
def test_malformed_contents_get_kivras_error_codes(client, tenant, change, kind, code):
    body = json.loads(payslip(USER))
    change(body)
    with pytest.raises(kind) as raised:
        client.send_content(tenant, json.dumps(body).encode())
    assert raised.value.code == code and raised.value.correlation_id


def test_a_content_over_1_mb_is_too_large(client, tenant):
    body = json.loads(payslip(USER))
    body["parts"][0]["data"] = "A" * 1_100_000
    with pytest.raises(TooLarge) as raised:
        client.send_content(tenant, json.dumps(body).encode())
    assert raised.value.code == 41300


def test_duplicate_control_delivers_an_identical_payload_once(client, tenant, admin):
    body = payslip(USER)
    first = client.send_content(tenant, body)
    regenerated = json.loads(body)
    regenerated["generated_at"] = "2026-11-25"  # only generated_at differs: still the same payslip
    second = client.send_content(tenant, json.dumps(regenerated).encode())
    assert second.key == first.key
    [content] = admin.ledger()["contents"]
    assert content["received_count"] == 2 and content["delivered_count"] == 1


def test_without_duplicate_control_the_same_payload_is_delivered_again(client, tenant, admin):
    admin.duplicate_control(False)
    body = payslip(USER)
    client.send_content(tenant, body)
    client.send_content(tenant, body)
    assert len(admin.ledger()["contents"]) == 2


def test_the_rate_limit_is_retried_and_then_reported(sandbox, tenant, admin):
    with KivraClient(sandbox.url, "sandbox-client", "sandbox-secret", max_attempts=2, backoff=0.01) as client:
        admin.duplicate_control(False)
        body = payslip(USER)
        for _ in range(50):
            client.send_content(tenant, body)
        with pytest.raises(RateLimited) as raised:
            client.send_content(tenant, body)
    assert raised.value.code == 42900


def test_an_expired_token_is_renewed_once_transparently(sandbox, tenant):
    with KivraClient(sandbox.url, "sandbox-client", "sandbox-secret") as client:
        client.usermatch(tenant, [USER])
        with sandbox.state.lock:
            sandbox.state.tokens.clear()  # Kivra ends every token early
        assert client.usermatch(tenant, [USER]) == {USER}


def test_a_token_refused_again_after_renewal_is_an_error(client, tenant, admin):
    admin.faults(early_token_expiry_rate=1.0)
    with pytest.raises(TokenRejected) as raised:
        client.usermatch(tenant, [USER])  # every token refused: one re-authentication, then the error
    assert raised.value.code == 40100


def test_server_errors_are_retried_until_they_pass(sandbox, tenant, admin):
    admin.faults(error_rate=0.5)
    with KivraClient(sandbox.url, "sandbox-client", "sandbox-secret", max_attempts=30, backoff=0.001) as client:
        keys = {client.send_content(tenant, payslip(USER, subject=f"Lönebesked {n}")).key for n in range(10)}
    assert len(keys) == 10 and len(admin.ledger()["contents"]) == 10


def test_server_errors_that_persist_are_reported(client, tenant, admin):
    admin.faults(error_rate=1.0)
    with pytest.raises(ServerError) as raised:
        client.usermatch(tenant, [USER])
    assert raised.value.status in (500, 503) and raised.value.code in (50000, 50301)


def test_a_lost_answer_after_delivery_is_resent_and_not_delivered_twice(sandbox, tenant, admin):
    admin.faults(timeout_after_rate=1.0, hang_seconds=1.0)
    with KivraClient(sandbox.url, "sandbox-client", "sandbox-secret", timeout=httpx.Timeout(0.3),
                     max_attempts=2, backoff=0.01) as client:
        with pytest.raises(Exception):
            client.send_content(tenant, payslip(USER))
        admin.faults(timeout_after_rate=0.0)
        client.send_content(tenant, payslip(USER))  # the same bytes again, as the dispatch engine will
    [content] = admin.ledger()["contents"]
    assert content["delivered_count"] == 1 and content["received_count"] >= 2
