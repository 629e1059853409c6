"""With 20 % server errors and 5 % lost answers (half of them after delivery), 200 payslips arrive exactly once."""
from concurrent.futures import ThreadPoolExecutor

import httpx

from kivra.identity import with_check_digit
from kivra.sender_api import KivraClient
from tests.kivra_samples import payslip

SENDS = 200


def test_every_payslip_is_delivered_exactly_once_despite_faults(sandbox, tenant, admin):
    people = [with_check_digit(f"1980{1 + i % 12:02d}{1 + i % 28:02d}{i:03d}") for i in range(SENDS)]
    assert len(set(people)) == SENDS
    admin.recipients(dict.fromkeys(people, "user"))
    admin.faults(error_rate=0.20, timeout_before_rate=0.025, timeout_after_rate=0.025, hang_seconds=0.6)
    bodies = {ssn: payslip(ssn) for ssn in people}  # made once; a retry sends these exact bytes

    with KivraClient(sandbox.url, "sandbox-client", "sandbox-secret", timeout=httpx.Timeout(0.4, connect=1.0),
                     max_attempts=12, backoff=0.005, backoff_cap=0.05) as client:
        with ThreadPoolExecutor(max_workers=8) as pool:
            keys = list(pool.map(lambda ssn: client.send_content(tenant, bodies[ssn]).key, people))

    ledger = admin.ledger()
    delivered = [c for c in ledger["contents"]]
    assert len(delivered) == SENDS  # none lost, none stored twice
    assert sorted(c["recipient"] for c in delivered) == sorted(people)
    assert all(c["delivered_count"] == 1 for c in delivered)
    assert set(keys) == {c["key"] for c in delivered}
    assert sum(c["received_count"] for c in delivered) > SENDS  # the faults really happened and were retried
