"""A token reaches the tenants its `scope` named when it was issued: the client renews it for a tenant it predates,
once, and never turns a tenant that truly is outside its scope into an authentication storm."""
import threading
import time

import httpx
import pytest

from kivra.sender_api import KivraClient
from kivra.sender_api.client import tenants_in_scope
from kivra.sender_api.errors import Forbidden

OURS, NEW, FOREIGN = "1111111111" + "a" * 32, "2222222222" + "b" * 32, "3333333333" + "c" * 32


class ScopedKivra:
    """A scripted Kivra that scopes each token to the tenants the client had when it was issued, and answers a
    tenant call outside that scope with 403/40300. `scope_text` writes the scope as Kivra's answer would."""

    def __init__(self, *tenants, scope_text=None):
        self.tenants = set(tenants)
        self.scope_text = scope_text or (lambda keys: " ".join(["post:kivra.v2.tenant"]
                                                               + [f"kivra.v1.tenant.{k}.*" for k in sorted(keys)]))
        self.issued: dict[str, frozenset] = {}
        self.calls: list[tuple[str, str]] = []  # (token, tenant) of every tenant call
        self.lock = threading.Lock()

    @property
    def auth_calls(self) -> int:
        return len(self.issued)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth":
            time.sleep(0.02)  # slow enough that concurrent callers overlap
            with self.lock:
                token = f"token-{len(self.issued) + 1}"
                self.issued[token] = frozenset(self.tenants)
                scope = self.scope_text(self.issued[token])
            return httpx.Response(200, json={"state": "", "access_token": token, "expires_in": 28800,
                                             "scope": scope, "token_type": "bearer"})
        token = request.headers["authorization"].removeprefix("Bearer ")
        if request.url.path == "/v2/tenant":
            return httpx.Response(200, json=[])
        tenant = request.url.path.split("/")[3]
        with self.lock:
            self.calls.append((token, tenant))
            allowed = tenant in self.issued[token]
        if not allowed:
            return httpx.Response(403, json={"code": 40300, "short_message": "Forbidden", "long_message": "scope"},
                                  headers={"x-error-code": "40300", "x-correlation-id": "corr-40300"})
        if request.url.path.endswith("/content"):
            return httpx.Response(201, headers={"kivra-objkey": f"content-{len(self.calls)}"})
        return httpx.Response(200, json={"list": []})


def client_for(kivra, clock=lambda: 0.0, **kwargs) -> KivraClient:
    return KivraClient("http://kivra.test", "id", "secret", transport=httpx.MockTransport(kivra),
                       sleep=lambda seconds: None, clock=clock, **kwargs)


def test_a_tenant_created_after_the_token_renews_it_before_the_call():
    kivra = ScopedKivra(OURS)
    client = client_for(kivra)
    client.send_content(OURS, b"{}")  # the worker holds a token from before the new tenant
    kivra.tenants.add(NEW)  # another process (the web) registers a company
    client.send_content(NEW, b"{}")
    assert kivra.auth_calls == 2
    assert kivra.calls == [("token-1", OURS), ("token-2", NEW)]  # renewed before the call: no 403 on the way
    client.send_content(NEW, b"{}")
    client.send_content(OURS, b"{}")
    assert kivra.auth_calls == 2


def test_usermatch_and_get_tenant_renew_the_same_way():
    kivra = ScopedKivra(OURS)
    client = client_for(kivra)
    client.send_content(OURS, b"{}")
    kivra.tenants.add(NEW)
    assert client.usermatch(NEW, ["191212121212"]) == set()
    assert client.companymatch(NEW, ["SE556840226601"]) == set()
    client.get_tenant(NEW)
    assert kivra.auth_calls == 2 and kivra.calls[1:] == [("token-2", NEW)] * 3


def test_a_40300_on_a_tenant_renews_once_and_retries_once():
    # A scope the client cannot read tenant by tenant (empty): only Kivra's 40300 says the token predates the tenant.
    kivra = ScopedKivra(OURS, scope_text=lambda keys: "")
    client = client_for(kivra)
    client.send_content(OURS, b"{}")
    kivra.tenants.add(NEW)
    assert client.send_content(NEW, b"{}").key
    assert kivra.auth_calls == 2
    assert kivra.calls[1:] == [("token-1", NEW), ("token-2", NEW)]


