"""SIE export: no text written into the file can break a line and forge a record (#VER, #TRANS)."""
from datetime import date

import pytest

from kivra.extensions import db
from kivra.payroll import service
from kivra.payroll.models import PayslipLine
from kivra.payroll.sie import SieVoucher, quote, sie4
from kivra.payroll.voucher import Row
from tests.conftest import make_employee

FORGED = '\r\n#VER A 1 20261101 "forged"\r\n{\r\n   #TRANS 1930 {} -99999.00\r\n}\r\n'


def test_quote_drops_every_line_break_and_control_character():
    text = 'a\r\nb\tc\x00d\x1be\x7ff\x85g\u2028h\u2029i\x9bj'
    assert quote(text) == '"a b c d e f g h i j"'
    assert quote('Bolaget "Citat" \\ AB') == '"Bolaget \\"Citat\\" \\\\ AB"'
    assert quote("") == '""'


def test_a_name_with_a_line_break_writes_no_forged_voucher():
    voucher = SieVoucher("L", 1, date(2026, 11, 25), "Lön 2026-11" + FORGED, [Row(7210, 100), Row(1930, -100)])
    lines = sie4("Acme" + FORGED + " AB", "5568402266", date(2026, 11, 26), [voucher]).decode("cp437").split("\r\n")
    assert [line for line in lines if line.startswith("#VER")] == [
        '#VER L 1 20261125 "Lön 2026-11 #VER A 1 20261101 \\"forged\\" {    #TRANS 1930 {} -99999.00 } "'
    ]
    assert sum(1 for line in lines if "#TRANS" in line and line.startswith("   #TRANS")) == 2
    assert all(line.startswith(("#", "{", "}", "   #TRANS")) for line in lines if line)


@pytest.mark.both_databases
def test_the_downloaded_file_has_one_voucher_whatever_the_names(as_admin, company):
    employee = make_employee(company)
    run = service.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    service.calculate_run(run)  # texts with line breaks are refused before freezing: these came in some other way
    company.name = "Acme" + FORGED + "AB"
    employee.name = "Astrid" + FORGED + "Lindqvist"
    run.payslips[0].lines.append(PayslipLine(kind="addition", description="Bonus" + FORGED, amount_ore=100_000))
    db.session.commit()
    assert as_admin.post(f"/runs/{run.id}/post").status_code == 303
    lines = as_admin.get(f"/runs/{run.id}/voucher.se").get_data().decode("cp437").split("\r\n")
    assert len([line for line in lines if line.startswith("#VER")]) == 1
    assert [line for line in lines if line.startswith("#FNAMN")] == [
        '#FNAMN "Acme #VER A 1 20261101 \\"forged\\" {    #TRANS 1930 {} -99999.00 } AB"'
    ]
    assert "-99999.00" not in "".join(line for line in lines if line.startswith("   #TRANS"))
