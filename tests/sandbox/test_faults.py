"""Injected faults, set at run time through /_sandbox/faults; they never touch /_sandbox itself."""
import time

import httpx
import pytest

from kivra.sandbox import FaultConfig, SandboxConfig
from kivra.sandbox.server import start_in_thread
from tests.sandbox.conftest import assert_kivra_error, authenticate, ledger
from tests.sandbox.payloads import salaryslip_content


def _faults(http, **settings):
    response = http.post("/_sandbox/faults", json=settings)
    assert response.status_code == 200, response.text


def _send(http, tenant, body=None, **kwargs):
    return http.post(f"/v2/tenant/{tenant.key}/content", json=body or salaryslip_content(), headers=tenant.headers,
                     **kwargs)


def test_error_rate_answers_500_or_503_before_doing_anything(http, demo_tenant):
    _faults(http, error_rate=1.0)
    codes = set()
    for _ in range(12):
        response = _send(http, demo_tenant)
        codes.add(response.json()["code"])
        assert_kivra_error(response, response.json()["code"] // 100, response.json()["code"])
    assert codes == {50000, 50301}
    assert http.post("/v1/auth").status_code in (500, 503)
    assert ledger(http)["contents"] == []  # /_sandbox is never faulted


def test_latency_is_added_to_api_answers(http, demo_tenant):
    _faults(http, latency_ms=150)
    started = time.perf_counter()
    http.get("/v2/tenant", headers=demo_tenant.headers)
    assert time.perf_counter() - started >= 0.15


def test_latency_counts_from_the_calls_arrival_with_the_sandboxs_own_work_inside_it(http, demo_tenant, monkeypatch):
    """A remote Kivra's own work is part of the latency its client sees. The sandbox's work (here made to take 0.2 s)
    is done inside the latency, not after it: a call with 0.3 s of latency is answered after 0.3 s, not 0.5 s."""
    from kivra.sandbox import faults

    def slow_work(original=faults.before_content):
        time.sleep(0.2)
        return original()

    monkeypatch.setattr(faults, "before_content", slow_work)
    _faults(http, latency_ms=300)
    started = time.perf_counter()
    response = _send(http, demo_tenant)
    took = time.perf_counter() - started
    assert response.status_code == 201, response.text
    assert 0.3 <= took < 0.45, took
    assert ledger(http)["contents"][0]["delivered_count"] == 1
    _faults(http, latency_ms=300, error_rate=1.0)  # an injected error is answered after the latency too
    started = time.perf_counter()
    assert _send(http, demo_tenant).status_code in (500, 503)
    assert time.perf_counter() - started >= 0.3


def test_timeout_after_stores_and_delivers_then_hangs(http, demo_tenant):
    _faults(http, timeout_after_rate=1.0, hang_seconds=0.6)
    with pytest.raises(httpx.ReadTimeout):
        _send(http, demo_tenant, timeout=0.2)
    [entry] = ledger(http)["contents"]
    assert entry["delivered_count"] == 1
    _faults(http)
    retry = _send(http, demo_tenant)  # the client resends the very same bytes
    assert retry.status_code == 201 and retry.headers["kivra-objkey"] == entry["key"]
    assert ledger(http)["contents"][0]["received_count"] == 2


def test_timeout_before_stores_nothing_and_answers_504_late(http, demo_tenant):
    _faults(http, timeout_before_rate=1.0, hang_seconds=0.3)
    with pytest.raises(httpx.ReadTimeout):
        _send(http, demo_tenant, timeout=0.1)
    started = time.perf_counter()
    assert_kivra_error(_send(http, demo_tenant), 504, 50400)
    assert time.perf_counter() - started >= 0.3
    assert ledger(http)["contents"] == []


def test_429_bursts_follow_every_n_content_requests(http, demo_tenant):
    _faults(http, burst_429_every=2, burst_429_length=1)
    statuses = [_send(http, demo_tenant, salaryslip_content(subject=f"Lönebesked {n}")).status_code for n in range(6)]
    assert statuses == [201, 201, 429, 201, 201, 429]


def test_early_token_expiry_revokes_the_token(http, demo_tenant):
    _faults(http, early_token_expiry_rate=1.0)
    assert_kivra_error(_send(http, demo_tenant), 401, 40100)
    _faults(http)
    assert_kivra_error(_send(http, demo_tenant), 401, 40100)  # revoked for good
    headers = authenticate(http)
    assert http.get(f"/v2/tenant/{demo_tenant.key}", headers=headers).status_code == 200


def test_faults_are_validated(http):
    assert http.post("/_sandbox/faults", json={"error_rate": 2}).status_code == 400
    assert http.post("/_sandbox/faults", json={"errors": 1}).status_code == 400
    assert http.get("/_sandbox/faults").json()["error_rate"] == 0.0


def test_the_same_seed_gives_the_same_faults():
    def run() -> list[int]:
        config = SandboxConfig(seed=42, faults=FaultConfig(error_rate=0.5))
        with start_in_thread(config) as running, httpx.Client(base_url=running.url) as client:
            return [client.get("/v2/tenant").status_code for _ in range(10)]

    first = run()
    assert first == run() and {401, 500, 503} & set(first) == set(first) and len(set(first)) > 1
