"""The payslip as a PDF (fpdf2), labelled in Swedish and English, made once per version."""
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from flask_babel import force_locale, lazy_gettext as _l
from fpdf import FPDF

FONTS = Path(__file__).parent / "fonts"



@dataclass(frozen=True)
class PayslipDocument:
    company_name: str
    orgnr: str
    employee_name: str
    personnummer: str
    bank_account: str | None
    period: date
    payout_date: date
    tax_rate: Decimal
    lines: list[dict]  # {"kind", "description", "amount_ore"}
    gross_ore: int
    tax_ore: int
    net_ore: int
    contributions_ore: int
    version: int
    created_at: datetime


def both(label) -> str:
    """A lazy label as `Swedish / English`: one document serves every employee."""
    texts = []
    for locale in ("sv", "en"):
        with force_locale(locale):
            texts.append(str(label))
    return " / ".join(texts)


def kr(ore: int) -> str:
    return format_currency(Decimal(ore) / 100, "SEK", locale="sv_SE")


def render(doc: PayslipDocument) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(doc.created_at)  # fixed, so the same version gives the same bytes
    pdf.set_title(f"{both(_l('Payslip'))} {doc.period:%Y-%m}")
    pdf.add_font("DejaVu", "", FONTS / "DejaVuSans-subset.ttf")
    pdf.add_font("DejaVu", "B", FONTS / "DejaVuSans-Bold-subset.ttf")
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 10, both(_l("Payslip")), new_x="LMARGIN", new_y="NEXT")
    if doc.version > 1:
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(0, 6, both(_l("Correction, version %(number)d", number=doc.version)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    facts = [
        (both(_l("Employer")), f"{doc.company_name} ({doc.orgnr[:6]}-{doc.orgnr[6:]})"),
        (both(_l("Employee")), doc.employee_name),
        (both(_l("Personal identity number")), f"{doc.personnummer[:8]}-{doc.personnummer[8:]}"),
        (both(_l("Period")), format_date(doc.period, "LLLL yyyy", locale="sv_SE")),
        (both(_l("Payout date")), doc.payout_date.isoformat()),
        (both(_l("Tax rate")), f"{format_decimal(doc.tax_rate, '#,##0.##', locale='sv_SE')} %"),
    ]
    if doc.bank_account:
        facts.append((both(_l("Bank account")), doc.bank_account))
    for label, value in facts:
        pdf.set_font("DejaVu", "", 9)
        pdf.cell(75, 6, label)
        pdf.set_font("DejaVu", "", 10)
        pdf.cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(130, 7, both(_l("Description")), border="B")
    pdf.cell(0, 7, both(_l("Amount")), border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    for line in doc.lines:
        sign = -1 if line["kind"] == "deduction" else 1
        pdf.cell(130, 7, line["description"] or both(_l("Monthly salary")))
        pdf.cell(0, 7, kr(sign * line["amount_ore"]), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    totals = (
        (_l("Gross pay"), doc.gross_ore, "", "T"),
        (_l("Preliminary tax"), -doc.tax_ore, "", 0),
        (_l("Net pay"), doc.net_ore, "B", 0),
    )
    for label, ore, style, border in totals:
        pdf.set_font("DejaVu", style, 10)
        pdf.cell(130, 7, both(label), border=border)
        pdf.cell(0, 7, kr(ore), border=border, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("DejaVu", "", 8)
    pdf.cell(130, 5, both(_l("Employer contributions (paid by the employer)")))
    pdf.cell(0, 5, kr(doc.contributions_ore), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
