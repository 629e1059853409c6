"""POST /v1/auth and the bearer checks: Kivra's client-credentials flow and its 401/403 answers."""
import base64
import time

import httpx

from kivra.sandbox import SandboxConfig
from kivra.sandbox.server import start_in_thread
from tests.sandbox.conftest import assert_kivra_error, authenticate, create_tenant

CREDENTIALS = ("sandbox-client", "sandbox-secret")


def test_client_credentials_give_a_bearer_token_like_kivras_example(http):
    response = http.post("/v1/auth", data={"grant_type": "client_credentials"}, auth=CREDENTIALS)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"state", "access_token", "expires_in", "scope", "token_type"}
    assert body["state"] == "" and body["token_type"] == "bearer" and body["expires_in"] == 60
    assert body["access_token"]
    assert response.headers["x-correlation-id"]


def test_scope_lists_each_tenant_in_the_clients_scope_at_issue_time(http, demo_tenant):
    response = http.post("/v1/auth", data={"grant_type": "client_credentials"}, auth=CREDENTIALS)
    assert f"kivra.v1.tenant.{demo_tenant.key}.*" in response.json()["scope"].split()


def test_wrong_secret_unknown_client_or_no_credentials_is_40104(http):
    form = {"grant_type": "client_credentials"}
    assert_kivra_error(http.post("/v1/auth", data=form, auth=("sandbox-client", "wrong")), 401, 40104)
    assert_kivra_error(http.post("/v1/auth", data=form, auth=("nobody", "sandbox-secret")), 401, 40104)
    assert_kivra_error(http.post("/v1/auth", data=form), 401, 40104)
    garbage = {"Authorization": "Basic not-base64!"}
    assert_kivra_error(http.post("/v1/auth", data=form, headers=garbage), 401, 40104)


def test_basic_credentials_are_rfc_2045_base64_of_id_colon_secret(http):
    encoded = base64.b64encode(b"sandbox-client:sandbox-secret").decode()
    response = http.post("/v1/auth", data={"grant_type": "client_credentials"},
                         headers={"Authorization": f"Basic {encoded}"})
    assert response.status_code == 200


def test_grant_type_missing_is_40001_and_another_grant_type_is_40102(http):
    credentials = ("sandbox-client", "sandbox-secret")
    assert_kivra_error(http.post("/v1/auth", data={}, auth=credentials), 400, 40001)
    assert_kivra_error(http.post("/v1/auth", data={"grant_type": "password"}, auth=credentials), 401, 40102)


def test_requests_without_a_known_token_are_40100(http, demo_tenant):
    path = f"/v2/tenant/{demo_tenant.key}"
    assert_kivra_error(http.get(path), 401, 40100)
    assert_kivra_error(http.get(path, headers={"Authorization": "Bearer made-up"}), 401, 40100)
    token = demo_tenant.headers["Authorization"].split()[1]
    assert_kivra_error(http.get(path, headers={"Authorization": f"Basic {token}"}), 401, 40100)
    assert http.get(path, headers=demo_tenant.headers).status_code == 200


def test_an_expired_token_is_40100_and_a_new_one_works():
    with start_in_thread(SandboxConfig(token_ttl=0.3)) as sandbox, httpx.Client(base_url=sandbox.url) as http:
        headers = authenticate(http)
        assert http.get("/v2/tenant", headers=headers).status_code == 200
        time.sleep(0.35)
        assert_kivra_error(http.get("/v2/tenant", headers=headers), 401, 40100)
        assert http.get("/v2/tenant", headers=authenticate(http)).status_code == 200


def test_a_tenant_created_after_the_token_was_issued_needs_a_new_token(http):
    old = authenticate(http)
    key = create_tenant(http, old).headers["kivra-objkey"]
    assert_kivra_error(http.get(f"/v2/tenant/{key}", headers=old), 403, 40300)
    assert_kivra_error(http.post(f"/v2/tenant/{key}/usermatch/ssn", json={"list": []}, headers=old), 403, 40300)
    assert http.get(f"/v2/tenant/{key}", headers=authenticate(http)).status_code == 200


def test_an_unknown_tenant_key_is_40400(http):
    headers = authenticate(http)
    assert_kivra_error(http.get("/v2/tenant/1424780396902ee9278b16417f8e3252c3ced28c38", headers=headers), 404, 40400)


def test_a_limited_scope_token_allows_only_what_it_names(http, demo_tenant):
    scope = f"post:kivra.v1.tenant.{demo_tenant.key}.content"
    response = http.post("/v1/auth", data={"grant_type": "client_credentials", "scope": scope},
                         auth=("sandbox-client", "sandbox-secret"))
    assert response.status_code == 200 and response.json()["scope"] == scope
    limited = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert_kivra_error(http.get(f"/v2/tenant/{demo_tenant.key}", headers=limited), 403, 40300)
    sent = http.post(f"/v2/tenant/{demo_tenant.key}/content", headers=limited, json={
        "ssn": "191212121212", "subject": "Hej", "type": "letter"})
    assert sent.status_code == 201


def test_a_scope_beyond_the_client_or_malformed_is_40003(http):
    credentials = ("sandbox-client", "sandbox-secret")
    for scope in ("post:kivra.v1.tenant.1424780396902ee9278b16417f8e3252c3ced28c38.content", "everything"):
        response = http.post("/v1/auth", data={"grant_type": "client_credentials", "scope": scope}, auth=credentials)
        assert_kivra_error(response, 400, 40003)


def _scope(http) -> tuple[dict, list[str]]:
    response = http.post("/v1/auth", data={"grant_type": "client_credentials"}, auth=CREDENTIALS)
    return {"Authorization": f"Bearer {response.json()['access_token']}"}, response.json()["scope"].split()


def test_a_tenant_answered_200_is_still_outside_a_token_issued_before_it_was_created(http):
    old, old_scope = _scope(http)
    key = create_tenant(http, authenticate(http)).headers["kivra-objkey"]  # another process of ours creates it
    again = create_tenant(http, old)
    assert again.status_code == 200 and again.headers["kivra-objkey"] == key
    assert f"kivra.v1.tenant.{key}.*" not in old_scope
    assert_kivra_error(http.get(f"/v2/tenant/{key}", headers=old), 403, 40300)
    new, new_scope = _scope(http)
    assert f"kivra.v1.tenant.{key}.*" in new_scope
    assert http.get(f"/v2/tenant/{key}", headers=new).status_code == 200


def test_a_granted_tenant_is_in_the_scope_of_tokens_issued_after_the_grant_only():
    with start_in_thread(SandboxConfig(request_access_pending_seconds=0.3)) as sandbox, \
            httpx.Client(base_url=sandbox.url) as http:
        before, before_scope = _scope(http)
        asked = http.post("/v2/tenant/request_access", json={"vat_number": "SE556036079301"}, headers=before)
        tenant_key = asked.json()["tenant_key"]
        deadline = time.monotonic() + 5
        while http.get(f"/v2/tenant/request_access/{asked.headers['kivra-objkey']}",
                       headers=before).json()["status"] == "pending":
            assert time.monotonic() < deadline, "the access request was never decided"
            time.sleep(0.05)
        assert f"kivra.v1.tenant.{tenant_key}.*" not in before_scope
        assert_kivra_error(http.post(f"/v2/tenant/{tenant_key}/usermatch/ssn", json={"list": []}, headers=before),
                           403, 40300)
        after, after_scope = _scope(http)
        assert f"kivra.v1.tenant.{tenant_key}.*" in after_scope
        assert http.post(f"/v2/tenant/{tenant_key}/usermatch/ssn", json={"list": []}, headers=after).status_code == 200
