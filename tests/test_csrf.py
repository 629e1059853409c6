"""Every state change needs the form's CSRF token; a GET changes nothing."""
import re
from datetime import date

import pytest

from kivra.payroll import service
from tests.conftest import make_employee, text

STATE_CHANGES = [
    "/logout", "/language", "/employees/new", "/employees/{employee}/edit", "/runs", "/runs/{run}/calculate",
    "/runs/{run}/post", "/runs/{run}/sync", "/payslips/{payslip}/lines", "/payslips/{payslip}/lines/{line}/delete",
    "/payslips/{payslip}/correct",
]


@pytest.fixture
def ids(company):
    employee = make_employee(company)
    run = service.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    payslip = run.payslips[0]
    return {"employee": employee.id, "run": run.id, "payslip": payslip.id, "line": payslip.lines[0].id}


@pytest.mark.parametrize("htmx", [False, True])
def test_post_without_csrf_token_is_refused_and_changes_nothing(as_admin, ids, lang, htmx):
    for template in STATE_CHANGES:
        url = template.format(**ids)
        response = as_admin.post(url, {"kind": "addition", "description": "x", "amount": "5"}, htmx=htmx, csrf=False)
        assert response.status_code == 400, url
        assert {"sv": "säkerhetstoken", "en": "security token"}[lang] in text(response)
    assert as_admin.get("/runs").status_code == 200  # still signed in: logout was refused too
    assert as_admin.get(f"/runs/{ids['run']}").status_code == 200
    from kivra.extensions import db
    from kivra.payroll.models import PayrollRun

    run = db.session.get(PayrollRun, ids["run"])
    assert run.is_draft and len(run.payslips[0].lines) == 1


def test_htmx_token_header_is_accepted(as_admin, ids):
    response = as_admin.raw.post(
        f"/payslips/{ids['payslip']}/lines",
        data={"kind": "addition", "description": "Bonus", "amount": "100"},
        headers={"HX-Request": "true", "X-CSRFToken": as_admin.token},
    )
    assert response.status_code == 200


def test_every_page_carries_the_token_for_htmx(as_admin, ids):
    # The signed token carries a timestamp, so compare what matters: the page's header token is accepted.
    found = re.search(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", as_admin.get("/runs").get_data(as_text=True))
    assert found, "the page has no hx-headers with the CSRF token"
    response = as_admin.raw.post(
        f"/payslips/{ids['payslip']}/lines",
        data={"kind": "addition", "description": "Bonus", "amount": "100"},
        headers={"HX-Request": "true", "X-CSRFToken": found.group(1)},
    )
    assert response.status_code == 200


@pytest.mark.parametrize("url", ["/runs/{run}/calculate", "/runs/{run}/post", "/payslips/{payslip}/correct"])
def test_state_changing_routes_refuse_get(as_admin, ids, url):
    assert as_admin.get(url.format(**ids)).status_code == 405
