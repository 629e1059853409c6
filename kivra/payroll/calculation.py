"""Payroll maths in öre: gross, preliminary tax, net and employer contributions."""
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Iterable


class NegativeGrossError(ValueError):
    """Deductions larger than salary and additions."""


@dataclass(frozen=True)
class Line:
    kind: str  # salary | addition | deduction
    description: str
    amount_ore: int

    @property
    def signed_ore(self) -> int:
        return -self.amount_ore if self.kind == "deduction" else self.amount_ore


@dataclass(frozen=True)
class Totals:
    gross_ore: int
    tax_ore: int
    net_ore: int
    contributions_ore: int


def percent_of(amount_ore: int, rate: Decimal, rounding: str = ROUND_HALF_UP) -> int:
    return int((Decimal(amount_ore) * rate / 100).quantize(Decimal(1), rounding=rounding))


def preliminary_tax(gross_ore: int, tax_rate: Decimal) -> int:
    """Tax withheld, rounded down to whole kronor as Skatteverket's rules for tax deductions say."""
    kronor = (Decimal(gross_ore) * tax_rate / 100 / 100).quantize(Decimal(1), rounding=ROUND_DOWN)
    return int(kronor) * 100


def calculate(lines: Iterable[Line], tax_rate: Decimal, contribution_rate: Decimal) -> Totals:
    gross = sum(line.signed_ore for line in lines)
    if gross < 0:
        raise NegativeGrossError(gross)
    tax = preliminary_tax(gross, tax_rate)
    return Totals(
        gross_ore=gross,
        tax_ore=tax,
        net_ore=gross - tax,
        contributions_ore=percent_of(gross, contribution_rate),
    )

