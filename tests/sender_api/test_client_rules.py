"""The client's own rules, against a scripted transport: token reuse and renewal, retries, typed errors."""
import json
import logging
import threading
import time

import httpx
import pytest

from kivra.sender_api import KivraClient
from kivra.sender_api.client import _batches
from kivra.sender_api.errors import (
    InvalidClient,
    InvalidSSN,
    RateLimited,
    RecipientNotEligible,
    ServerError,
    TenantConflict,
    TokenRejected,
    TransportError,
)

PNR = "191212121212"


def error(status, code, short="x"):
    return httpx.Response(status, json={"code": code, "short_message": short, "long_message": short},
                          headers={"x-error-code": str(code), "x-correlation-id": f"corr-{code}"})


class Kivra:
    """A scripted Kivra: answers /v1/auth, then pops the scripted answers for API calls, recording requests."""

    def __init__(self, *answers, expires_in=28800):
        self.answers = list(answers)
        self.auth_calls = 0
        self.api_requests: list[httpx.Request] = []
        self.expires_in = expires_in
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth":
            time.sleep(0.05)  # a slow Kivra: senders arriving meanwhile must wait for this token, not fetch their own
        with self.lock:
            if request.url.path == "/v1/auth":
                self.auth_calls += 1
                return httpx.Response(200, json={"access_token": f"token-{self.auth_calls}", "expires_in": self.expires_in,
                                                 "scope": "", "state": "", "token_type": "bearer"})
            self.api_requests.append(request)
            answer = self.answers.pop(0) if self.answers else httpx.Response(201, headers={"kivra-objkey": "k1"})
        if isinstance(answer, Exception):
            raise answer
        return answer


def client_for(kivra, clock=None, **kwargs):
    sleeps = []
    client = KivraClient("http://kivra.test", "id", "secret", transport=httpx.MockTransport(kivra),
                         sleep=sleeps.append, clock=clock or (lambda: 0.0), **kwargs)
    client.sleeps = sleeps
    return client


def test_token_is_fetched_once_and_reused():
    kivra = Kivra()
    client = client_for(kivra)
    for _ in range(3):
        client.send_content("t", b"{}")
    assert kivra.auth_calls == 1
    assert {r.headers["authorization"] for r in kivra.api_requests} == {"Bearer token-1"}


def test_token_is_renewed_shortly_before_it_expires():
    now = [0.0]
    kivra = Kivra(expires_in=3600)
    client = client_for(kivra, clock=lambda: now[0])
    client.send_content("t", b"{}")
    now[0] = 3600 - 300 - 1  # the margin is 10 % of the lifetime, at most five minutes
    client.send_content("t", b"{}")
    assert kivra.auth_calls == 1
    now[0] = 3600 - 300
    client.send_content("t", b"{}")
    assert kivra.auth_calls == 2


