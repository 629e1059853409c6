"""The payslip as a PDF, labelled in Swedish and English, made once per version.

The layout is written against fpdf2's drawing calls and drawn on a `Sheet` (pdf_sheet.py), which writes the content
stream fpdf2 writes at a fraction of its CPU; the tests draw the same layout with fpdf2 itself and compare the bytes.
"""
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal
from flask import current_app
from flask_babel import force_locale, lazy_gettext as _l

from kivra.money import swedish_kronor
from kivra.payroll.pdf_sheet import Sheet
from kivra.payroll.printable import check_printable

SWEDISH = Locale.parse("sv_SE")  # parsed once: Babel parses a locale name on every call


@dataclass(frozen=True)
class Address:
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None

    def lines(self) -> list[str]:
        """What is known of it, as printed: the street, then the postal code and city."""
        town = " ".join(part for part in (self.postal_code, self.city) if part)
        return [part for part in (self.street, town) if part]


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
    correction: bool  # an earlier version reached the employee: this one says it corrects it
    created_at: datetime
    # Frozen with versions made since they were added; a version made before has none, and they are left out.
    employer_address: Address = Address()
    employer_email: str | None = None
    employer_phone: str | None = None
    year_to_date: tuple[int, int, int] | None = None  # gross, tax, net in öre, this payslip included


def both(label) -> str:
    """A lazy label as `Swedish / English`: one document serves every employee."""
    translations = current_app.config.get("BABEL_TRANSLATION_DIRECTORIES")
    return _both(translations, label._func, label._args, tuple(sorted(label._kwargs.items())))


@lru_cache(maxsize=256)  # switching locale per label was slow; a catalogue's texts are fixed for the process
def _both(_translations: str | None, gettext, args: tuple, params: tuple) -> str:
    texts = []
    for locale in ("sv", "en"):
        with force_locale(locale):
            texts.append(str(gettext(*args, **dict(params))))
    return " / ".join(texts)


def printed(doc: PayslipDocument) -> PayslipDocument:
    """The document's own texts as printed (composed); UnprintableText if one holds a character the fonts lack."""
    lines = [{**line, "description": check_printable(line["description"] or "", "a line's description")}
             for line in doc.lines]
    address = doc.employer_address
    return replace(
        doc, company_name=check_printable(doc.company_name, "the company name"),
        employee_name=check_printable(doc.employee_name, "the employee name"),
        bank_account=doc.bank_account and check_printable(doc.bank_account, "the bank account"), lines=lines,
        employer_address=Address(*(part and check_printable(part, "the company's address")
                                   for part in (address.street, address.postal_code, address.city))),
        employer_email=doc.employer_email and check_printable(doc.employer_email, "the company's e-mail"),
        employer_phone=doc.employer_phone and check_printable(doc.employer_phone, "the company's telephone"),
    )


def masked(account: str) -> str:
    """A bank account as the payslip shows it: its last four digits."""
    return f"**** {''.join(c for c in account if c in '0123456789')[-4:]}"


class Footed:
    """Every page ends with the employer's name, address and contact: a mixin for fpdf2's FPDF or a Sheet, which
    both call `footer` as a page ends."""

    def __init__(self, footer_lines: list[str]):
        super().__init__(format="A4")
        self.footer_lines = footer_lines

    def footer(self) -> None:
        self.set_y(-17)
        self.set_font("DejaVu", "", 8)
        for line in self.footer_lines:
            self.multi_cell(0, 4, line, align="C", new_x="LMARGIN", new_y="NEXT")


class PayslipSheet(Footed, Sheet):
    """The payslip as it is rendered."""


def letterhead(doc: PayslipDocument) -> list[str]:
    orgnr = both(_l("Org. no."))
    return [*doc.employer_address.lines(), f"{orgnr} {doc.orgnr[:6]}-{doc.orgnr[6:]}"]


def footer_lines(doc: PayslipDocument) -> list[str]:
    """The employer's name and address, then its contact: what is known of them."""
    contact = [f"{both(label)} {value}" for label, value in ((_l("E-mail"), doc.employer_email),
                                                             (_l("Telephone"), doc.employer_phone)) if value]
    lines = [" | ".join(filter(None, (doc.company_name, ", ".join(doc.employer_address.lines()))))]
    return lines + [" | ".join(contact)] if contact else lines


