"""A company never sees or changes another company's data: every such URL is a 404."""
from datetime import date

import pytest

from kivra.extensions import db
from kivra.payroll import service
from tests.conftest import make_employee, make_user

pytestmark = pytest.mark.both_databases


@pytest.fixture
def theirs(other_company):
    """Company B's employee, calculated and posted run, payslip and PDF."""
    employee = make_employee(other_company, name="Hemlig Person", personnummer="197701032380")
    run = service.create_run(other_company, date(2026, 10, 1), date(2026, 10, 25))
    service.calculate_run(run)
    service.post_voucher(run, make_user(other_company, "admin", email="b@annat.se"))
    payslip = run.payslips[0]
    line_id = payslip.lines[0].id
    return {"employee": employee.id, "run": run.id, "payslip": payslip.id, "line": line_id}


def urls(ids):
    return {
        "get": [
            f"/employees/{ids['employee']}/edit",
            f"/runs/{ids['run']}",
            f"/runs/{ids['run']}/send-and-post",
            f"/runs/{ids['run']}/voucher.se",
            f"/payslips/{ids['payslip']}",
            f"/payslips/{ids['payslip']}/v1.pdf",
            f"/payslips/{ids['payslip']}/v1",
        ],
        "post": [
            (f"/employees/{ids['employee']}/edit", {"name": "Changed", "personnummer": "191212121212",
             "employment_start": "2020-01-01", "monthly_salary": "1", "tax_rate": "1"}),
            (f"/runs/{ids['run']}/calculate", {}),
            (f"/runs/{ids['run']}/post", {}),
            (f"/payslips/{ids['payslip']}/lines", {"kind": "addition", "description": "x", "amount": "1"}),
            (f"/payslips/{ids['payslip']}/lines/{ids['line']}/delete", {}),
            (f"/payslips/{ids['payslip']}/correct", {}),
        ],
    }


@pytest.mark.parametrize("htmx", [False, True])
def test_another_companys_pages_and_fragments_are_not_found(as_admin, theirs, htmx):
    for url in urls(theirs)["get"]:
        response = as_admin.get(url, htmx=htmx)
        assert response.status_code == 404, url
        assert "Hemlig Person" not in response.get_data(as_text=True)


@pytest.mark.parametrize("htmx", [False, True])
def test_another_companys_data_cannot_be_changed(as_admin, theirs, htmx):
    for url, data in urls(theirs)["post"]:
        assert as_admin.post(url, data, htmx=htmx).status_code == 404, url
    from kivra.employees.models import Employee
    from kivra.payroll.models import Payslip

    db.session.expire_all()
    assert db.session.get(Employee, theirs["employee"]).name == "Hemlig Person"
    payslip = db.session.get(Payslip, theirs["payslip"])
    assert len(payslip.lines) == 1 and len(payslip.versions) == 1
    assert len(payslip.run.vouchers) == 1


def test_lists_show_only_the_own_company(as_admin, company, theirs):
    make_employee(company, name="Egen Anställd", personnummer="198112172385")
    employees = as_admin.get("/employees").get_data(as_text=True)
    assert "Egen Anställd" in employees and "Hemlig Person" not in employees
    runs = as_admin.get("/runs").get_data(as_text=True)
    assert f"/runs/{theirs['run']}\"" not in runs


def test_a_line_of_another_payslip_is_not_found_through_my_payslip(as_admin, company, theirs):
    make_employee(company, personnummer="198112172385")
    mine = service.create_run(company, date(2026, 10, 1), date(2026, 10, 25)).payslips[0]
    response = as_admin.post(f"/payslips/{mine.id}/lines/{theirs['line']}/delete")
    assert response.status_code == 404
