"""What the payslip PDF keeps while its fonts are parsed and subset once per process, not once per payslip."""
import io
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from fpdf.output import OutputProducer
from pypdf import PdfReader

from kivra import create_app
from kivra.payroll import pdf

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
    pdf.embedding.cache_clear()  # so that threads also make subsets at once
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})

    def render(doc):
        with app.app_context():
            return pdf.render(doc)

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(render, docs)) == alone


def test_kept_fonts_give_the_bytes_of_fpdf2s_own_font_handling(monkeypatch):
    def parse_every_time(document_pdf):
        for style, (file, glyphs) in pdf.FACES.items():
            document_pdf.add_font("DejaVu", style, pdf.FONTS / file)
            for char in glyphs:
                document_pdf.fonts[f"dejavu{style}"].subset.pick(ord(char))

    for doc in (document(), document(employee_name="Łukasz Żółć", version=3, correction=True)):
        kept = pdf.render(doc)
        with monkeypatch.context() as patch:
            patch.setattr(pdf, "add_fonts", parse_every_time)
            patch.setattr(pdf, "PayslipOutput", OutputProducer)
            assert pdf.render(doc) == kept
