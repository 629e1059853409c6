"""Money as text. Amounts are kept in öre (int); each reader gets the text it wants from here, and every one of
them starts from the same exact öre→kronor conversion. Plain Python: the worker and the PDF use it without Flask."""
from decimal import Decimal

from babel import Locale
from babel.numbers import format_currency

SWEDISH = Locale.parse("sv_SE")  # parsed once: Babel parses a locale name on every call


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
    `1 234,50 kr`."""
    return format_currency(kronor(ore), "SEK", locale=SWEDISH)


def typed_kronor(ore: int) -> str:
    """Kronor as a person types them in a form, `32500,50`: what `payroll.calculation.parse_amount` reads back."""
    return f"{kronor(ore):f}".replace(".", ",")