def test_a_tenant_truly_outside_the_scope_renews_once_then_is_forbidden_without_more_renewals():
    now = [0.0]
    kivra = ScopedKivra(OURS)
    client = client_for(kivra, clock=lambda: now[0])
    client.send_content(OURS, b"{}")
    with pytest.raises(Forbidden) as raised:
        client.send_content(FOREIGN, b"{}")
    assert (raised.value.status, raised.value.code) == (403, 40300)
    assert kivra.auth_calls == 2 and kivra.calls[1:] == [("token-2", FOREIGN)]  # one renewal, one call, no retry
    for _ in range(5):
        now[0] += 10
        with pytest.raises(Forbidden):
            client.send_content(FOREIGN, b"{}")
    assert kivra.auth_calls == 2  # no second renewal for it within the interval
    now[0] += 11  # a minute since the last renewal for this tenant: ask once more (it may have been granted)
    kivra.tenants.add(FOREIGN)
    client.send_content(FOREIGN, b"{}")
    assert kivra.auth_calls == 3


def test_a_40300_that_persists_after_renewal_is_forbidden_without_a_loop():
    kivra = ScopedKivra(OURS, scope_text=lambda keys: "")
    client = client_for(kivra)
    with pytest.raises(Forbidden):
        client.send_content(FOREIGN, b"{}")
    assert kivra.auth_calls == 2 and kivra.calls == [("token-1", FOREIGN), ("token-2", FOREIGN)]
    with pytest.raises(Forbidden):
        client.send_content(FOREIGN, b"{}")
    assert kivra.auth_calls == 2 and len(kivra.calls) == 3


def test_a_wildcard_scope_never_renews_before_a_call():
    kivra = ScopedKivra(OURS, NEW, FOREIGN, scope_text=lambda keys: "kivra.v1.tenant.*")
    client = client_for(kivra)
    for tenant in (OURS, NEW, FOREIGN, NEW):
        client.send_content(tenant, b"{}")
    assert kivra.auth_calls == 1


def test_calls_that_are_not_on_a_tenant_never_renew_for_scope():
    kivra = ScopedKivra()
    client = client_for(kivra)
    assert client.find_tenants("5568402266") == []
    assert client.find_tenants("5568402266") == []
    assert kivra.auth_calls == 1


def _in_threads(count: int, call) -> list:
    start = threading.Barrier(count)
    results: list = [None] * count

    def run(index):
        start.wait()
        try:
            results[index] = call()
        except Exception as error:  # collected and asserted by the test
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_many_threads_meeting_a_new_tenant_share_one_renewal():
    kivra = ScopedKivra(OURS)
    client = client_for(kivra)
    client.send_content(OURS, b"{}")
    kivra.tenants.add(NEW)
    results = _in_threads(16, lambda: client.send_content(NEW, b"{}"))
    assert all(not isinstance(result, Exception) for result in results), results
    assert kivra.auth_calls == 2 and {token for token, tenant in kivra.calls if tenant == NEW} == {"token-2"}


def test_many_threads_meeting_40300_share_one_renewal():
    kivra = ScopedKivra(OURS, scope_text=lambda keys: "")
    client = client_for(kivra)
    client.send_content(OURS, b"{}")
    kivra.tenants.add(NEW)
    results = _in_threads(16, lambda: client.send_content(NEW, b"{}"))
    assert all(not isinstance(result, Exception) for result in results), results
    assert kivra.auth_calls == 2


@pytest.mark.parametrize("readable", [True, False])
def test_many_threads_on_a_tenant_truly_outside_the_scope_renew_once_in_all(readable):
    kivra = ScopedKivra(OURS) if readable else ScopedKivra(OURS, scope_text=lambda keys: "")
    client = client_for(kivra)
    client.send_content(OURS, b"{}")
    for _ in range(3):
        results = _in_threads(16, lambda: client.send_content(FOREIGN, b"{}"))
        assert all(isinstance(result, Forbidden) for result in results), results
    assert kivra.auth_calls == 2


@pytest.mark.parametrize("scope, tenants", [
    (f"kivra.v1.tenant.{OURS}.*", {OURS}),
    (f"kivra.v1.tenant.{OURS}.*,kivra.v1.tenant.{NEW}.*", {OURS, NEW}),
    (f"kivra.v1.tenant.{OURS}.* kivra.v1.tenant.{NEW}.*", {OURS, NEW}),
    (f"get,put:kivra.v1.tenant.{OURS}.content, post:kivra.v2.tenant.{NEW}.usermatch.ssn", {OURS, NEW}),
    ("post:kivra.v2.tenant get:kivra.v2.tenant post:kivra.v2.tenant.request_access "
     "get:kivra.v2.tenant.request_access.*", set()),
    ("", None),
    (None, None),
    ("kivra.v1.tenant.*", None),
    ("kivra.v1.tenant.**", None),
    ("kivra.**", None),
    (f"kivra.v1.tenant.{OURS}.* kivra.v1.*", None),
    ("something-else", None),
])
def test_the_tenants_a_scope_names(scope, tenants):
    found = tenants_in_scope(scope)
    assert found == (None if tenants is None else frozenset(tenants))
