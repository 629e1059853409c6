"""The payroll run's accounting voucher (verifikation) on BAS accounts."""
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from flask_babel import lazy_gettext as _l

from kivra.payroll.calculation import Totals

ACCOUNTS = {
    7210: _l("Salaries to salaried employees"),
    2710: _l("Employee tax deductions"),
    1930: _l("Business account"),
    7510: _l("Statutory social security contributions"),
    2731: _l("Statutory social security contributions payable"),
}
# The account names as the Swedish BAS chart has them, for the SIE file.
BAS_NAMES = {
    7210: "Löner till tjänstemän",
    2710: "Personalskatt",
    1930: "Företagskonto/checkkonto/affärskonto",
    7510: "Arbetsgivaravgifter",
    2731: "Avräkning lagstadgade sociala avgifter",
}


@dataclass(frozen=True)
class Row:
    account: int
    amount_ore: int  # debit positive, credit negative


def rows_for(totals: Iterable[Totals]) -> list[Row]:
    """Debit gross and contributions; credit tax, net pay and contributions payable."""
    sums = Counter()
    for t in totals:
        sums["gross"] += t.gross_ore
        sums["tax"] += t.tax_ore
        sums["net"] += t.net_ore
        sums["contributions"] += t.contributions_ore
    return [
        Row(7210, sums["gross"]),
        Row(2710, -sums["tax"]),
        Row(1930, -sums["net"]),
        Row(7510, sums["contributions"]),
        Row(2731, -sums["contributions"]),
    ]


def difference(wanted: list[Row], posted: Iterable[Row]) -> list[Row]:
    """What is left to post: the wanted rows less everything already posted, zero rows dropped."""
    left = Counter({row.account: row.amount_ore for row in wanted})
    for row in posted:
        left[row.account] -= row.amount_ore
    return [Row(account, left[account]) for account in ACCOUNTS if left[account] != 0]


def is_balanced(rows: Iterable[Row]) -> bool:
    return sum(row.amount_ore for row in rows) == 0
