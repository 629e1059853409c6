"""Where a company pays salaries from: a bankgiro number, or a Swedish bank account (clearing and account number).

The rules, as Bankgirot publishes them (docs/company-settings.md says which and why this is not the `bankkonto`
package):
- A bankgiro number is 7 or 8 digits whose last is a Luhn (modulus 10) check digit over the others; written
  `123-4567` or `1234-5678`.
- A clearing number is 4 digits, 1000–9999. Swedbank's that start with 8 have a fifth digit, a Luhn check digit over
  the four (`8327-9`), which the bank prints on every statement: it is required here, so a mistyped clearing number
  is caught.
- An account number is 7 to 10 digits after the clearing number (7 at most banks, 9 at Handelsbanken, up to 10 at
  Swedbank and for Nordea's personkonto).
Spaces, hyphens and dots as people write them are ignored.
"""
import re

from kivra.identity import luhn_valid


class BankAccountError(ValueError):
    """Why a text is not a bankgiro, clearing or account number: `format`, `length` or `checksum`."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _digits(text: str | None) -> str:
    compact = re.sub(r"[\s.-]", "", text or "")
    if not compact.isascii() or not compact.isdigit():
        raise BankAccountError("format")
    return compact


def luhn(digits: str) -> bool:
    """Modulus 10 with weights 2, 1, 2, … from the right, the check digit last (any length)."""
    return luhn_valid(digits if len(digits) % 2 == 0 else "0" + digits)


def parse_bankgiro(text: str) -> str:
    """7 or 8 digits, no hyphen, with a valid check digit."""
    digits = _digits(text)
    if len(digits) not in (7, 8):
        raise BankAccountError("length")
    if not luhn(digits):
        raise BankAccountError("checksum")
    return digits


def format_bankgiro(digits: str) -> str:
    """`123-4567` or `1234-5678`."""
    return f"{digits[:-4]}-{digits[-4:]}"


def parse_clearing(text: str) -> str:
    """4 digits (1000–9999), or 5 for Swedbank's 8xxx-x with its check digit."""
    digits = _digits(text)
    if digits.startswith("8"):
        if len(digits) != 5:
            raise BankAccountError("length")
        if not luhn(digits):
            raise BankAccountError("checksum")
        return digits
    if len(digits) != 4 or digits.startswith("0"):
        raise BankAccountError("length")
    return digits


def format_clearing(digits: str) -> str:
    return f"{digits[:4]}-{digits[4]}" if len(digits) == 5 else digits


def parse_account_number(text: str) -> str:
    digits = _digits(text)
    if not 7 <= len(digits) <= 10:
        raise BankAccountError("length")
    return digits
