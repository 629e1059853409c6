"""Swedish identity numbers as Skatteverket defines them: personnummer, samordningsnummer and organisationsnummer.

Every place that takes such a number parses it here and says what is wrong with the reason's message (the employee
form; the operator's create-company). Plain Python: the date of birth is checked against today's Swedish date.

- A personnummer is YYMMDD-NNNC or YYYYMMDD-NNNC: the date of birth, a three-digit birth number (never 000) and a
  Luhn check digit over the ten digits from YY. Written with six date digits it names the last hundred years, and
  `+` adds a hundred (someone 100 or older). With the century written, `-` and `+` mean the same.
- A samordningsnummer is one with 60 added to the day: Kivra refuses them, Min lön takes them.
- The date of birth (a samordningsnummer's day less 60) is from 1 January 1870 (`EARLIEST_BIRTH`) up to today's
  Swedish date: nobody on a payroll was born earlier, nobody is born tomorrow.
- An organisationsnummer is ten digits with a Luhn check digit: the first is the group (5 aktiebolag, …), the third
  at least 2, which no month has. A sole trader's (enskild firma's) org.nr is their personnummer.

A space for the separator is taken only in the twelve-digit form, where it cannot hide a `+`: `19090527 1474` is
19090527-1474, but `090527 1474` could be someone born in 1909 or in 2009, so it is refused with a message that says
to write `-` or `+` (as the shared reference implementations refuse every space).
"""
import re
from dataclasses import dataclass
from datetime import date

from kivra import clock

_PERSONNUMMER = re.compile(
    r"^(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+ ]?)(?P<serial>\d{3})(?P<check>\d)$", re.ASCII)
EARLIEST_BIRTH = date(1870, 1, 1)
ORG_GROUPS = {  # the first digit of a legal person's organisationsnummer
    "1": "dödsbo", "2": "stat, region, kommun eller församling", "3": "utländskt företag", "5": "aktiebolag",
    "6": "enkelt bolag", "7": "ekonomisk förening", "8": "ideell förening eller stiftelse",
    "9": "handelsbolag eller kommanditbolag",
}


class PersonnummerError(ValueError):
    """Why a text is not a personnummer: `format`, `space` (a space in the short form), `date` (no such day),
    `born` (before 1870 or after today), `serial` (birth number 000) or `checksum`."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class OrgnrError(ValueError):
    """Why a text is not an organisationsnummer: `format`, `checksum` or `group` (third digit below 2 and not a
    personnummer either)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Personnummer:
    digits: str  # always 12 digits, YYYYMMDDNNNC

    @property
    def is_coordination_number(self) -> bool:
        """A samordningsnummer: day of birth plus 60. Kivra does not accept these."""
        return int(self.digits[6:8]) > 60

    @property
    def birth_date(self) -> date:
        day = int(self.digits[6:8])
        return date(int(self.digits[:4]), int(self.digits[4:6]), day - 60 if day > 60 else day)

    def formatted(self) -> str:
        return f"{self.digits[:8]}-{self.digits[8:]}"

    def short(self, today: date | None = None) -> str:
        """YYMMDD-NNNC, or YYMMDD+NNNC for someone 100 or older (on `today`)."""
        sign = "+" if _age(self.birth_date, today or clock.today_in_sweden()) >= 100 else "-"
        return f"{self.digits[2:8]}{sign}{self.digits[8:]}"

    def masked(self) -> str:
        """Birth date shown, last four hidden: enough to tell people apart in a list."""
        return f"{self.digits[:8]}-****"


@dataclass(frozen=True)
class Organisationsnummer:
    digits: str  # always 10 digits, NNNNNNNNNC

    @property
    def is_sole_trader(self) -> bool:
        """An enskild firma: the number is its owner's personnummer (Kivra does not onboard these)."""
        return self.digits[2] in "01"

    @property
    def group(self) -> str | None:
        """What kind of legal person it is (None for a sole trader)."""
        return None if self.is_sole_trader else ORG_GROUPS.get(self.digits[0])

    def formatted(self) -> str:
        return f"{self.digits[:6]}-{self.digits[6:]}"

    def vat_number(self) -> str:
        return f"SE{self.digits}01"


def luhn_valid(ten_digits: str) -> bool:
    total = 0
    for index, char in enumerate(ten_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return total % 10 == 0


def with_check_digit(first_eleven: str) -> str:
    """Complete a YYYYMMDDNNN with the Luhn digit that makes it a valid personnummer."""
    return next(first_eleven + d for d in "0123456789" if luhn_valid(first_eleven[2:] + d))


def parse_personnummer(text: str, today: date | None = None) -> Personnummer:
    """Parse `YYYYMMDD-NNNC`, `YYYYMMDDNNNC`, `YYYYMMDD+NNNC`, `YYYYMMDD NNNC`, `YYMMDD-NNNC`, `YYMMDDNNNC` or
    `YYMMDD+NNNC` (100 or older). Raises PersonnummerError with the reason."""
    today = today or clock.today_in_sweden()
    match = _PERSONNUMMER.match((text or "").strip())
    if not match:
        raise PersonnummerError("format")
    yymmdd, sep, last_four = match["yymmdd"], match["sep"], match["serial"] + match["check"]
    if match["century"]:
        number = _build(int(match["century"] + yymmdd[:2]), yymmdd, last_four)
    else:
        if sep == " ":
            raise PersonnummerError("space")
        # YYMMDD names the last hundred years (271231 in 2026 is 1927); with `+` the person is 100 or older.
        number = _build(today.year - (today.year - int(yymmdd[:2])) % 100, yymmdd, last_four)
        if number.birth_date > today:
            number = _build(int(number.digits[:4]) - 100, yymmdd, last_four)
        if sep == "+":
            while _age(number.birth_date, today) < 100:
                number = _build(int(number.digits[:4]) - 100, yymmdd, last_four)
    if not EARLIEST_BIRTH <= number.birth_date <= today:
        raise PersonnummerError("born")
    if match["serial"] == "000":
        raise PersonnummerError("serial")
    if not luhn_valid(number.digits[2:]):
        raise PersonnummerError("checksum")
    return number


def parse_orgnr(text: str, today: date | None = None) -> Organisationsnummer:
    """Parse `NNNNNN-NNNC`, `NNNNNNNNNC` or the twelve-digit form with the prefix 16; a sole trader's personnummer
    (any form above) is their org.nr. Raises OrgnrError with the reason."""
    compact = (text or "").strip()
    if re.fullmatch(r"16\d{10}|16\d{6}-\d{4}", compact):
        compact = compact[2:]
    if re.fullmatch(r"\d{6}-?\d{4}", compact):
        digits = compact.replace("-", "")
        if not luhn_valid(digits):
            raise OrgnrError("checksum")
        if int(digits[2]) >= 2:
            return Organisationsnummer(digits)
    try:
        return Organisationsnummer(parse_personnummer(text, today).digits[2:])  # an enskild firma
    except PersonnummerError as error:
        raise OrgnrError("format" if error.reason in ("format", "space") else "group") from None


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _build(year: int, yymmdd: str, last_four: str) -> Personnummer:
    number = Personnummer(f"{year:04d}{yymmdd[2:]}{last_four}")
    try:
        number.birth_date
    except ValueError:
        raise PersonnummerError("date") from None
    return number
