"""The employee register: list, add, edit, with errors in the user's language, inline and on a plain POST."""
import pytest
from sqlalchemy import select

from kivra.employees.models import Employee
from kivra.extensions import db
from tests.conftest import make_employee, text

pytestmark = pytest.mark.both_databases

VALID = {
    "name": "Björn Åkesson",
    "personnummer": "19770103-2380",
    "email": "bjorn@example.se",
    "employment_start": "2021-03-01",
    "monthly_salary": "32 500,50",
    "tax_rate": "31,5",
    "bank_account": "8327-9 123 456 789-0",
}
MESSAGES = {
    "checksum": {"sv": "kontrollsiffra", "en": "check digit"},
    "format": {"sv": "ÅÅÅÅMMDD-NNNN", "en": "YYYYMMDD-NNNN"},
    "duplicate": {"sv": "har redan det här personnumret", "en": "already has this personnummer"},
    "salary": {"sv": "Skriv beloppet som ett vanligt tal", "en": "Write the amount as a plain number"},
    "required_name": {"sv": "Ange den anställdas namn", "en": "Enter the employee's name"},
    "coordination": {"sv": "samordningsnummer", "en": "samordningsnummer"},
    "kivra": {"sv": "Kivra", "en": "Kivra"},
}


def stored(name):
    return db.session.scalar(select(Employee).where(Employee.name == name))


@pytest.mark.parametrize("typed", ["19770103-2380", "197701032380", "770103-2380"])
def test_add_employee_stores_twelve_digits(as_admin, typed):
    response = as_admin.post("/employees/new", {**VALID, "personnummer": typed})
    assert response.status_code == 303
    employee = stored("Björn Åkesson")
    assert employee.personnummer == "197701032380"
    assert employee.monthly_salary_ore == 3_250_050
    assert str(employee.tax_rate) == "31.50"
    assert employee.email == "bjorn@example.se"


def test_list_masks_personnummer_and_formats_money(as_admin, company, lang):
    make_employee(company, name="Astrid Lindqvist", monthly_salary_ore=3_250_000)
    page = text(as_admin.get("/employees"))
    assert "19121212-****" in page and "191212121212" not in page and "19121212-1212" not in page
    assert {"sv": "32 500,00 kr", "en": "SEK 32,500.00"}[lang] in page


@pytest.mark.parametrize("htmx", [False, True])
def test_bad_personnummer_error_is_shown_in_language(as_admin, lang, htmx):
    response = as_admin.post("/employees/new", {**VALID, "personnummer": "19770103-2381"}, htmx=htmx)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert MESSAGES["checksum"][lang] in text(response)
    assert ('id="employee_form"' in body) and (("<html" in body) is not htmx)
    assert 'aria-invalid="true"' in body
    assert stored("Björn Åkesson") is None
    # what the user typed is kept
    assert 'value="19770103-2381"' in body and 'value="Björn Åkesson"' in body


@pytest.mark.parametrize("htmx", [False, True])
def test_every_missing_field_is_named(as_admin, lang, htmx):
    response = as_admin.post("/employees/new", {"personnummer": "nonsense"}, htmx=htmx)
    assert response.status_code == 422
    page = text(response)
    assert MESSAGES["required_name"][lang] in page
    assert MESSAGES["format"][lang] in page


def test_bad_salary_and_tax_rate(as_admin, lang):
    response = as_admin.post("/employees/new", {**VALID, "monthly_salary": "lots", "tax_rate": "150"})
    assert response.status_code == 422
    page = text(response)
    assert MESSAGES["salary"][lang] in page
    assert {"sv": "mellan 0 och 100", "en": "between 0 and 100"}[lang] in page


def test_bad_email_and_date(as_admin, lang):
    response = as_admin.post("/employees/new", {**VALID, "email": "not-an-address", "employment_start": "2021-13-45"})
    assert response.status_code == 422
    page = text(response)
    assert {"sv": "giltig e-postadress", "en": "valid e-mail address"}[lang] in page
    assert {"sv": "Ange anställningsdatumet som ÅÅÅÅ-MM-DD", "en": "Enter the employment start date as YYYY-MM-DD"}[lang] in page


