"""What a text may hold: no control characters anywhere, and on a payslip only what the payslip's font can print."""
import unicodedata
from functools import cache
from itertools import groupby
from pathlib import Path

from fontTools.ttLib import TTFont

FONT_FILES = [Path(__file__).parent / "fonts" / name for name in ("DejaVuSans-subset.ttf", "DejaVuSans-Bold-subset.ttf")]
# Control (Cc: C0, DEL, C1 with NEL), format (Cf: bidi overrides, zero-width), surrogate, private use, line and
# paragraph separators: characters that break a line, hide text or reorder it. A space (Zs) is a character.
CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


class UnprintableText(ValueError):
    """A text holds a character the payslip cannot print or that has no place in it."""

    def __init__(self, char: str, where: str = "text"):
        super().__init__(f"{where} holds {code_point(char)}, which the payslip cannot print")
        self.char = char


def code_point(char: str) -> str:
    return f"U+{ord(char):04X}"


def control_character(text: str, multiline: bool = False) -> str | None:
    """The first control character of the text (CR and LF allowed in a multi-line text), or None."""
    return next((c for c in text if is_control(c) and not (multiline and c in "\r\n")), None)


def is_control(char: str) -> bool:
    return unicodedata.category(char) in CONTROL_CATEGORIES


def without_control(text: str) -> str:
    """The text on one line: every run of control characters becomes one space."""
    return "".join(" " if control else "".join(run) for control, run in groupby(text, is_control))


@cache
def printable() -> frozenset[str]:
    """Every character both payslip faces have a glyph for, read from their cmaps once; no control character."""
    maps = []
    for file in FONT_FILES:
        with TTFont(file, lazy=True) as font:
            maps.append(set(font.getBestCmap()))
    return frozenset(chr(code) for code in set.intersection(*maps) if not is_control(chr(code)))


def unprintable_character(text: str) -> str | None:
    """The first character of the text (as the PDF prints it, composed) that the payslip cannot print, or None."""
    chars = printable()
    return next((c for c in unicodedata.normalize("NFC", text) if c not in chars), None)


def check_printable(text: str, where: str = "text") -> str:
    """The text as the PDF prints it (composed); raises UnprintableText rather than let a character vanish."""
    char = unprintable_character(text)
    if char is not None:
        raise UnprintableText(char, where)
    return unicodedata.normalize("NFC", text)
