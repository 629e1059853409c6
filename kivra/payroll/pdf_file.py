"""The PDF file around a payslip's pages, in the objects, order and syntax fpdf2 2.8 writes (a PDF 1.3 file).

By hand, because these few objects are the same for every payslip but for object numbers, lengths and the text:
fpdf2 builds and introspects an object model to write them, which cost more than drawing the page. The fonts'
objects, the part that needs a font library, are fpdf2's own (`pdf_fonts.font_objects`), made once per subset.
"""
import hashlib
import zlib
from dataclasses import dataclass, field
from datetime import datetime

from fpdf.output import _dimensions_to_mediabox
from fpdf.syntax import PDFDate, PDFString

from kivra.payroll.pdf_fonts import OBJECTS_PER_FACE, SerialisedObjects, faces, font_objects

MEDIA_BOX = _dimensions_to_mediabox((595.28, 841.89))  # A4 in points, as fpdf2 gives it
PROC_SET = "[/PDF /Text /ImageB /ImageC /ImageI]"


@dataclass
class PageContent:
    lines: list[str] = field(default_factory=list)  # the content stream, one operation line each
    fonts: set[int] = field(default_factory=set)  # the faces (/F1, /F2) the page selects


def write_pdf(pages: list[PageContent], extra: dict[str, str], title: str, created: datetime) -> bytes:
    """The file: catalogue, pages and their compressed content streams, fonts, each page's resources, document
    information, cross-reference table; the file identifier is fpdf2's (an MD5 of the file and creation date)."""
    count = len(pages)
    first_font = 3 + 2 * count
    font_numbers = {face.number: first_font + OBJECTS_PER_FACE * (face.number - 1) for face in faces().values()}
    first_resources = first_font + OBJECTS_PER_FACE * len(font_numbers)
    kids = "\n".join(f"{3 + 2 * n} 0 R" for n in range(count))
    file = File()
    file.add(f"<<\n/Count {count}\n/Kids [{kids}]\n/MediaBox {MEDIA_BOX}\n/Type /Pages\n>>".encode())
    file.add(b"<<\n/OpenAction [3 0 R /FitH null]\n/PageLayout /OneColumn\n/Pages 1 0 R\n/Type /Catalog\n>>")
    for n, page in enumerate(pages):
        stream = zlib.compress("".join(f"{line}\n" for line in page.lines).encode("latin-1"))
        file.add(f"<<\n/Contents {file.number + 2} 0 R\n/Parent 1 0 R\n/Resources {first_resources + n} 0 R\n"
                 f"/Type /Page\n>>".encode())
        file.add(b"<<\n/Filter /FlateDecode\n/Length %d\n>>\nstream\n%s\nendstream" % (len(stream), stream))
    for face in faces().values():  # made by fpdf2, numbered from where they stand in this file
        file.add_made(font_objects(face.style, extra[face.style], file.number + 1))
    for page in pages:
        fonts = "\n".join(f"/F{number} {font_numbers[number]} 0 R" for number in sorted(page.fonts))
        file.add(f"<<\n/Font <<{fonts}>>\n/ProcSet {PROC_SET}\n>>".encode() if fonts
                 else f"<<\n/ProcSet {PROC_SET}\n>>".encode())
    date = PDFDate(created, with_tz=True).serialize()
    title = f"\n/Title {PDFString(title).serialize()}" if title else ""
    file.add(f"<<\n/CreationDate {date}{title}\n>>".encode("latin-1"))
    return file.close(created)


class File:
    """Objects appended in order, numbered from 1, with where each starts for the cross-reference table."""

    def __init__(self):
        self.buffer = bytearray(b"%PDF-1.3\n%\xe9\xeb\xf1\xbf\n")
        self.offsets: list[int] = []

    @property
    def number(self) -> int:
        """The number of the last object added."""
        return len(self.offsets)

    def add(self, body: bytes) -> None:
        self.offsets.append(len(self.buffer))
        self.buffer += b"%d 0 obj\n%s\nendobj\n" % (len(self.offsets), body)

    def add_made(self, made: SerialisedObjects) -> None:
        """Objects serialised elsewhere, numbered to follow the last one."""
        self.offsets.extend(len(self.buffer) + offset for offset in made.offsets)
        self.buffer += made.content

    def close(self, created: datetime) -> bytes:
        start = len(self.buffer)
        identifier = hashlib.md5(self.buffer, usedforsecurity=False)
        identifier.update(created.strftime("%Y%m%d%H%M%S").encode())
        digest = identifier.hexdigest().upper()
        size = len(self.offsets) + 1
        table = "".join(f"{offset:010} 00000 n \n" for offset in self.offsets)
        self.buffer += (
            f"xref\n0 {size}\n0000000000 65535 f \n{table}trailer\n<<\n/Size {size}\n/Root 2 0 R\n"
            f"/Info {size - 1} 0 R\n/ID [<{digest}><{digest}>]\n>>\nstartxref\n{start}\n%%EOF\n"
        ).encode()
        return bytes(self.buffer)
