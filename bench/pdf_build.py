"""Payslip PDFs: the renderer as it was (fpdf2 drawing the page and writing the file, fonts kept per process, Babel
formatting amounts) vs `kivra.payroll.pdf.render` (the same layout drawn on a `Sheet`, pdf_sheet.py).

Run: .venv/bin/python bench/pdf_build.py [--payslips 40] [--rounds 7]
Prints CPU ms per payslip (this process's CPU time, not wall clock), payslips per second on one core, their ratio
and the machine's load average; the goal is a ratio of at least 5 (issue 19: the PDF at most ~1 ms of a 5 ms
payslip). Both run in this process on the same documents, interleaved in rounds so machine noise hits both alike.
Each document is first checked to give the previous renderer's bytes exactly, and the same bytes twice.
"""
import argparse
import copy
import os
import statistics
import sys
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("APP_ENV", "development")

from babel.numbers import format_currency  # noqa: E402
from fpdf import FPDF  # noqa: E402
from fpdf.fonts import SubsetMap, TTFFont  # noqa: E402
from fpdf.output import CIDSystemInfo, OutputProducer, PDFFont  # noqa: E402
from fpdf.syntax import Name, PDFArray  # noqa: E402

from kivra import create_app  # noqa: E402
from kivra.money import kronor  # noqa: E402
from kivra.payroll import pdf, pdf_fonts  # noqa: E402
from kivra.payroll.pdf import Address, PayslipDocument  # noqa: E402

NAMES = ["Astrid Lindqvist", "Åsa Öberg", "Björn Ärlig", "Erik Johansson", "Renée Dahl", "Karl-Åke Sjöström",
         "Łukasz Żółć", "Nguyễn Văn An", "Maria Müller", "Sven Ek"]


def documents(count: int) -> list[PayslipDocument]:
    docs = []
    for n in range(count):
        salary = 2_800_000 + 37_150 * n
        deduction = 12_345 * (n % 4)
        gross = salary - deduction
        tax = gross * 30 // 100 // 100 * 100
        lines = [{"kind": "salary", "description": "", "amount_ore": salary}]
        if deduction:
            lines.append({"kind": "deduction", "description": "Friskvård", "amount_ore": deduction})
        docs.append(PayslipDocument(
            company_name="Demo AB", orgnr="5568402266", employee_name=f"{NAMES[n % len(NAMES)]} {n}",
            personnummer=f"1990{n % 12 + 1:02d}01{1000 + n:04d}", bank_account="8327-9 123 456 789" if n % 3 else None,
            period=date(2026, 11, 1), payout_date=date(2026, 11, 25), tax_rate=Decimal("30"), lines=lines,
            gross_ore=gross, tax_ore=tax, net_ore=gross - tax, contributions_ore=gross * 3142 // 10000,
            version=1 + n % 5 // 4, correction=n % 5 == 4, created_at=datetime(2026, 11, 20, 8, n % 60, tzinfo=timezone.utc),
            employer_address=Address("Storgatan 1", "111 22", "Stockholm"), employer_email="lon@demo.se",
            employer_phone="08-123 456 00", year_to_date=(11 * gross, 11 * tax, 11 * (gross - tax)),
        ))
    return docs


class PreviousPayslipPDF(pdf.Footed, FPDF):
    """The page as fpdf2 drew it before the Sheet: the same layout (`pdf.draw`), fpdf2's drawing and output."""


def previous_render(doc: PayslipDocument) -> bytes:
    """`render` as it was: fpdf2 draws and writes the file, with the fonts parsed and subset once per process and
    their objects copied per payslip (`PreviousOutput`), and Babel formats each amount."""
    saved, pdf.swedish_kronor = pdf.swedish_kronor, babel_kronor
    try:
        doc = pdf.printed(doc)
        canvas = PreviousPayslipPDF(pdf.footer_lines(doc))
        add_fonts(canvas)
        pdf.draw(canvas, doc)
        return bytes(canvas.output(output_producer_class=PreviousOutput))
    finally:
        pdf.swedish_kronor = saved


def babel_kronor(ore: int) -> str:
    return format_currency(kronor(ore), "SEK", locale="sv_SE")


