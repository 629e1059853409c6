"""The payslip drawn by fpdf2 itself, with its own font handling: the reference a Sheet's bytes are compared with."""
from fpdf import FPDF

from kivra.payroll import pdf
from kivra.payroll.pdf_fonts import FACES, FONTS


class Fpdf2Payslip(pdf.Footed, FPDF):
    """The payslip's layout on fpdf2's FPDF; the faces parsed and subset for this document alone."""

    def __init__(self, footer_lines: list[str]):
        super().__init__(footer_lines)
        self.str_alias_nb_pages = ""  # no page-count placeholder: a name holding "{nb}" is printed as typed
        for style, (file, glyphs) in FACES.items():
            self.add_font("DejaVu", style, FONTS / file)
            for char in glyphs:  # the padded subset: the same codes as the renderer's
                self.fonts[f"dejavu{style}"].subset.pick(ord(char))


def render(doc: pdf.PayslipDocument) -> bytes:
    doc = pdf.printed(doc)
    canvas = Fpdf2Payslip(pdf.footer_lines(doc))
    pdf.draw(canvas, doc)
    return bytes(canvas.output())
