"""POST /v2/tenant/{tenantKey}/content: a valid payslip is delivered; each broken rule gets Kivra's code."""
import re

import pytest

from kivra.demo import employee_numbers
from tests.sandbox.conftest import DEMO_VAT, assert_kivra_error, ledger
from tests.sandbox.payloads import HTML, PDF, USER, b64, letter_content, salaryslip, salaryslip_content

EMPLOYEES = employee_numbers()
NOT_USER, OPTED_OUT, DORMANT, SAMORDNINGSNUMMER = EMPLOYEES[18], EMPLOYEES[20], EMPLOYEES[21], EMPLOYEES[24]


def _send(http, tenant, body):
    return http.post(f"/v2/tenant/{tenant.key}/content", json=body, headers=tenant.headers)


def _with_part(**changes) -> dict:
    part = {"name": "a.pdf", "data": b64(PDF), "content_type": "application/pdf", **changes}
    return salaryslip_content(parts=[{k: v for k, v in part.items() if v is not None}])


def _with_html(html: str, content_type="text/html") -> dict:
    return _with_part(responsive_part={"name": "a.html", "data": b64(html), "content_type": content_type})


def _slip_without(*path) -> dict:
    slip = salaryslip()
    node = slip
    for name in path[:-1]:
        node = node[name]
    del node[path[-1]]
    return salaryslip_content(salaryslip=slip)


def test_a_valid_salaryslip_is_created_and_delivered(http, sandbox, demo_tenant):
    response = _send(http, demo_tenant, salaryslip_content())
    assert response.status_code == 201
    assert response.json() == {
        "subject": "Lönebesked januari 2026", "generated_at": "2026-01-31", "type": "salaryslip"}
    key = response.headers["kivra-objkey"]
    assert re.fullmatch(r"\d{10}[0-9a-f]{32}", key)
    assert response.headers["location"] == f"{sandbox.url}/v2/tenant/{demo_tenant.key}/content/{key}"
    assert "kivra-retained" not in response.headers
    assert response.headers["x-correlation-id"]
    [entry] = ledger(http)["contents"]
    assert entry["key"] == key and entry["recipient"] == USER and entry["recipient_type"] == "ssn"
    assert (entry["retained"], entry["received_count"], entry["delivered_count"]) == (False, 1, 1)


def test_line_wrapped_base64_is_accepted_as_base64(http, sandbox, demo_tenant):
    wrapped = "\r\n".join(re.findall(".{1,76}", b64(PDF)))  # MIME-style lines
    response = _send(http, demo_tenant, _with_part(data=wrapped))
    assert response.status_code == 201
    assert ledger(http)["contents"][-1]["subject"] == "Lönebesked januari 2026"


def test_the_minimum_metadata_is_a_recipient_subject_and_type(http, demo_tenant):
    assert _send(http, demo_tenant, {"ssn": USER, "subject": "Hej", "type": "letter"}).status_code == 201


@pytest.mark.parametrize("body, status, code", [
    (salaryslip_content(ssn=None), 400, 40024),
    (salaryslip_content(email="anna@example.com"), 400, 40001),
    (salaryslip_content(subject=None), 400, 40001),
    (salaryslip_content(subject="   "), 400, 40001),
    (salaryslip_content(subject="x" * 36), 400, 40001),
    (salaryslip_content(type=None), 400, 40001),
    (salaryslip_content(type="payslip"), 400, 40012),
    (salaryslip_content(ssn="19121212121"), 400, 40009),
    (salaryslip_content(ssn="19121212-1212"), 400, 40009),
    (salaryslip_content(ssn="191213321212"), 400, 40009),
    (salaryslip_content(ssn="191212121213"), 400, 40009),
    (salaryslip_content(ssn=SAMORDNINGSNUMMER), 400, 40009),
    (salaryslip_content(ssn=191212121212), 400, 40009),
    (letter_content(ssn=None, vat_number="5568402266"), 400, 40001),
    (letter_content(ssn=None, email="not-an-address"), 400, 40007),
    (salaryslip_content(generated_at="yesterday"), 400, 40001),
    (salaryslip_content(parts={"name": "a.pdf"}), 400, 40001),
    (_with_part(content_type=None), 400, 40019),
    (_with_part(data="this is not base64!"), 400, 40019),
    (_with_part(content_type="image/png"), 400, 40028),
    (_with_part(data=b64(b"DEADBEEF")), 400, 40019),
    (_with_html(HTML, content_type="text/plain"), 400, 40028),
    (_with_html("<p>Hej</p><SCRIPT>alert(1)</SCRIPT>"), 400, 40019),
    (_with_html('<img src="x" onerror="alert(1)">'), 400, 40019),
    (_with_html('<img src="https://tracker.example/pixel.png">'), 400, 40019),
    (salaryslip_content(salaryslip=None), 400, 40059),
    (_slip_without("pay_period"), 400, 40059),
    (_slip_without("employment", "employer", "legal_identifiers", "org_number"), 400, 40059),
    (salaryslip_content(salaryslip={**salaryslip(), "bonus": "yes"}), 400, 40059),
    (letter_content(salaryslip=salaryslip()), 400, 40059),
    (letter_content(retain=True), 422, 42221),
    (salaryslip_content(retain="yes"), 400, 40001),
    (salaryslip_content(retain=True, retention_time="60"), 400, 40001),
    (salaryslip_content(retain=True, retention_time=30), 400, 40001),
])
def test_each_broken_rule_gets_kivras_code(http, demo_tenant, body, status, code):
    assert_kivra_error(_send(http, demo_tenant, body), status, code)
    assert ledger(http)["contents"] == []


