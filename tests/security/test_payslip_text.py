"""The payslip PDF prints every character it is given, or refuses loudly: nothing vanishes from a payslip."""
import io
import logging

import pytest
from pypdf import PdfReader

from kivra import create_app
from kivra.payroll import pdf
from kivra.payroll.printable import UnprintableText, check_printable, printable, unprintable_character
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


@pytest.mark.parametrize("field, value, char", [
    ("employee_name", "Astrid 😀 Lindqvist", "😀"),
    ("employee_name", "李小龍", "李"),
    ("company_name", "שלום AB", "ש"),
    ("bank_account", "8327-9\u202e123", "\u202e"),
    ("lines", [{"kind": "addition", "description": "Bonus 🎉", "amount_ore": 100}], "🎉"),
])
def test_a_character_the_font_lacks_is_refused_loudly_never_dropped(field, value, char, caplog):
    with caplog.at_level(logging.WARNING), pytest.raises(UnprintableText) as refused:
        pdf.render(document(**{field: value}))
    assert refused.value.char == char
    assert f"U+{ord(char):04X}" in str(refused.value)


def test_the_printable_set_comes_from_the_fonts():
    chars = printable()
    assert {"Å", "ł", "ễ", "ğ", "Ω", "Ж", "€", "–"} <= chars
    assert not {"\x00", "\n", "\t", "\x85", "\u2028", "\u2029", "\u202e", "\u200b", "😀", "李", "ש"} & chars
    assert unprintable_character("Åsa Öberg") is None and unprintable_character("Åsa\u00adÖberg") == "\u00ad"
    assert check_printable("Rene\u0301e") == "Renée"
