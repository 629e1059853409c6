"""Payslip PDFs: the renderer as it was (fonts parsed and subset per payslip) vs `kivra.payroll.pdf.render`.

Run: .venv/bin/python bench/pdf_build.py [--payslips 40] [--rounds 5]
Prints ms per payslip, payslips per second on one core, and their ratio; the goal is a ratio of at least 10.
Both run in this process on the same documents, interleaved in rounds so machine noise hits both alike. Each
document is first checked to give the same text as the old renderer and the same bytes twice.
"""
import argparse
import io
import os
import statistics
import sys
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("APP_ENV", "development")

from babel.numbers import format_currency  # noqa: E402
from flask_babel import force_locale  # noqa: E402
from fpdf import FPDF  # noqa: E402
from fpdf.output import OutputProducer  # noqa: E402

from kivra import create_app  # noqa: E402
from kivra.payroll import pdf  # noqa: E402
from kivra.payroll.pdf import FONTS, Address, PayslipDocument  # noqa: E402

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


def old_both(label) -> str:
    texts = []
    for locale in ("sv", "en"):
        with force_locale(locale):
            texts.append(str(label))
    return " / ".join(texts)


def old_kr(ore: int) -> str:
    return format_currency(Decimal(ore) / 100, "SEK", locale="sv_SE")


def old_render(doc: PayslipDocument) -> bytes:
    """`render` as it was before the fonts were kept per process: fpdf2 parses and subsets them for each payslip,
    and Babel formats each label and amount afresh. The layout is `render`'s own, so both draw the same page."""
    saved = pdf.add_fonts, pdf.PayslipOutput, pdf.both, pdf.swedish_kronor
    pdf.add_fonts, pdf.PayslipOutput, pdf.both, pdf.swedish_kronor = parse_every_time, OutputProducer, old_both, old_kr
    try:
        return pdf.render(doc)
    finally:
        pdf.add_fonts, pdf.PayslipOutput, pdf.both, pdf.swedish_kronor = saved


def parse_every_time(document_pdf: FPDF) -> None:
    document_pdf.add_font("DejaVu", "", FONTS / "DejaVuSans-subset.ttf")
    document_pdf.add_font("DejaVu", "B", FONTS / "DejaVuSans-Bold-subset.ttf")


def text(content: bytes) -> str:
    return PdfReader(io.BytesIO(content)).pages[0].extract_text()


def per_payslip(render, docs) -> float:
    start = time.perf_counter()
    for doc in docs:
        render(doc)
    return (time.perf_counter() - start) / len(docs)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payslips", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--goal", type=float, default=10.0)
    args = parser.parse_args()

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})  # never connected: rendering reads no database
    docs = documents(args.payslips)
    with app.app_context(), app.test_request_context():
        start = time.perf_counter()
        first = pdf.render(docs[0])
        cold_ms = (time.perf_counter() - start) * 1000
        for doc in docs:  # also warms the per-process caches, as a running worker has them
            new = pdf.render(doc)
            assert pdf.render(doc) == new, f"not deterministic: {doc.employee_name}"
            assert text(new) == text(old_render(doc)), f"text differs from the old renderer: {doc.employee_name}"
        assert pdf.render(docs[0]) == first

        old_times, new_times = [], []
        for _ in range(args.rounds):
            old_times.append(per_payslip(old_render, docs))
            new_times.append(per_payslip(pdf.render, docs))

    old_ms, new_ms = statistics.median(old_times) * 1000, statistics.median(new_times) * 1000
    ratio = old_ms / new_ms
    print(f"{args.payslips} payslips x {args.rounds} rounds, median round; the process's first render {cold_ms:.0f} ms")
    for name, ms, size in (("old", old_ms, len(old_render(docs[0]))), ("new", new_ms, len(first))):
        print(f"{name}: {ms:6.2f} ms per payslip, {1000 / ms:5.0f} payslips/s per core, first payslip {size} bytes")
    print(f"ratio: {ratio:.1f}x (goal {args.goal:.0f}x)")
    return 0 if ratio >= args.goal else 1


if __name__ == "__main__":
    sys.exit(main())