def add_fonts(canvas: FPDF) -> None:
    for style, face in pdf_fonts.faces().items():
        font = copy.copy(face.font)
        font.i = len(canvas.fonts) + 1
        font.cw = font.cw.copy()
        font.missing_glyphs = []
        font.subset = SubsetMap(font)
        for char in pdf_fonts.FACES[style][1]:
            font.subset.pick(ord(char))
        canvas.fonts[font.fontkey] = font


class PreviousOutput(OutputProducer):
    """fpdf2's output, with each font's embedded objects copied from `embedding`, made once per subset."""

    def _add_fonts(self, *_resources) -> dict[int, PDFFont]:
        return {font.i: self._add_font(font) for font in sorted(self.fpdf.fonts.values(), key=lambda font: font.i)}

    def _add_font(self, font: TTFFont) -> PDFFont:
        glyphs = tuple((code, glyph.glyph_name, glyph.unicode, glyph.glyph_width)
                       for glyph, code in font.subset.items() if glyph is not None)
        made = pdf_fonts.embedding(Path(font.ttffile).name, glyphs)
        name = f"MPDFAA+{font.name}"
        composite = PDFFont(subtype="Type0", base_font=name, encoding="Identity-H")
        self._add_pdf_obj(composite, "fonts")
        cid_font = PDFFont(subtype="CIDFontType2", base_font=name, d_w=font.desc.missing_width, w=made.widths)
        self._add_pdf_obj(cid_font, "fonts")
        composite.descendant_fonts = PDFArray([cid_font])
        composite.to_unicode = self._add_copy(made.to_unicode)
        cid_font.c_i_d_system_info = CIDSystemInfo()
        self._add_pdf_obj(cid_font.c_i_d_system_info, "fonts")
        descriptor = copy.copy(font.desc)
        descriptor.font_name = Name(name)
        self._add_pdf_obj(descriptor, "fonts")
        cid_font.font_descriptor = descriptor
        cid_font.c_i_d_to_g_i_d_map = self._add_copy(made.cid_to_gid_map)
        descriptor.font_file2 = self._add_copy(made.font_file)
        font.subset.pick.cache_clear()
        font.subset.get_glyph.cache_clear()
        return composite

    def _add_copy(self, template):
        obj = copy.copy(template)
        self._add_pdf_obj(obj, "fonts")
        return obj


def per_payslip(render, docs) -> float:
    """CPU seconds of this process per payslip."""
    start = time.process_time()
    for doc in docs:
        render(doc)
    return (time.process_time() - start) / len(docs)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payslips", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--goal", type=float, default=5.0)
    args = parser.parse_args()

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})  # never connected: rendering reads no database
    docs = documents(args.payslips)
    with app.app_context(), app.test_request_context():
        start = time.process_time()
        first = pdf.render(docs[0])
        cold_ms = (time.process_time() - start) * 1000
        for doc in docs:  # also warms the per-process caches, as a running worker has them
            new = pdf.render(doc)
            assert pdf.render(doc) == new, f"not deterministic: {doc.employee_name}"
            assert new == previous_render(doc), f"not the previous renderer's bytes: {doc.employee_name}"

        load_before = os.getloadavg()
        old_times, new_times = [], []
        for _ in range(args.rounds):
            old_times.append(per_payslip(previous_render, docs))
            new_times.append(per_payslip(pdf.render, docs))
        load_after = os.getloadavg()

    old_ms, new_ms = statistics.median(old_times) * 1000, statistics.median(new_times) * 1000
    ratio = old_ms / new_ms
    print(f"{args.payslips} payslips x {args.rounds} rounds, median round, CPU time; the process's first render "
          f"{cold_ms:.0f} ms; every payslip the previous renderer's bytes")
    for name, ms in (("previous (fpdf2)", old_ms), ("new (Sheet)", new_ms)):
        print(f"{name:>16}: {ms:6.3f} ms per payslip, {1000 / ms:6.0f} payslips/s per core")
    print(f"ratio: {ratio:.1f}x (goal {args.goal:.0f}x); first payslip {len(first)} bytes")
    print("load average (1, 5, 15 min): before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
        *load_before, *load_after))
    return 0 if ratio >= args.goal else 1


if __name__ == "__main__":
    sys.exit(main())
