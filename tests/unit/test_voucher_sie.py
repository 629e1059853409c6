import re
from datetime import date

from kivra.payroll.calculation import Totals
from kivra.payroll.sie import SieVoucher, sie4
from kivra.payroll.voucher import Row, difference, is_balanced, rows_for

TOTALS = [Totals(3_250_000, 975_000, 2_275_000, 1_021_150), Totals(2_812_345, 843_700, 1_968_645, 883_639)]


def test_rows_use_bas_accounts_on_the_right_sides():
    rows = {row.account: row.amount_ore for row in rows_for(TOTALS)}
    assert rows == {
        7210: 6_062_345,  # debit gross
        2710: -1_818_700,  # credit preliminary tax
        1930: -4_243_645,  # credit net pay from the bank
        7510: 1_904_789,  # debit employer contributions
        2731: -1_904_789,  # credit contributions payable
    }


def test_voucher_balances_to_the_ore():
    assert is_balanced(rows_for(TOTALS))
    assert sum(r.amount_ore for r in rows_for(TOTALS)) == 0


def test_difference_is_what_a_correction_posts():
    posted = rows_for(TOTALS[:1])
    left = difference(rows_for(TOTALS), posted)
    assert is_balanced(left)
    assert {r.account: r.amount_ore for r in left}[7210] == 2_812_345
    assert difference(rows_for(TOTALS), rows_for(TOTALS)) == []


def test_sie4_file_is_cp437_with_ver_and_trans():
    voucher = SieVoucher("L", 7, date(2026, 11, 25), "Lön 2026-11 Åäö", rows_for(TOTALS))
    content = sie4("Demo Ö AB", "5568402266", date(2026, 11, 24), [voucher])
    text = content.decode("cp437")
    assert "Ö".encode("cp437") in content and "Ö".encode("utf-8") not in content
    assert "#FORMAT PC8" in text and "#SIETYP 4" in text
    assert "#ORGNR 556840-2266" in text
    assert '#VER L 7 20261125 "Lön 2026-11 Åäö"' in text
    trans = re.findall(r"#TRANS (\d{4}) \{\} (-?\d+\.\d{2})", text)
    assert ("7210", "60623.45") in trans and ("1930", "-42436.45") in trans
    assert sum(round(float(amount) * 100) for _, amount in trans) == 0
    assert text.endswith("}\r\n")


def test_sie_escapes_quotes_in_texts():
    content = sie4('Bolaget "Citat" AB', "5568402266", date(2026, 1, 1), [])
    assert '#FNAMN "Bolaget \\"Citat\\" AB"' in content.decode("cp437")


def test_negative_amounts_keep_their_ore():
    voucher = SieVoucher("L", 1, date(2026, 1, 25), "x", [Row(7210, -5), Row(1930, 5)])
    text = sie4("A", "5568402266", date(2026, 1, 1), [voucher]).decode("cp437")
    assert "#TRANS 7210 {} -0.05" in text and "#TRANS 1930 {} 0.05" in text
