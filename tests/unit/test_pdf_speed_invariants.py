"""What the payslip PDF keeps while its fonts are parsed and subset once per process, not once per payslip, and its
page is drawn on a Sheet rather than by fpdf2: the bytes fpdf2 itself makes of the same layout."""
import io
import os
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from kivra import create_app
from kivra.payroll import pdf, pdf_fonts
from kivra.payroll.printable import UnprintableText
from tests import payslip_fpdf2

ROOT = Path(__file__).resolve().parents[2]


def document(**changes) -> pdf.PayslipDocument:
    doc = pdf.PayslipDocument(
        company_name="Ärlig Städ AB", orgnr="5568402266", employee_name="Åsa Öberg", personnummer="191212121212",
        bank_account="8327-9 123 456 789", period=date(2026, 11, 1), payout_date=date(2026, 11, 25),
        tax_rate=Decimal("30"), lines=[
            {"kind": "salary", "description": "", "amount_ore": 3_250_000},
            {"kind": "deduction", "description": "Friskvård på helgen", "amount_ore": 50_000},
        ],
        gross_ore=3_200_000, tax_ore=960_000, net_ore=2_240_000, contributions_ore=1_005_440, version=1, correction=False,
        created_at=datetime(2026, 11, 20, 8, 30, tzinfo=timezone.utc),
    )
    return replace(doc, **changes)


@pytest.fixture(scope="module", autouse=True)
def app_context():
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})  # rendering reads no database
    with app.app_context():
        yield


def text(content: bytes) -> str:
    return PdfReader(io.BytesIO(content)).pages[0].extract_text().replace("\xa0", " ")


def rendered() -> str:
    """The document rendered in a fresh app, for the other process."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        return pdf.render(document()).hex()


def test_same_document_gives_the_same_bytes():
    assert pdf.render(document()) == pdf.render(document())


def test_same_bytes_in_another_process_with_another_hash_seed():
    script = "import sys; from tests.unit.test_pdf_speed_invariants import rendered; sys.stdout.write(rendered())"
    env = {**os.environ, "PYTHONHASHSEED": "12345", "APP_ENV": "testing", "SECRET_KEY": "test-only-secret"}
    other = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, check=True)
    assert other.stdout.decode() == pdf.render(document()).hex()


def test_swedish_letters_labels_and_amounts_read_back():
    content = text(pdf.render(document()))
    assert "Åsa Öberg" in content and "Ärlig Städ AB" in content and "Org.nr / Org. no. 556840-2266" in content
    assert "Friskvård på helgen" in content and "Lönebesked / Payslip" in content
    assert "Månadslön / Monthly salary" in content and "32 500,00 kr" in content


@pytest.mark.parametrize("name", ["Łukasz Żółć", "Nguyễn Văn An", "Zoë Ørsted − Çelik"])
def test_names_beyond_latin_1_read_back(name):
    assert name in text(pdf.render(document(employee_name=name)))


def test_correction_shows_its_version_and_the_first_version_does_not():
    assert "Rättelse, version 2 / Correction, version 2" in text(pdf.render(document(version=2, correction=True)))
    assert "Rättelse" not in text(pdf.render(document()))


def test_a_later_version_for_someone_who_got_no_earlier_one_is_no_correction():
    assert "Rättelse" not in text(pdf.render(document(version=2, correction=False)))


def test_both_faces_are_embedded():
    fonts = PdfReader(io.BytesIO(pdf.render(document()))).pages[0]["/Resources"]["/Font"]
    descriptors = [font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"] for font in fonts.values()]
    assert sorted(d["/FontName"] for d in descriptors) == ["/MPDFAA+DejaVuSansBold", "/MPDFAA+DejaVuSansBook"]
    assert all("/FontFile2" in d for d in descriptors)


def test_threads_rendering_at_once_give_the_bytes_of_one_thread():
    docs = [document(employee_name=name, version=number, correction=number > 1) for number, name in enumerate(
        ["Åsa Öberg", "Łukasz Żółć", "Nguyễn Văn An", "Sven Ek"] * 3, start=1)]
    alone = [pdf.render(doc) for doc in docs]
    pdf_fonts.embedding.cache_clear()  # so that threads also make subsets at once
    pdf_fonts.font_objects.cache_clear()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})

    def render(doc):
        with app.app_context():
            return pdf.render(doc)

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(render, docs)) == alone


LONG_NAME = "Ärlig Städ och Fastighetsservice i Norra Stockholms län med omnejd Aktiebolag"


@pytest.mark.parametrize("changes", [
    {},
    {"employee_name": "Łukasz Żółć", "version": 3, "correction": True},
    {"company_name": LONG_NAME, "employee_name": "Nguyễn Thị Đặng", "version": 2, "correction": True,
     "employer_address": pdf.Address("Storgatan 1 (uppgång B)", "111 22", "Stockholm"), "employer_email": "lon@demo.se",
     "employer_phone": "08-123 456 00", "year_to_date": (38_400_000, 11_520_000, 26_880_000)},
    {"company_name": "Ett-mycket-långt-bolagsnamn-utan-mellanslag-som-måste-brytas-inne-i-ordet AB",
     "employer_address": pdf.Address("Väg\u00a012\u00a0\\\u00a0bakgården", None, "Luleå"), "bank_account": None},
    {"company_name": "Två  mellanslag   och\u00a0hårda\u00a0mellanslag AB  ", "employer_email": "a@b.se",
     "lines": [{"kind": "addition", "description": f"Rad {n} (övertid) \\ ", "amount_ore": 100 * n} for n in range(40)]},
])
def test_the_sheet_gives_the_bytes_fpdf2_draws_of_the_same_layout(changes):
    """The renderer draws the layout on a Sheet; fpdf2 draws it with its own fonts handling, parsed per payslip: the
    same bytes, so the same page, text, positions and raster (wrapped names, two pages, the footer on each)."""
    doc = document(**changes)
    assert pdf.render(doc) == payslip_fpdf2.render(doc)


def test_random_names_wrap_where_fpdf2_wraps_them():
    """Names and addresses of random words and widths (letters beyond the padded glyphs too), in the right-aligned
    letterhead and the centred footer: the lines break where fpdf2's MultiLineBreak breaks them."""
    rng = random.Random(19)
    letters = "abcdefghijklmnopqrstuvwxyzåäöABCDEFGHIJKLMNOPQRSTUVWXYZÅÄÖ0123456789.,-&()'łżćőűØÆœ"
    spaces = [" ", " ", " ", "  ", "\u00a0", "\u2009"]

    def words(count: int) -> str:
        return "".join(
            "".join(rng.choice(letters) for _ in range(rng.randint(1, 18))) + rng.choice(spaces) for _ in range(count)
        ).strip()

    for _ in range(12):
        doc = document(company_name=words(rng.randint(1, 12)), employee_name=words(3),
                       employer_address=pdf.Address(words(rng.randint(1, 9)), "111 22", words(2)),
                       employer_email=words(1) + "@demo.se", employer_phone=words(rng.randint(1, 8)))
        assert pdf.render(doc) == payslip_fpdf2.render(doc), doc.company_name