def test_concurrent_senders_share_one_authentication():
    kivra = Kivra()
    client = client_for(kivra)
    start = threading.Barrier(16)
    threads = [threading.Thread(target=lambda: (start.wait(), client.send_content("t", b"{}"))) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert kivra.auth_calls == 1 and len(kivra.api_requests) == 16


@pytest.mark.parametrize("status, code", [(401, 40100), (400, 40015), (401, 40015)])
def test_expired_or_invalid_token_reauthenticates_once_and_retries(status, code):
    kivra = Kivra(error(status, code))
    client = client_for(kivra)
    sent = client.send_content("t", b'{"a":1}')
    assert sent.key == "k1"
    assert kivra.auth_calls == 2
    assert [r.headers["authorization"] for r in kivra.api_requests] == ["Bearer token-1", "Bearer token-2"]


def test_a_token_refused_twice_is_an_error_not_a_loop():
    kivra = Kivra(error(401, 40100), error(401, 40100), error(401, 40100))
    with pytest.raises(TokenRejected):
        client_for(kivra).send_content("t", b"{}")
    assert kivra.auth_calls == 2 and len(kivra.api_requests) == 2


def test_recipient_not_eligible_is_not_a_token_problem():
    kivra = Kivra(error(401, 40105, "Invalid Sendrequest"))
    with pytest.raises(RecipientNotEligible) as raised:
        client_for(kivra).send_content("t", b"{}")
    assert kivra.auth_calls == 1 and len(kivra.api_requests) == 1
    assert raised.value.correlation_id == "corr-40105" and raised.value.status == 401


@pytest.mark.parametrize("answer", [error(500, 50000), error(503, 50301), error(429, 42900), error(429, 40000),
                                    error(502, 40001),
                                    httpx.ReadTimeout("slow"), httpx.ConnectError("refused")])
def test_retryable_failures_are_retried_with_the_identical_bytes(answer):
    kivra = Kivra(answer, answer)
    client = client_for(kivra)
    body = json.dumps({"ssn": PNR, "subject": "Lönebesked"}, ensure_ascii=False).encode()
    assert client.send_content("t", body).key == "k1"
    assert [r.content for r in kivra.api_requests] == [body, body, body]
    assert len(client.sleeps) == 2


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    kivra = Kivra(*[error(503, 50301)] * 6)
    client = client_for(kivra, max_attempts=7, backoff=1.0, backoff_cap=4.0)
    client.send_content("t", b"{}")
    ceilings = [1, 2, 4, 4, 4, 4]
    assert all(0 <= slept <= ceiling for slept, ceiling in zip(client.sleeps, ceilings))
    assert len(client.sleeps) == 6


def test_retries_stop_at_the_limit_with_the_last_error():
    kivra = Kivra(*[error(503, 50301)] * 5)
    with pytest.raises(ServerError) as raised:
        client_for(kivra, max_attempts=3).send_content("t", b"{}")
    assert len(kivra.api_requests) == 3 and raised.value.code == 50301


def test_timeouts_that_never_end_become_a_transport_error():
    kivra = Kivra(*[httpx.ReadTimeout("slow")] * 3)
    with pytest.raises(TransportError):
        client_for(kivra, max_attempts=3).send_content("t", b"{}")


@pytest.mark.parametrize("answer, kind", [(error(400, 40009), InvalidSSN), (error(409, "40915"), TenantConflict),
                                          (error(400, 40001), Exception)])
def test_other_client_errors_are_never_retried(answer, kind):
    kivra = Kivra(answer)
    with pytest.raises(kind) as raised:
        client_for(kivra).send_content("t", b"{}")
    assert len(kivra.api_requests) == 1
    assert raised.value.code == int(answer.json()["code"])


def test_wrong_credentials_fail_at_once():
    def refuse(request):
        return error(401, 40104)
    client = KivraClient("http://kivra.test", "id", "wrong", transport=httpx.MockTransport(refuse), sleep=lambda s: None)
    with pytest.raises(InvalidClient):
        client.send_content("t", b"{}")


def test_a_rate_limit_that_persists_surfaces_as_rate_limited():
    kivra = Kivra(*[error(429, 42900)] * 5)
    with pytest.raises(RateLimited):
        client_for(kivra, max_attempts=2).send_content("t", b"{}")


def test_error_answers_without_a_kivra_body_still_have_a_type():
    kivra = Kivra(httpx.Response(502, text="<html>bad gateway</html>"), httpx.Response(201, headers={"kivra-objkey": "k"}))
    assert client_for(kivra).send_content("t", b"{}").key == "k"


def test_retained_header_is_read():
    kivra = Kivra(httpx.Response(201, headers={"kivra-objkey": "k9", "kivra-retained": "true", "x-correlation-id": "c"}))
    sent = client_for(kivra).send_content("t", b"{}")
    assert (sent.key, sent.retained, sent.correlation_id) == ("k9", True, "c")


def test_usermatch_batches_stay_under_the_limit():
    numbers = [f"19{i:010d}" for i in range(1000)]
    batches = list(_batches(numbers, 2_000))
    assert sum(len(b) for b in batches) == 1000 and len(batches) > 1
    assert all(len(json.dumps({"list": b}, separators=(",", ":"))) <= 2_000 for b in batches)
    assert list(_batches([], 2_000)) == []


def test_usermatch_returns_the_union_of_batches(monkeypatch):
    monkeypatch.setattr("kivra.sender_api.client.USERMATCH_LIMIT_BYTES", 200)
    numbers = [f"19{i:010d}" for i in range(40)]
    answers = []

    def kivra(request):
        if request.url.path == "/v1/auth":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 100})
        asked = json.loads(request.content)["list"]
        answers.append(asked)
        return httpx.Response(200, json={"list": asked[::2]})

    client = KivraClient("http://kivra.test", "id", "s", transport=httpx.MockTransport(kivra))
    eligible = client.usermatch("t", numbers)
    assert len(answers) > 1 and eligible == {n for batch in answers for n in batch[::2]}


def test_nothing_logged_contains_a_personnummer_or_token(caplog):
    caplog.set_level(logging.DEBUG)
    kivra = Kivra(error(503, 50301), error(400, 40009))
    body = json.dumps({"ssn": PNR}).encode()
    with pytest.raises(InvalidSSN) as raised:
        client_for(kivra).send_content("t", body)
    logged = caplog.text + str(raised.value)
    assert PNR not in logged and "token-1" not in logged and "secret" not in logged
    assert "50301" in caplog.text
