"""The few drawing calls of fpdf2's FPDF a payslip uses (`cell`, `multi_cell`, `set_font`, `ln`, page breaks with a
footer), writing the same content stream fpdf2 2.8 writes, at a small part of its cost.

fpdf2 spent ~6–8 ms of CPU per payslip on generality a fixed one-page layout never uses (text fragments, markdown,
bidi, graphics-state stacks, an object model serialised by introspection). A `Sheet` does the same arithmetic on the
same numbers (page geometry from fpdf2 itself, glyph widths from fpdf2's parse of the fonts), so a payslip drawn on
it is byte for byte the payslip fpdf2 draws (tests/unit/test_pdf_speed_invariants.py compares them).
"""
from datetime import datetime

from fpdf import FPDF
from fpdf.line_break import BREAKING_SPACE_SYMBOLS_STR, NBSP

from kivra.payroll.pdf_fonts import Face, escaped_code, faces, next_free
from kivra.payroll.pdf_file import PageContent, write_pdf
from kivra.payroll.printable import UnprintableText

_A4 = FPDF(format="A4")  # fpdf2's own page geometry and default margins, in millimetres
TOLERANCE = 1e-9  # fpdf2's FloatTolerance: how much wider than its box a line of text may be


class Sheet:
    """An A4 document drawn as fpdf2's FPDF draws it; subclass it and override `footer` as with FPDF."""

    def __init__(self, format: str = "A4"):  # noqa: A002 - FPDF's name
        if format != "A4":
            raise ValueError("a Sheet is A4")
        self.k, self.w, self.h = _A4.k, _A4.w, _A4.h
        self.l_margin, self.t_margin, self.r_margin, self.c_margin = (
            _A4.l_margin, _A4.t_margin, _A4.r_margin, _A4.c_margin)
        self.page_break_trigger = _A4.page_break_trigger
        self.x, self.y = self.l_margin, self.t_margin
        self.pages: list[PageContent] = []
        self.faces = faces()
        self.face: Face | None = None
        self.size_pt = 0.0
        self.font_set_on_page = False
        self.in_footer = False
        self.title = ""
        self.creation_date: datetime | None = None
        self.escaped = {style: dict(face.escaped) for style, face in self.faces.items()}  # char → its code, escaped
        self.extra: dict[str, list[str]] = {style: [] for style in self.faces}  # beyond the padded glyphs, in order
        self.free = {style: face.first_free for style, face in self.faces.items()}

    def footer(self) -> None:
        """Drawn at the end of every page."""

    def set_creation_date(self, date: datetime) -> None:
        self.creation_date = date

    def set_title(self, title: str) -> None:
        self.title = title

    def set_auto_page_break(self, auto: bool, margin: float) -> None:
        if not auto:
            raise ValueError("a Sheet always breaks pages")
        self.page_break_trigger = self.h - margin

    def add_page(self) -> None:
        face, size = self.face, self.size_pt
        if self.pages:
            self._footer()
        self.pages.append(PageContent())
        self.x, self.y = self.l_margin, self.t_margin
        self._out("2 J")
        self._out(f"{_A4.line_width * self.k:.2f} w")
        self.face, self.size_pt, self.font_set_on_page = face, size, False

    def set_font(self, family: str, style: str = "", size: float = 0) -> None:
        if family.lower() != "dejavu":
            raise ValueError(f"a Sheet has only DejaVu, not {family}")
        face, size = self.faces[style], size or self.size_pt
        if face is self.face and abs(self.size_pt - size) <= TOLERANCE:
            return
        self.face, self.size_pt, self.font_set_on_page = face, size, False

    def set_y(self, y: float) -> None:
        self.x = self.l_margin
        self.y = y if y >= 0 else self.h + y

    def set_xy(self, x: float, y: float) -> None:
        self.set_y(y)
        self.x = x if x >= 0 else self.w + x

    def get_y(self) -> float:
        return self.y

    def ln(self, h: float) -> None:
        self.x = self.l_margin
        self.y += h

    def cell(self, w: float, h: float, text: str = "", border: int | str = 0, align: str = "L",
             new_x: str = "RIGHT", new_y: str = "TOP") -> None:
        w = w or self.w - self.r_margin - self.x
        self._line(w, h, text, self._units(text), align, border)
        self._move(w, h, new_x, new_y)

    def multi_cell(self, w: float, h: float, text: str, align: str, new_x: str = "RIGHT",
                   new_y: str = "NEXT") -> None:
        """Word-wrapped lines of `text`, broken where fpdf2's MultiLineBreak breaks them."""
        w = w or self.w - self.r_margin - self.x
        lines = self._wrap(text, w - self.c_margin - self.c_margin) or [("", 0)]
        for number, (line, units) in enumerate(lines, start=1):
            self._line(w, h, line, units, align)
            last = number == len(lines)
            self._move(w, h, new_x if last else "LEFT", new_y if last else "NEXT")

    def output(self) -> bytes:
        if self.creation_date is None:
            raise ValueError("set_creation_date first: fpdf2 would stamp the time now, and the same document must "
                             "give the same bytes")
        if not self.pages:
            self.add_page()
        self._footer()
        extra = {style: "".join(chars) for style, chars in self.extra.items()}
        return write_pdf(self.pages, extra, self.title, self.creation_date)

    def _footer(self) -> None:
        self.in_footer = True
        self.footer()
        self.in_footer = False

    def _out(self, line: str) -> None:
        self.pages[-1].lines.append(line)

    def _move(self, w: float, h: float, new_x: str, new_y: str) -> None:
        if new_x == "RIGHT":
            self.x += w
        elif new_x == "LMARGIN":
            self.x = self.l_margin
        elif new_x != "LEFT":
            raise ValueError(f"a Sheet does not move to {new_x}")
        if new_y == "NEXT":
            self.y += h
        elif new_y != "TOP":
            raise ValueError(f"a Sheet does not move to {new_y}")

    def _units(self, text: str) -> int:
        try:
            return sum(map(self.face.widths.__getitem__, text))
        except KeyError:  # a character the face lacks: measured as fpdf2 does, refused by `_encode`
            widths, missing = self.face.widths, self.face.missing_width
            return sum(widths.get(char, missing) for char in text)

    def _mm(self, units: int) -> float:
        """A width in thousandths of the font size, in millimetres: fpdf2's arithmetic, to the last bit."""
        return units * self.size_pt * 0.001 / self.k

    def _line(self, w: float, h: float, text: str, units: int, align: str, border: int | str = 0) -> None:
        """One line of text in a box w × h at the current position (FPDF._render_styled_text_line)."""
        if self.y + h > self.page_break_trigger and not self.in_footer:
            x = self.x
            self.font_set_on_page = False
            self.add_page()
            self.x = x
        k, x, y = self.k, self.x, self.y
        drawn = self._borders(w, h, border) if border else []
        if text:
            width = self._mm(units)
            dx = {"L": self.c_margin, "R": w - self.c_margin - width, "C": (w - width) / 2}[align]
            font_size = self.size_pt / k
            drawn.append(f"BT {(x + dx) * k:.2f} {(self.h - y - 0.5 * h - 0.3 * font_size) * k:.2f} Td")
            if not self.font_set_on_page:
                self._out(f"BT /F{self.face.number} {self.size_pt:.2f} Tf ET")
                self.pages[-1].fonts.add(self.face.number)
                self.font_set_on_page = True
            drawn.append(f"({self._encode(text)}) Tj ET")
        if drawn:
            self._out(" ".join(drawn))

    def _borders(self, w: float, h: float, border: str) -> list[str]:
        if not isinstance(border, str) or set(border) - {"T", "B"}:
            raise ValueError(f"a Sheet draws only top and bottom borders, not {border}")
        k, x, y = self.k, self.x, self.y
        left, right, top, bottom = x * k, (x + w) * k, (self.h - y) * k, (self.h - (y + h)) * k
        return [f"{left:.2f} {edge:.2f} m {right:.2f} {edge:.2f} l S"
                for side, edge in (("T", top), ("B", bottom)) if side in border]

    def _encode(self, text: str) -> str:
        """The text as the codes of its glyphs in this document's subset of the face, escaped for a PDF string."""
        escaped = self.escaped[self.face.style]
        try:
            return "".join(map(escaped.__getitem__, text))
        except KeyError:
            for char in text:
                if char not in escaped:
                    self._pick(char)
            return "".join(map(escaped.__getitem__, text))

    def _pick(self, char: str) -> None:
        """Give a character beyond the padded glyphs the face's next code, as fpdf2's subset map does."""
        face = self.face
        if char not in face.widths:
            raise UnprintableText(char, f"the payslip ({face.font.name})")
        self.escaped[face.style][char] = escaped_code(self.free[face.style])
        self.free[face.style] = next_free(self.free[face.style])
        self.extra[face.style].append(char)

    def _wrap(self, text: str, max_width: float) -> list[tuple[str, int]]:
        """The lines of `text` in `max_width` millimetres and each one's width in units: fpdf2's MultiLineBreak for
        one run of one font, which breaks at the last space that fits (the space dropped), else within a word, and
        prints a no-break space as a space."""
        units = self._units(text)
        if self._mm(units) < max_width - 1e-6 and NBSP not in text:  # fits, with room to spare for any rounding
            return [(text, units)] if units else []
        widths, missing = self.face.widths, self.face.missing_width
        lines, start, end = [], 0, len(text)
        while start < end:
            chars: list[str] = []
            units, space, at, full = 0, None, start, False
            while at < end and not full:
                char = text[at]
                if self._mm(units) + self._mm(widths.get(char, missing)) - max_width > TOLERANCE:
                    if char in BREAKING_SPACE_SYMBOLS_STR:
                        at += 1
                    elif space is not None:
                        at, kept, units = space
                        del chars[kept:]
                        at += 1
                    elif not chars:
                        raise ValueError(f"{char!r} is wider than its box")
                    full = True
                    continue
                if char in BREAKING_SPACE_SYMBOLS_STR:
                    space = at, len(chars), units
                char = " " if char == NBSP else char
                chars.append(char)
                units += widths.get(char, missing)
                at += 1
            if not full and not units:
                break
            lines.append(("".join(chars), units))
            start = at
        return lines
