"""Every text field of every form refuses control characters; the fields printed on the payslip also refuse what its
font cannot print. One mechanism (`kivra.web.forms.Form`), proven on every form class."""
import importlib
import pkgutil

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import select

import kivra.web
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.web.forms import Form
from kivra.web.text_rules import TextRule, applies_to
from tests.conftest import text
from tests.test_company_settings import VALID as SETTINGS
from tests.test_employees import VALID as EMPLOYEE

pytestmark = pytest.mark.both_databases

PRINTED = {  # form class name → its fields that reach the payslip PDF
    "EmployeeForm": {"name", "bank_account"}, "LineForm": {"description"}, "CompanySettingsForm": {"name", "street_address", "postal_code", "city", "email", "phone"},
    "SignUpForm": {"company_name"},
}
CONTROL = {"sv": "får inte innehålla radbrytningar, tabbar eller andra styrtecken", "en": "cannot hold a line break"}
UNPRINTABLE = {"sv": "Tecknet ”😀” (U+1F600) kan inte skrivas ut på lönebeskedet",
               "en": "The character “😀” (U+1F600) cannot be printed on the payslip"}


def form_classes() -> list[type]:
    for module in pkgutil.walk_packages(kivra.web.__path__, "kivra.web."):
        importlib.import_module(module.name)
    found, todo = set(), [FlaskForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("kivra.") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return sorted(found - {Form}, key=lambda cls: cls.__name__)


def test_every_text_field_of_every_form_has_the_text_rule_first(app):
    classes = form_classes()
    assert len(classes) >= 14 and set(PRINTED) <= {cls.__name__ for cls in classes}
    checked = 0
    with app.test_request_context():
        for cls in classes:
            assert issubclass(cls, Form), f"{cls.__name__} must derive from kivra.web.forms.Form"
            for field in cls():
                if not applies_to(field):
                    assert not any(isinstance(v, TextRule) for v in field.validators)
                    continue
                rule = field.validators[0]
                assert isinstance(rule, TextRule), f"{cls.__name__}.{field.short_name}"
                assert rule.printed == (field.short_name in PRINTED.get(cls.__name__, set())), field.short_name
                checked += 1
    assert checked >= 25


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("name", ["Björn\x00Åkesson", "Björn\r\n#VER Åkesson", "Björn\tÅkesson", "Björn\u2028Åkesson",
                                  "Björn\x85Åkesson", "Björn \u202eÅkesson"])
def test_a_control_character_in_a_name_is_refused_and_the_form_kept(as_admin, lang, htmx, name):
    response = as_admin.post("/employees/new", {**EMPLOYEE, "name": name}, htmx=htmx)
    assert response.status_code == 422
    assert CONTROL[lang] in text(response)
    body = response.get_data(as_text=True)
    assert 'value="19770103-2380"' in body and 'value="8327-9 123 456 789-0"' in body  # what was typed is kept
    assert ("<html" in body) is not htmx
    assert db.session.scalar(select(Employee)) is None


@pytest.mark.parametrize("htmx", [False, True])
def test_a_name_the_payslip_cannot_print_is_refused_with_the_character(as_admin, lang, htmx):
    response = as_admin.post("/employees/new", {**EMPLOYEE, "name": "Björn 😀 Åkesson"}, htmx=htmx)
    assert response.status_code == 422
    assert UNPRINTABLE[lang] in text(response)


def test_latin_extended_names_are_accepted(as_admin):
    name = "Nguyễn Thị Đặng-Wiśniewska"
    assert as_admin.post("/employees/new", {**EMPLOYEE, "name": name}).status_code == 303
    assert db.session.scalar(select(Employee.name)) == name


@pytest.mark.parametrize("description, message", [("Bonus\x00", CONTROL), ("Bonus 😀", UNPRINTABLE)])
def test_a_payslip_line_is_refused_the_same_way(as_admin, run, lang, description, message):
    payslip = run.payslips[0]
    response = as_admin.post(f"/payslips/{payslip.id}/lines",
                             {"kind": "addition", "description": description, "amount": "1000"}, htmx=True)
    assert response.status_code == 422
    assert message[lang] in text(response)


@pytest.mark.parametrize("field, typed, message", [("name", "Demo\r\nAB", CONTROL), ("name", "Demo 😀", UNPRINTABLE),
                                                   ("city", "Stock\x00holm", CONTROL),
                                                   ("city", "Stockholm 😀", UNPRINTABLE)])
def test_company_settings_are_refused_the_same_way(as_admin, lang, field, typed, message):
    response = as_admin.post("/company/settings", {**SETTINGS, field: typed})
    assert response.status_code == 422
    assert message[lang] in text(response)
    assert 'value="Storgatan 1"' in response.get_data(as_text=True)


def test_a_name_that_is_not_printed_may_hold_any_script(as_admin, lang):
    response = as_admin.post("/users/invite", {"name": "李小龍 😀", "email": "li@example.se", "role": "payroll"})
    assert response.status_code in (200, 303)
    response = as_admin.post("/users/invite", {"name": "Li\x00", "email": "li2@example.se", "role": "payroll"})
    assert response.status_code == 422 and CONTROL[lang] in text(response)