def render(doc: PayslipDocument) -> bytes:
    doc = printed(doc)
    sheet = PayslipSheet(footer_lines(doc))
    draw(sheet, doc)
    return sheet.output()


def warm_up() -> None:
    """Draw one payslip so that the faces are parsed and their common subset made before the first real one: a worker
    process's first PDF otherwise takes a quarter of a second of CPU (kivra/worker.py calls it at start)."""
    render(PayslipDocument(
        company_name="Exempel AB", orgnr="5560000000", employee_name="Anna Andersson", personnummer="191212121212",
        bank_account=None, period=date(2026, 1, 1), payout_date=date(2026, 1, 25), tax_rate=Decimal("30"),
        lines=[{"kind": "salary", "description": "", "amount_ore": 3_000_000}], gross_ore=3_000_000,
        tax_ore=900_000, net_ore=2_100_000, contributions_ore=942_600, version=1, correction=False,
        created_at=datetime(2026, 1, 20, tzinfo=timezone.utc)))


def draw(pdf: Footed, doc: PayslipDocument) -> None:
    """The payslip's page(s), on a Sheet or on fpdf2's FPDF with both DejaVu faces added ("" then "B")."""
    pdf.set_creation_date(doc.created_at)  # fixed, so the same version gives the same bytes
    pdf.set_title(f"{both(_l('Payslip'))} {doc.period:%Y-%m}")
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 10, both(_l("Payslip")), new_x="LMARGIN", new_y="NEXT")
    if doc.correction:
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(0, 6, both(_l("Correction, version %(number)d", number=doc.version)), new_x="LMARGIN", new_y="NEXT")
    below_title = pdf.get_y()
    pdf.set_xy(110, 10)  # the employer, top right, as on a letter
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(90, 6, doc.company_name, align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    for line in letterhead(doc):
        pdf.multi_cell(90, 5, line, align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_xy(pdf.l_margin, max(below_title, pdf.get_y()))
    pdf.ln(4)
    facts = [
        (both(_l("Employee")), doc.employee_name),
        (both(_l("Personal identity number")), f"{doc.personnummer[:8]}-{doc.personnummer[8:]}"),
        (both(_l("Period")), format_date(doc.period, "LLLL yyyy", locale=SWEDISH)),
        (both(_l("Payout date")), doc.payout_date.isoformat()),
        (both(_l("Tax rate")), f"{format_decimal(doc.tax_rate, '#,##0.##', locale=SWEDISH)} %"),
    ]
    if doc.bank_account:
        facts.append((both(_l("Bank account")), masked(doc.bank_account)))
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
        pdf.cell(0, 7, swedish_kronor(sign * line["amount_ore"]), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    totals = (
        (_l("Gross pay"), doc.gross_ore, "", "T"),
        (_l("Preliminary tax"), -doc.tax_ore, "", 0),
        (_l("Net pay"), doc.net_ore, "B", 0),
    )
    for label, ore, style, border in totals:
        pdf.set_font("DejaVu", style, 10)
        pdf.cell(130, 7, both(label), border=border)
        pdf.cell(0, 7, swedish_kronor(ore), border=border, align="R", new_x="LMARGIN", new_y="NEXT")
    if doc.year_to_date is not None:
        year_to_date(pdf, doc.year_to_date)
    pdf.ln(6)
    pdf.set_font("DejaVu", "", 8)
    pdf.cell(130, 5, both(_l("Employer contributions (paid by the employer)")))
    pdf.cell(0, 5, swedish_kronor(doc.contributions_ore), align="R", new_x="LMARGIN", new_y="NEXT")


def year_to_date(pdf: Footed, figures: tuple[int, int, int]) -> None:
    """The year so far in three columns: gross, tax, net."""
    gross, tax, net = figures
    pdf.ln(5)
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(0, 7, both(_l("Year to date")), border="B", new_x="LMARGIN", new_y="NEXT")
    columns = ((_l("Gross pay"), gross), (_l("Preliminary tax"), -tax), (_l("Net pay"), net))
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / len(columns)
    pdf.set_font("DejaVu", "", 8)
    for label, _ in columns:
        pdf.cell(width, 5, both(label))
    pdf.ln(5)
    pdf.set_font("DejaVu", "", 10)
    for _, ore in columns:
        pdf.cell(width, 6, swedish_kronor(ore))
    pdf.ln(6)
