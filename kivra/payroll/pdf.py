"""The payslip as a PDF (fpdf2), labelled in Swedish and English, made once per version."""
import copy
import threading
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal
from flask import current_app
from flask_babel import force_locale, lazy_gettext as _l
from fontTools import subset as ftsubset
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import CIDSystemInfo, OutputProducer, PDFFont, PDFFontStream, _build_cmap_blocks, _cid_font_widths
from fpdf.syntax import Name, PDFArray, PDFContentStream

from kivra.money import swedish_kronor
from kivra.payroll.printable import UnprintableText, check_printable

FONTS = Path(__file__).parent / "fonts"
SWEDISH = Locale.parse("sv_SE")  # parsed once: Babel parses a locale name on every call

# Parsing a TTF and subsetting it with fontTools took ~55 of the ~60 ms a payslip cost, so both happen once per
# process (bench/pdf_build.py). A face's subset always holds its glyphs below, used or not, so nearly every payslip
# embeds the same subset. Bold text is labels and amounts; regular text also has names, descriptions, bank accounts.
AMOUNT_GLYPHS = "0123456789 ,-%\u00a0\u2212"
TEXT_GLYPHS = "".join(map(chr, range(0x20, 0x7F))) + "ÅÄÖåäöÉéÜü\u00a0\u2212"
FACES = {"": ("DejaVuSans-subset.ttf", TEXT_GLYPHS), "B": ("DejaVuSans-Bold-subset.ttf", AMOUNT_GLYPHS)}


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


class PayslipPDF(FPDF):
    """An A4 payslip whose every page ends with the employer's name, address and contact."""

    def __init__(self, footer_lines: list[str]):
        super().__init__(format="A4")
        self.footer_lines = footer_lines

    def footer(self) -> None:
        self.set_y(-17)
        self.set_font("DejaVu", "", 8)
        for line in self.footer_lines:
            self.multi_cell(0, 4, line, align="C", new_x="LMARGIN", new_y="NEXT")


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
    pdf = PayslipPDF(footer_lines(doc))
    pdf.set_creation_date(doc.created_at)  # fixed, so the same version gives the same bytes
    pdf.set_title(f"{both(_l('Payslip'))} {doc.period:%Y-%m}")
    add_fonts(pdf)
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
    return bytes(pdf.output(output_producer_class=PayslipOutput))


def year_to_date(pdf: FPDF, figures: tuple[int, int, int]) -> None:
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


def add_fonts(pdf: FPDF) -> None:
    """Both DejaVu faces, as this document's own copies of the fonts parsed once per process."""
    for style, (_, glyphs) in FACES.items():
        font = copy.copy(parsed_font(style))
        font.i = len(pdf.fonts) + 1
        font.cw = font.cw.copy()  # fpdf2 writes the default width of a character the font lacks into it
        font.missing_glyphs = []
        font.subset = SubsetMap(font)
        for char in glyphs:  # first, so their codes are the same in every payslip
            font.subset.pick(ord(char))
        pdf.fonts[font.fontkey] = font


_parsed: dict[str, TTFFont] = {}
_parsing = threading.Lock()


def parsed_font(style: str) -> TTFFont:
    """fpdf2's parse of a face's file, made once. Only read after that, by any thread: documents get copies."""
    with _parsing:
        if style not in _parsed:
            scratch = FPDF()
            scratch.add_font("DejaVu", style, FONTS / FACES[style][0])
            font = scratch.fonts[f"dejavu{style}"]
            font.close()
            font.ttfont = None  # subsetting would change it in place; `embedding` opens the file afresh
            _parsed[style] = font
    return _parsed[style]


class PayslipOutput(OutputProducer):
    """fpdf2's output, with each font's embedded objects copied from `embedding`, made once per subset.

    Every font of the document is one of `FACES`, added by `add_fonts`.
    """

    def _add_fonts(self, *_resources) -> dict[int, PDFFont]:
        return {font.i: self._add_font(font) for font in sorted(self.fpdf.fonts.values(), key=lambda font: font.i)}

    def _add_font(self, font: TTFFont) -> PDFFont:
        """The objects fpdf2 2.8 makes for a TrueType font, in its order: the same bytes (a unit test compares)."""
        if font.missing_glyphs:  # `printed` let a character through that this face lacks: never drop it silently
            raise UnprintableText(chr(font.missing_glyphs[0]), f"the payslip ({font.name})")
        glyphs = tuple(
            (code, glyph.glyph_name, glyph.unicode, glyph.glyph_width)
            for glyph, code in font.subset.items() if glyph is not None
        )
        made = embedding(Path(font.ttffile).name, glyphs)
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
        font.subset.pick.cache_clear()  # fpdf2 caches picks for every subset map alive; as its own output does
        font.subset.get_glyph.cache_clear()
        return composite

    def _add_copy(self, template):
        """A shared object, as this document's own: the object number is set on it."""
        obj = copy.copy(template)
        self._add_pdf_obj(obj, "fonts")
        return obj


@dataclass(frozen=True)
class Embedding:
    widths: str
    to_unicode: PDFContentStream
    cid_to_gid_map: PDFContentStream
    font_file: PDFFontStream


@lru_cache(maxsize=128)  # names with letters outside the padded glyphs add entries; they cost a subsetting each
def embedding(file: str, glyphs: tuple) -> Embedding:
    """A font's subset and maps for these `(code, glyph name, unicode, width)`, as fpdf2 2.8 makes them."""
    ttfont = TTFont(FONTS / file, recalcTimestamp=False, lazy=True)
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True)
    options.drop_tables += [
        "FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "sbix", "CBDT", "CBLC", "EBDT", "EBLC", "EBSC", "SVG ",
        "CPAL", "COLR",
    ]
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(glyphs=[name for _, name, _, _ in glyphs])
    subsetter.subset(ttfont)
    cid_to_gid = bytearray(256 * 256 * 2)
    for code, name, _, _ in glyphs:
        cid_to_gid[code * 2:code * 2 + 2] = ttfont.getGlyphID(name).to_bytes(2, "big")
    font_file = BytesIO()
    ttfont.save(font_file)
    ttfont.close()
    return Embedding(
        widths=_cid_font_widths({code: width for code, _, _, width in glyphs}),
        to_unicode=PDFContentStream(to_unicode_cmap(glyphs)),
        cid_to_gid_map=PDFContentStream(bytes(cid_to_gid), compress=True),
        font_file=PDFFontStream(font_file.getvalue()),
    )


def to_unicode_cmap(glyphs: tuple) -> bytes:
    """The CMap that lets a reader copy and search the text."""
    chars = [
        f"<{code:04X}> <{''.join(_utf16_hex(point) for point in unicode)}>\n"
        for code, _, unicode, _ in glyphs if isinstance(unicode, tuple) and unicode
    ]
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo\n"
        "<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n/CMapName /Adobe-Identity-UCS def\n"
        "/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{_build_cmap_blocks(chars, 'bfchar')}"
        "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    ).encode("latin-1")


def _utf16_hex(point: int) -> str:
    if point > 0xFFFF:
        return f"{0xD800 | (point - 0x10000) >> 10:04X}{0xDC00 | (point & 0x3FF):04X}"
    return f"{point:04X}"
