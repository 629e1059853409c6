"""Money as text. Amounts are kept in öre (int); each reader gets the text it wants from here, and every one of
them is exact: made from the whole öre (`kronor`, or kronor and öre by integer division), never from a float. Plain
Python: the worker and the PDF use it without Flask."""
import re
from decimal import Decimal


def kronor(ore: int) -> Decimal:
    """Öre as kronor, exactly and with two decimals: 123450 → Decimal("1234.50")."""
    return Decimal(ore).scaleb(-2)


def sie_amount(ore: int) -> str:
    """SIE's amount: a point and two decimals, `1234.50`, `-0.05`."""
    return f"{kronor(ore):f}"


def kivra_amount(ore: int) -> str:
    """Kivra's `monetary_amount` (a decimal string, as the salaryslip schema wants): `32500`, `32500.50`, `-1000`."""
    amount = kronor(ore)
    return f"{amount.quantize(Decimal(1)):f}" if ore % 100 == 0 else f"{amount:f}"


def swedish_kronor(ore: int) -> str:
    """Swedish currency text whatever the reader's language, for the payslip PDF and its Kivra HTML part:
    `1 234,50 kr` (no-break spaces), the text Babel gives for SEK in sv_SE (a unit test compares). Written here
    because Babel took ~25 µs an amount and a payslip prints a dozen."""
    whole, ore_part = divmod(abs(ore), 100)
    grouped = f"{whole:,}".replace(",", "\u00a0")
    return f"{'-' if ore < 0 else ''}{grouped},{ore_part:02d}\u00a0kr"


def typed_kronor(ore: int) -> str:
    """Kronor as a person types them in a form, `32500,50`: what `parse_kronor` reads back."""
    return f"{kronor(ore):f}".replace(".", ",")


# What a person may type for a number: digits, optionally grouped by three with a space (a no-break space, as Babel
# writes Swedish numbers, too), and one decimal comma or point. No exponent (`1e5`), no NaN or Infinity, no other
# digits than 0-9: Python's Decimal takes all of those, a Swede means none of them.
_PLAIN_NUMBER = re.compile(r"(?P<minus>[-\u2212]?)(?P<whole>\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[,.](?P<fraction>\d+))?",
                           re.ASCII)
MAX_TYPED_LENGTH = 40
MAX_AMOUNT_ORE = 10_000_000_00  # 10 000 000 kr: an amount on a payslip (a line, a monthly salary) is at most this


class NumberError(ValueError):
    """Why a typed number was refused: `format` (not a plain number, or too many decimals), `negative` (a minus sign
    where none makes sense) or `range` (outside the bounds)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse_plain_decimal(text: str | None, places: int, suffix: str = "", negative: bool = False) -> Decimal:
    """A plain decimal as a person types it, `12 345,67` or `12345.67`, with at most `places` decimals; `suffix`
    (`kr`, `%`) may follow. Raises NumberError."""
    cleaned = (text or "").strip()
    if suffix and cleaned.endswith(suffix):
        cleaned = cleaned[: -len(suffix)].rstrip()
    match = _PLAIN_NUMBER.fullmatch(cleaned) if len(cleaned) <= MAX_TYPED_LENGTH else None
    if match is None or len(match["fraction"] or "") > places:
        raise NumberError("format")
    if match["minus"] and not negative:
        raise NumberError("negative")
    whole = re.sub(r"\D", "", match["whole"])
    return Decimal(f"{'-' if match['minus'] else ''}{whole}.{match['fraction'] or '0'}")


def parse_kronor(text: str | None, maximum_ore: int = MAX_AMOUNT_ORE) -> int:
    """Kronor as a person types them (`32 500`, `32 500,50`, `32500.5`, `32 500 kr`) to öre, at least 0 and at most
    `maximum_ore`: `32 500,50` → 3250050. Raises NumberError."""
    ore = int(parse_plain_decimal(text, 2, suffix="kr").scaleb(2))
    if ore > maximum_ore:
        raise NumberError("range")
    return ore


def parse_percent(text: str | None) -> Decimal:
    """A per cent between 0 and 100 with at most two decimals (a rate: tax, employer contributions), `31,42` or
    `31,42 %`. Raises NumberError."""
    rate = parse_plain_decimal(text, 2, suffix="%")
    if rate > 100:
        raise NumberError("range")
    return rate
