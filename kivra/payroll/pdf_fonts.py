"""The payslip's two DejaVu faces: parsed by fpdf2 once per process, subset by fontTools once per set of glyphs, and
their PDF objects serialised by fpdf2's own classes once per subset and position in the file."""
import copy
import threading
from dataclasses import dataclass
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path

from fontTools import subset as ftsubset
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import CIDSystemInfo, PDFFont, PDFFontStream, _build_cmap_blocks, _cid_font_widths
from fpdf.syntax import Name, PDFArray, PDFContentStream
from fpdf.util import escape_parens

FONTS = Path(__file__).parent / "fonts"

# Parsing a TTF and subsetting it with fontTools took ~55 of the ~60 ms a payslip cost, so both happen once per
# process (bench/pdf_build.py). A face's subset always holds its glyphs below, used or not, so nearly every payslip
# embeds the same subset. Bold text is labels and amounts; regular text also has names, descriptions, bank accounts.
AMOUNT_GLYPHS = "0123456789 ,-%\u00a0\u2212"
TEXT_GLYPHS = "".join(map(chr, range(0x20, 0x7F))) + "ÅÄÖåäöÉéÜü\u00a0\u2212"
FACES = {"": ("DejaVuSans-subset.ttf", TEXT_GLYPHS), "B": ("DejaVuSans-Bold-subset.ttf", AMOUNT_GLYPHS)}
OBJECTS_PER_FACE = 7  # Type0 font, CID font, ToUnicode, CIDSystemInfo, descriptor, CIDToGIDMap, font file


@dataclass(frozen=True)
class Face:
    """What drawing text needs of a face: its resource number, its glyphs' widths and the codes of its padded
    glyphs (as fpdf2's subset map gives them; a payslip's other characters get the next codes, in order of use)."""
    style: str
    number: int  # /F1, /F2: the order fpdf2 numbers fonts in as they are added
    font: TTFFont
    widths: dict[str, int]  # per mille of the font size
    missing_width: int
    codes: dict[str, int]
    glyphs: tuple  # the padded subset as `(code, glyph name, unicode, width)`, .notdef and space first
    first_free: int  # the code of the first character beyond them
    escaped: dict[str, str]  # each padded glyph's code as it stands in a PDF string


    def glyph(self, char: str, code: int) -> tuple:
        point = ord(char)
        return code, self.font.cmap[point], (point,), self.widths[char]


_parsing = threading.Lock()


@cache
def faces() -> dict[str, Face]:
    """Both faces, parsed by fpdf2 once per process; only read after that, by any thread."""
    with _parsing:
        return {style: _face(number, style) for number, style in enumerate(FACES, start=1)}


def _face(number: int, style: str) -> Face:
    file, padded = FACES[style]
    scratch = FPDF()
    scratch.add_font("DejaVu", style, FONTS / file)
    font = scratch.fonts[f"dejavu{style}"]
    font.close()
    font.ttfont = None  # subsetting would change it in place; `embedding` opens the file afresh
    widths = {chr(point): int(font.cw[point]) for point in font.glyph_ids}  # before a lookup writes into `cw`
    subset = SubsetMap(font)
    for char in padded:
        subset.pick(ord(char))
    glyphs = tuple((code, glyph.glyph_name, glyph.unicode, glyph.glyph_width)
                   for glyph, code in subset.items() if glyph is not None)
    subset.pick.cache_clear()  # fpdf2 caches picks for every subset map alive
    subset.get_glyph.cache_clear()
    font.subset, font.missing_glyphs = None, []
    codes = {chr(unicode[0]): code for code, _, unicode, _ in glyphs if unicode[0]}
    return Face(style, number, font, widths, font.desc.missing_width, codes, glyphs,
                next_free(max((code for code in codes.values() if code != 0x20), default=0)), {char: escaped_code(code) for char, code in codes.items()})


@cache
def escaped_code(code: int) -> str:
    """A glyph's two-byte code as it stands in a PDF string (fpdf2's TTFFont.escape_text, one character)."""
    return escape_parens(chr(code >> 8) + chr(code & 0xFF))


def next_free(code: int) -> int:
    """The code fpdf2's subset map gives after `code`: 0 (.notdef) and 0x20 (space) are reserved."""
    return code + 1 if code + 1 != 0x20 else 0x21


@lru_cache(maxsize=256)  # names with letters outside the padded glyphs add entries
def font_objects(style: str, extra: str, first: int) -> "SerialisedObjects":
    """A face's objects, numbered from `first`, for its padded glyphs plus `extra` (the document's other characters
    in this face, in order of use); as fpdf2 2.8 writes them for a TrueType font, in its order."""
    face = faces()[style]
    glyphs, code = list(face.glyphs), face.first_free
    for char in extra:
        glyphs.append(face.glyph(char, code))
        code = next_free(code)
    made = embedding(FACES[style][0], tuple(glyphs))
    name = f"MPDFAA+{face.font.name}"
    composite = PDFFont(subtype="Type0", base_font=name, encoding="Identity-H")
    cid_font = PDFFont(subtype="CIDFontType2", base_font=name, d_w=face.missing_width, w=made.widths)
    to_unicode, cid_to_gid, font_file = (copy.copy(stream) for stream in made.streams())
    system_info = CIDSystemInfo()
    descriptor = copy.copy(face.font.desc)
    descriptor.font_name = Name(name)
    objects = (composite, cid_font, to_unicode, system_info, descriptor, cid_to_gid, font_file)
    for number, obj in enumerate(objects, start=first):
        obj.id = number
    composite.descendant_fonts = PDFArray([cid_font])
    composite.to_unicode = to_unicode
    cid_font.c_i_d_system_info = system_info
    cid_font.font_descriptor = descriptor
    cid_font.c_i_d_to_g_i_d_map = cid_to_gid
    descriptor.font_file2 = font_file
    content, offsets = bytearray(), []
    for obj in objects:
        offsets.append(len(content))
        content += f"{obj.serialize()}\n".encode("latin-1")
    return SerialisedObjects(bytes(content), tuple(offsets))


@dataclass(frozen=True)
class SerialisedObjects:
    content: bytes
    offsets: tuple[int, ...]  # where each object starts in `content`


@dataclass(frozen=True)
class Embedding:
    widths: str
    to_unicode: PDFContentStream
    cid_to_gid_map: PDFContentStream
    font_file: PDFFontStream

    def streams(self) -> tuple:
        return self.to_unicode, self.cid_to_gid_map, self.font_file


@lru_cache(maxsize=128)
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
