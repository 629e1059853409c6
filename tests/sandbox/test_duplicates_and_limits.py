"""Duplicate control (same payload but `generated_at` → delivered once) and 50 contents per recipient per minute."""
import json

from kivra.demo import employee_numbers
from tests.sandbox.conftest import assert_kivra_error, ledger
from tests.sandbox.payloads import USER, letter_content, salaryslip_content


def _send(http, tenant, body):
    return http.post(f"/v2/tenant/{tenant.key}/content", json=body, headers=tenant.headers)


def test_a_repeated_payload_answers_201_with_the_same_key_and_is_delivered_once(http, demo_tenant):
    first = _send(http, demo_tenant, salaryslip_content())
    again = _send(http, demo_tenant, salaryslip_content(generated_at="2026-02-01"))
    assert again.status_code == 201
    assert again.headers["kivra-objkey"] == first.headers["kivra-objkey"]
    assert again.json()["generated_at"] == "2026-02-01"
    [entry] = ledger(http)["contents"]
    assert (entry["received_count"], entry["delivered_count"]) == (2, 1)
    assert ledger(http)["deliveries_per_recipient"] == {USER: 1}


def test_the_same_payload_in_other_key_order_or_spacing_is_still_a_duplicate(http, demo_tenant):
    body = salaryslip_content()
    _send(http, demo_tenant, body)
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2).encode()
    path = f"/v2/tenant/{demo_tenant.key}/content"
    headers = {**demo_tenant.headers, "content-type": "application/json"}
    assert http.post(path, content=reordered, headers=headers).status_code == 201
    assert len(ledger(http)["contents"]) == 1


def test_any_other_change_is_a_new_content(http, demo_tenant):
    first = _send(http, demo_tenant, salaryslip_content())
    changed = _send(http, demo_tenant, salaryslip_content(subject="Lönebesked januari 2026 (rättad)"))
    assert changed.headers["kivra-objkey"] != first.headers["kivra-objkey"]
    assert ledger(http)["deliveries_per_recipient"] == {USER: 2}


def test_a_repeat_of_a_retained_content_says_retained_again(http, demo_tenant):
    body = salaryslip_content(ssn=employee_numbers()[18], retain=True)
    first, again = _send(http, demo_tenant, body), _send(http, demo_tenant, body)
    assert again.headers["kivra-objkey"] == first.headers["kivra-objkey"]
    assert again.headers["kivra-retained"] == "true"


def test_with_duplicate_control_off_the_same_payload_is_delivered_twice(http, demo_tenant):
    assert http.post("/_sandbox/duplicate-control", json={"enabled": False}).json() == {"enabled": False}
    first, again = _send(http, demo_tenant, salaryslip_content()), _send(http, demo_tenant, salaryslip_content())
    assert first.headers["kivra-objkey"] != again.headers["kivra-objkey"]
    assert ledger(http)["deliveries_per_recipient"] == {USER: 2}
    assert [e["received_count"] for e in ledger(http)["contents"]] == [1, 1]


def test_the_51st_content_to_one_recipient_within_a_minute_is_42900(http, demo_tenant):
    for number in range(50):
        assert _send(http, demo_tenant, letter_content(subject=f"Brev {number}")).status_code == 201
    assert_kivra_error(_send(http, demo_tenant, letter_content(subject="Brev 50")), 429, 42900)
    other = letter_content(ssn="197701032380", subject="Brev 50")
    assert _send(http, demo_tenant, other).status_code == 201
    assert len(ledger(http)["contents"]) == 51