def test_email_and_bank_account_are_optional(as_admin):
    response = as_admin.post("/employees/new", {**VALID, "email": "", "bank_account": ""})
    assert response.status_code == 303
    employee = stored("Björn Åkesson")
    assert employee.email is None and employee.bank_account is None


def test_personnummer_is_unique_within_the_company(as_admin, company, lang):
    make_employee(company, personnummer="197701032380")
    response = as_admin.post("/employees/new", {**VALID, "personnummer": "770103-2380"})
    assert response.status_code == 422
    assert MESSAGES["duplicate"][lang] in text(response)


def test_the_same_person_may_work_for_another_company(as_admin, other_company):
    make_employee(other_company, personnummer="197701032380")
    assert as_admin.post("/employees/new", VALID).status_code == 303


def test_samordningsnummer_is_accepted_and_flagged(as_admin, lang):
    response = as_admin.post("/employees/new", {**VALID, "personnummer": "19701063-2391"})
    assert response.status_code == 303
    assert stored("Björn Åkesson").personnummer == "197010632391"
    page = text(as_admin.get("/employees"))
    assert {"sv": "Samordningsnummer: accepteras inte av Kivra", "en": "Samordningsnummer: not accepted by Kivra"}[lang] in page


def test_htmx_success_redirects_to_the_list(as_admin):
    response = as_admin.post("/employees/new", VALID, htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/employees"


def test_edit_keeps_values_and_saves_changes(as_admin, company):
    employee = make_employee(company)
    form = as_admin.get(f"/employees/{employee.id}/edit").get_data(as_text=True)
    assert 'value="19121212-1212"' in form and 'value="32500,00"' in form and 'value="30,00"' in form
    data = {**VALID, "name": "Astrid Ny", "personnummer": "19121212-1212", "monthly_salary": "33000"}
    assert as_admin.post(f"/employees/{employee.id}/edit", data).status_code == 303
    db.session.expire_all()
    assert employee.name == "Astrid Ny" and employee.monthly_salary_ore == 3_300_000


def test_saving_an_employee_with_its_own_number_is_not_a_duplicate(as_admin, company):
    employee = make_employee(company)
    data = {**VALID, "personnummer": "191212121212"}
    assert as_admin.post(f"/employees/{employee.id}/edit", data).status_code == 303


def test_names_with_markup_render_as_text(as_admin, company):
    make_employee(company, name='<script>alert("x")</script> O\'Brien "Jr"')
    body = as_admin.get("/employees").get_data(as_text=True)
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; O&#39;Brien &#34;Jr&#34;" in body


def test_payroll_user_may_manage_employees(as_payroll):
    assert as_payroll.post("/employees/new", VALID).status_code == 303


def test_employment_end_is_optional_and_not_before_the_start(as_admin, lang):
    response = as_admin.post("/employees/new", {**VALID, "employment_end": "2020-01-01"})
    assert response.status_code == 422
    assert {"sv": "kan inte sluta innan den börjar", "en": "cannot end before it starts"}[lang] in text(response)
    assert as_admin.post("/employees/new", {**VALID, "employment_end": "2026-12-31"}).status_code == 303
    assert str(stored("Björn Åkesson").employment_end) == "2026-12-31"


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("typed, message", [
    ("20150916-0006", {"sv": "födelsenummer (de tre siffrorna efter datumet) kan inte vara 000",
                       "en": "birth number (the three digits after the date) cannot be 000"}),
    ("090527 1474", {"sv": "säger ett mellanslag inte vilket århundrade",
                     "en": "a space does not say which century"}),
])
def test_a_number_skatteverket_never_gives_is_refused_with_the_reason_keeping_what_was_typed(
        as_admin, lang, htmx, typed, message):
    response = as_admin.post("/employees/new", {**VALID, "personnummer": typed}, htmx=htmx)
    assert response.status_code == 422
    assert message[lang] in text(response)
    assert f'value="{typed}"' in response.get_data(as_text=True)
    assert stored("Björn Åkesson") is None


@pytest.mark.parametrize("typed", ["19090527+1474", "19090527 1474", "090527+1474"])
def test_a_centenarian_written_any_standard_way_is_stored_as_one_number(as_admin, typed):
    response = as_admin.post("/employees/new", {**VALID, "personnummer": typed})
    assert response.status_code == 303
    assert stored("Björn Åkesson").personnummer == "190905271474"
