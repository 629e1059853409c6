"""A month's payslips as CSV for Excel: UTF-8 with a BOM, semicolons, CRLF, Swedish time, the user's words."""
import csv
import io
from collections.abc import Callable, Iterable

from kivra.status import DispatchLine, minute_text

# A cell starting with one of these is a formula to Excel; a name like that is written as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_bytes(header: list[str], records: Iterable[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for record in records:
        writer.writerow(["'" + cell if isinstance(cell, str) and cell.startswith(FORMULA_START) else cell
                         for cell in record])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def month_csv(lines: Iterable[DispatchLine], header: list[str], words: Callable[[DispatchLine], list[str]],
              full_personnummer: bool = False, run_name: Callable[[DispatchLine], str] = lambda line: "") -> bytes:
    """One row per payslip. `words(line)` gives its channel, outcome and reason in the user's language (the
    templates' one vocabulary), `run_name(line)` its payroll run; the full personnummer only when asked for (and
    loaded)."""
    return csv_bytes(header, (
        [line.name, line.personnummer if full_personnummer else line.masked, *words(line),
         line.error_code or "", line.correlation_id or "", minute_text(line.dispatched_at), line.version,
         run_name(line)]
        for line in lines
    ))
