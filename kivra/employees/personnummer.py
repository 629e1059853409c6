"""Swedish personal identity numbers (personnummer) and coordination numbers (samordningsnummer)."""
import re
from dataclasses import dataclass
from datetime import date

from kivra import clock

_PATTERN = re.compile(r"^(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+]?)(?P<serial>\d{3})(?P<check>\d)$", re.ASCII)


class PersonnummerError(ValueError):
    """Why a text is not a personnummer: `format`, `date` or `checksum`."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Personnummer:
    digits: str  # always 12 digits, YYYYMMDDNNNN

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

    def masked(self) -> str:
        """Birth date shown, last four hidden: enough to tell people apart in a list."""
        return f"{self.digits[:8]}-****"


def luhn_valid(ten_digits: str) -> bool:
    total = 0
    for index, char in enumerate(ten_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return total % 10 == 0


def parse(text: str, today: date | None = None) -> Personnummer:
    """Parse `YYYYMMDD-NNNN`, `YYYYMMDDNNNN`, `YYMMDD-NNNN` (or `+` for 100 years or older)."""
    today = today or clock.today_in_sweden()
    match = _PATTERN.match((text or "").strip().replace(" ", ""))
    if not match:
        raise PersonnummerError("format")
    yymmdd, sep = match["yymmdd"], match["sep"]
    if match["century"]:
        if sep == "+":
            raise PersonnummerError("format")
        year = int(match["century"] + yymmdd[:2])
    else:
        year = _year_from_two_digits(int(yymmdd[:2]), today, centenarian=sep == "+")
    number = _build(year, yymmdd, match["serial"] + match["check"])
    if not match["century"] and (number.birth_date > today or (sep == "+" and _age(number.birth_date, today) < 100)):
        # YYMMDD names the last hundred years (271231 in 2026 is 1927); with `+` the person is 100 or older.
        number = _build(year - 100, yymmdd, match["serial"] + match["check"])
    if number.birth_date > today:
        raise PersonnummerError("date")
    digits = number.digits
    if not luhn_valid(digits[2:]):
        raise PersonnummerError("checksum")
    return number


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _build(year: int, yymmdd: str, last_four: str) -> Personnummer:
    number = Personnummer(f"{year:04d}{yymmdd[2:]}{last_four}")
    try:
        number.birth_date
    except ValueError:
        raise PersonnummerError("date") from None
    return number


def _year_from_two_digits(yy: int, today: date, centenarian: bool) -> int:
    year = today.year - (today.year - yy) % 100
    return year - 100 if centenarian else year