def test_schema_violation_names_where_in_the_salaryslip(http, demo_tenant):
    slip = salaryslip()
    slip["pay_period"]["end_date"] = "31 januari"
    body = assert_kivra_error(_send(http, demo_tenant, salaryslip_content(salaryslip=slip)), 400, 40059)
    assert "salaryslip.pay_period.end_date" in body["long_message"]


def test_malformed_json_and_a_non_object_body(http, demo_tenant):
    path = f"/v2/tenant/{demo_tenant.key}/content"
    headers = {**demo_tenant.headers, "content-type": "application/json"}
    assert_kivra_error(http.post(path, content=b'{"ssn": "191212121212",', headers=headers), 400, 40008)
    assert_kivra_error(http.post(path, content=b'{"subject": NaN}', headers=headers), 400, 40008)
    assert_kivra_error(http.post(path, content=b"[1, 2]", headers=headers), 400, 40026)


def test_a_content_over_1_mb_is_41300(http, demo_tenant):
    big = _with_part(data=b64(PDF + b"0" * 800_000))
    assert_kivra_error(_send(http, demo_tenant, big), 413, 41300)


def test_not_a_user_without_retain_is_40105_and_nothing_is_stored(http, demo_tenant):
    for ssn in (NOT_USER, OPTED_OUT, "197001012017"):
        assert_kivra_error(_send(http, demo_tenant, salaryslip_content(ssn=ssn)), 401, 40105)
    assert ledger(http)["contents"] == []


def test_retain_holds_content_for_a_non_user_and_says_so(http, demo_tenant):
    response = _send(http, demo_tenant, salaryslip_content(ssn=NOT_USER, retain=True, retention_time="390"))
    assert response.status_code == 201 and response.headers["kivra-retained"] == "true"
    unknown = _send(http, demo_tenant, salaryslip_content(ssn="197001012017", retain=True))
    assert unknown.headers["kivra-retained"] == "true"
    entries = ledger(http)["contents"]
    assert [(e["retained"], e["retention_days"]) for e in entries] == [(True, 390), (True, 30)]


def test_retain_does_not_override_an_opt_out(http, demo_tenant):
    # Retain is for people who are not in Kivra yet; someone who declined this sender is in Kivra.
    opted_out = _send(http, demo_tenant, salaryslip_content(ssn=OPTED_OUT, retain=True))
    assert_kivra_error(opted_out, 401, 40105)
    assert ledger(http)["contents"] == []


def test_retained_content_is_delivered_when_the_recipient_becomes_a_user(http, demo_tenant):
    _send(http, demo_tenant, salaryslip_content(ssn=NOT_USER, retain=True))
    assert http.post("/_sandbox/recipients", json={NOT_USER: "user"}).json() == {"updated": 1, "released": 1}
    assert ledger(http)["contents"][0]["retained"] is False


def test_unknown_paths_and_methods_answer_in_kivras_error_shape(http):
    assert_kivra_error(http.get("/v2/nothing"), 404, 40400)
    not_allowed = http.put("/v1/auth")
    assert_kivra_error(not_allowed, 405, 40500)
    assert "POST" in not_allowed.headers["allow"]


def test_retain_for_a_user_simply_delivers(http, demo_tenant):
    response = _send(http, demo_tenant, salaryslip_content(retain=True))
    assert response.status_code == 201 and "kivra-retained" not in response.headers
    assert ledger(http)["contents"][0]["retained"] is False


def test_a_dormant_user_still_receives_although_matching_hides_them(http, demo_tenant):
    # Kivra: "During this dormant state the Recipient won't show up in any of user or company matching
    # functionalities but the Tenant can still send Content which the Recipient will receive."
    response = _send(http, demo_tenant, salaryslip_content(ssn=DORMANT))
    assert response.status_code == 201 and "kivra-retained" not in response.headers


def test_company_and_email_recipients(http, demo_tenant):
    company = _send(http, demo_tenant, letter_content(ssn=None, vat_number=DEMO_VAT))
    assert company.status_code == 201
    assert _send(http, demo_tenant, letter_content(ssn=None, email="anna@example.com")).status_code == 201
    stranger = letter_content(ssn=None, vat_number="SE559408724801")
    assert_kivra_error(_send(http, demo_tenant, stranger), 401, 40105)
    assert_kivra_error(_send(http, demo_tenant, letter_content(ssn=None, vat_number=DEMO_VAT, type="salaryslip")),
                       400, 40012)
    assert [e["recipient_type"] for e in ledger(http)["contents"]] == ["vat_number", "email"]


def test_content_for_a_tenant_outside_the_token_is_403_and_unknown_is_404(http, demo_tenant):
    path = "/v2/tenant/1424780396902ee9278b16417f8e3252c3ced28c38/content"
    assert_kivra_error(http.post(path, json=salaryslip_content(), headers=demo_tenant.headers), 404, 40400)
    assert_kivra_error(http.post(f"/v2/tenant/{demo_tenant.key}/content", json=salaryslip_content()), 401, 40100)
