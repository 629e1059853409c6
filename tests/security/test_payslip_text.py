"""The payslip PDF prints every character it is given, or refuses loudly: nothing vanishes from a payslip."""
import io
from datetime import date

import pytest
from pypdf import PdfReader

from kivra import create_app
from kivra.payroll import pdf, service
from kivra.payroll.printable import UnprintableText, check_printable, printable, unprintable_character
from tests.conftest import make_employee, text
from tests.unit.test_pdf_speed_invariants import document

LATIN_EXTENDED = "Łukasz Żółć-Wiśniewski, Nguyễn Thị Đặng, Gülşen Öztürk, Ærø Ståhl, Ωμέγα Ζαχαρίου, Жуков"


@pytest.fixture(scope="module", autouse=True)
def app_context():
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})  # rendering reads no database
    with app.app_context():
        yield


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_latin_extended_greek_and_cyrillic_names_are_printed_whole():
    content = pdf.render(document(employee_name=LATIN_EXTENDED, company_name="Dziękuję Sp. z o.o.", lines=[
        {"kind": "salary", "description": "", "amount_ore": 3_250_000},
        {"kind": "addition", "description": "Tăng ca – Überstunden", "amount_ore": 50_000},
    ]))
    text = pdf_text(content)
    for expected in (*LATIN_EXTENDED.split(", "), "Dziękuję Sp. z o.o.", "Tăng ca – Überstunden"):
        assert expected in text


def test_a_decomposed_letter_is_printed_composed():
    text = pdf_text(pdf.render(document(employee_name="Rene\u0301e Lindqvist")))
    assert "Renée Lindqvist" in text


def test_a_text_holding_a_page_count_placeholder_is_printed_as_typed():
    """fpdf2 replaced "{nb}" in any text by the page count: a name or description holding it lost it."""
    text = pdf_text(pdf.render(document(employee_name="Anna {nb} Ek", company_name="{nb} AB", lines=[
        {"kind": "addition", "description": "Bonus {nb}", "amount_ore": 100}])))
    assert "Anna {nb} Ek" in text and "Bonus {nb}" in text and "{nb} AB" in text


@pytest.mark.parametrize("field, value, char", [
    ("employee_name", "Astrid 😀 Lindqvist", "😀"),
    ("employee_name", "李小龍", "李"),
    ("company_name", "שלום AB", "ש"),
    ("bank_account", "8327-9\u202e123", "\u202e"),
    ("lines", [{"kind": "addition", "description": "Bonus 🎉", "amount_ore": 100}], "🎉"),
])
def test_a_character_the_font_lacks_is_refused_loudly_never_dropped(field, value, char):
    with pytest.raises(UnprintableText) as refused:
        pdf.render(document(**{field: value}))
    assert refused.value.char == char
    assert f"U+{ord(char):04X}" in str(refused.value)


def test_the_printable_set_comes_from_the_fonts():
    chars = printable()
    assert {"Å", "ł", "ễ", "ğ", "Ω", "Ж", "€", "–"} <= chars
    assert not {"\x00", "\n", "\t", "\x85", "\u2028", "\u2029", "\u202e", "\u200b", "😀", "李", "ש"} & chars
    assert unprintable_character("Åsa Öberg") is None and unprintable_character("Åsa\u00adÖberg") == "\u00ad"
    assert check_printable("Rene\u0301e") == "Renée"


@pytest.mark.both_databases
@pytest.mark.parametrize("htmx", [False, True])
def test_a_run_with_a_name_typed_before_the_rule_is_not_calculated(as_admin, company, lang, htmx):
    make_employee(company, name="Astrid 😀 Lindqvist")  # old data: the form refuses it now
    run = service.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    response = as_admin.post(f"/runs/{run.id}/calculate", htmx=htmx)
    page = text(as_admin.get(f"/runs/{run.id}"))
    assert {"sv": "Tecknet ”😀” (U+1F600) kan inte skrivas ut på lönebeskedet",
            "en": "The character “😀” (U+1F600) cannot be printed on the payslip"}[lang] in page
    assert response.status_code in (204, 303)  # htmx: HX-Redirect
    run = service.db.session.get(service.PayrollRun, run.id)
    assert run.is_draft and not run.payslips[0].versions
