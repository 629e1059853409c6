"""usermatch/ssn and companymatch/vatnr: only recipients the tenant can reach right now, in request order."""
from kivra.demo import employee_numbers
from tests.sandbox.conftest import DEMO_VAT, assert_kivra_error

EMPLOYEES = employee_numbers()


def _usermatch(http, tenant, ssns):
    return http.post(f"/v2/tenant/{tenant.key}/usermatch/ssn", json={"list": ssns}, headers=tenant.headers)


def test_usermatch_keeps_only_users_in_request_order(http, demo_tenant):
    asked = ["198112172385", EMPLOYEES[18], "191212121212", EMPLOYEES[20], EMPLOYEES[21], EMPLOYEES[24], EMPLOYEES[0]]
    response = _usermatch(http, demo_tenant, asked)
    assert response.status_code == 200
    assert response.json() == {"list": ["198112172385", "191212121212", EMPLOYEES[0]]}


def test_default_registry_gives_the_demo_employees_their_statuses(http, demo_tenant):
    matched = set(_usermatch(http, demo_tenant, EMPLOYEES).json()["list"])
    assert matched == set(EMPLOYEES[:18] + EMPLOYEES[22:24])


def test_each_registry_status_and_unknown_numbers(http, demo_tenant):
    ssn = EMPLOYEES[5]
    for status, expected in (("user", [ssn]), ("not_user", []), ("opted_out", []), ("dormant", [])):
        assert http.post("/_sandbox/recipients", json={ssn: status}).status_code == 200
        assert _usermatch(http, demo_tenant, [ssn]).json()["list"] == expected, status
    assert _usermatch(http, demo_tenant, ["197001012017"]).json()["list"] == []  # valid, never heard of


def test_a_samordningsnummer_or_a_bad_number_never_matches_even_if_registered(http, demo_tenant):
    http.post("/_sandbox/recipients", json={EMPLOYEES[24]: "user", "191212121213": "user"})
    assert _usermatch(http, demo_tenant, [EMPLOYEES[24], "191212121213", "1912121212", "abc"]).json() == {"list": []}


def test_an_empty_list_matches_nothing(http, demo_tenant):
    assert _usermatch(http, demo_tenant, []).json() == {"list": []}


def test_usermatch_over_10_mb_is_41300(http, demo_tenant):
    ssns = ["191212121212"] * 700_000  # 15 bytes each: about 10.5 MB
    assert_kivra_error(_usermatch(http, demo_tenant, ssns), 413, 41300)


def test_usermatch_refuses_malformed_json_and_a_missing_list(http, demo_tenant):
    path = f"/v2/tenant/{demo_tenant.key}/usermatch/ssn"
    headers = {**demo_tenant.headers, "content-type": "application/json"}
    assert_kivra_error(http.post(path, content=b"{list: [1]}", headers=headers), 400, 40008)
    assert_kivra_error(http.post(path, json={"ssns": []}, headers=demo_tenant.headers), 400, 40001)
    assert_kivra_error(http.post(path, json={"list": "191212121212"}, headers=demo_tenant.headers), 400, 40001)
    assert_kivra_error(http.post(path, json=["191212121212"], headers=demo_tenant.headers), 400, 40026)


def test_companymatch_keeps_company_recipients(http, demo_tenant):
    response = http.post(f"/v2/tenant/{demo_tenant.key}/companymatch/vatnr",
                         json={"list": ["SE559408724801", DEMO_VAT, "SE556917354401"]}, headers=demo_tenant.headers)
    assert response.status_code == 200 and response.json() == {"list": [DEMO_VAT]}
