"""SIE 4 export of posted vouchers: the Swedish accounting exchange format, in CP437 (PC8)."""
from dataclasses import dataclass
from datetime import date
from typing import Iterable

from kivra.money import sie_amount
from kivra.payroll.printable import without_control
from kivra.payroll.voucher import BAS_NAMES, Row


@dataclass(frozen=True)
class SieVoucher:
    series: str
    number: int
    voucher_date: date
    text: str
    rows: list[Row]


def quote(text: str) -> str:
    """A SIE string: on one line (a run of control characters becomes a space), quotes and backslashes escaped."""
    return '"' + without_control(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def sie4(company_name: str, orgnr: str, generated: date, vouchers: Iterable[SieVoucher]) -> bytes:
    vouchers = list(vouchers)
    year = vouchers[0].voucher_date.year if vouchers else generated.year
    lines = [
        "#FLAGGA 0",
        '#PROGRAM "Kivra Payroll" 0.1',
        "#FORMAT PC8",
        f"#GEN {generated:%Y%m%d}",
        "#SIETYP 4",
        f"#ORGNR {orgnr[:6]}-{orgnr[6:]}",
        f"#FNAMN {quote(company_name)}",
        f"#RAR 0 {year}0101 {year}1231",
        "#KPTYP BAS2014",
    ]
    lines += [f"#KONTO {account} {quote(name)}" for account, name in BAS_NAMES.items()]
    for v in vouchers:
        lines.append(f"#VER {v.series} {v.number} {v.voucher_date:%Y%m%d} {quote(v.text)}")
        lines.append("{")
        lines += [f"   #TRANS {row.account} {{}} {sie_amount(row.amount_ore)}" for row in v.rows]
        lines.append("}")
    return ("\r\n".join(lines) + "\r\n").encode("cp437", errors="replace")