@pytest.mark.parametrize("style", ["", "B"])
def test_a_character_a_face_lacks_is_refused_by_the_sheet_not_dropped(style):
    """printed() refuses such a character in the document's texts; a label (a translation) is drawn unchecked."""
    sheet = pdf.PayslipSheet([])
    sheet.add_page()
    sheet.set_font("DejaVu", style, 10)
    with pytest.raises(UnprintableText) as refused:
        sheet.cell(0, 5, "Lön 李")
    assert refused.value.char == "李"


def test_a_warmed_up_worker_makes_no_font_subset_for_a_payslip():
    """kivra/worker.py warms up at start: the faces parsed, their subset made and the schema compiled, so that its
    first payslip costs what the others do (the subset alone is a quarter of a second of CPU)."""
    from kivra.sender_api import content
    from kivra.worker import _warm_up

    for cached in (pdf_fonts.faces, pdf_fonts.font_objects, pdf_fonts.embedding, content._compiled):
        cached.cache_clear()
    _warm_up(create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}))
    assert content._compiled.cache_info().currsize == 1
    assert pdf_fonts.faces.cache_info().currsize == 1
    made = pdf_fonts.font_objects.cache_info().misses
    pdf.render(document())  # only the company's name, in the bold face, makes a subset: once per company
    assert pdf_fonts.font_objects.cache_info().misses == made + 1
    pdf.render(document(employee_name="Nils Karlsson 1234"))
    assert pdf_fonts.font_objects.cache_info().misses == made + 1


def test_a_worker_whose_warm_up_fails_still_starts_and_says_so(monkeypatch, caplog):
    from kivra import worker

    def broken():
        raise OSError("DejaVuSans-subset.ttf: no such file")

    monkeypatch.setattr(pdf, "warm_up", broken)
    worker._warm_up(create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}))
    assert any("warming up" in record.getMessage() and record.exc_info for record in caplog.records)
