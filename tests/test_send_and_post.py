"""The step "Send and Post to Voucher": the voucher, posting once, corrections, SIE, and the send button."""
from datetime import date

import pytest

from kivra.extensions import db
from kivra.payroll import service
from kivra.payroll.models import Voucher
from tests.conftest import make_employee, text

pytestmark = pytest.mark.both_databases


@pytest.fixture
def run(company):
    make_employee(company, name="Astrid Lindqvist", personnummer="191212121212", monthly_salary_ore=3_250_000)
    make_employee(company, name="Björn Åkesson", personnummer="197701032380", monthly_salary_ore=2_812_345)
    run = service.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    service.calculate_run(run)
    return run


def test_draft_run_has_no_send_step_yet(as_admin, company, lang):
    make_employee(company)
    draft = service.create_run(company, date(2026, 12, 1), date(2026, 12, 23))
    response = as_admin.get(f"/runs/{draft.id}/send-and-post")
    assert response.location == f"/runs/{draft.id}"
    assert as_admin.post(f"/runs/{draft.id}/post").status_code == 409


def test_voucher_is_shown_balanced_with_bas_accounts(as_admin, run, lang):
    page = text(as_admin.get(f"/runs/{run.id}/send-and-post"))
    for account in ("7210", "2710", "1930", "7510", "2731"):
        assert account in page
    gross = {"sv": "60 623,45 kr", "en": "SEK 60,623.45"}[lang]
    assert gross in page
    assert {"sv": "Löner till tjänstemän", "en": "Salaries to salaried employees"}[lang] in page


def test_the_step_holds_the_send_button_and_the_kivra_entry(as_admin, run, lang):
    response = as_admin.get(f"/runs/{run.id}/send-and-post")
    body = response.get_data(as_text=True)
    label = {"sv": "Skicka lönebesked", "en": "Send payslips"}[lang]
    assert f'action="/runs/{run.id}/send"' in body and f'class="primary">{label}</button>' in body
    assert 'id="kivra_entry"' in body and f'href="/solutions/kivra?run={run.id}"' in body


@pytest.mark.parametrize("htmx", [False, True])
def test_post_voucher_once(as_admin, run, lang, htmx):
    response = as_admin.post(f"/runs/{run.id}/post", htmx=htmx)
    assert response.status_code == (200 if htmx else 303)
    if htmx:
        assert 'id="voucher"' in response.get_data(as_text=True) and "<html" not in response.get_data(as_text=True)
    voucher = db.session.query(Voucher).one()
    assert (voucher.series, voucher.number, voucher.voucher_date) == ("L", 1, date(2026, 11, 25))
    assert sum(r.amount_ore for r in voucher.rows) == 0
    page = text(as_admin.get(f"/runs/{run.id}/send-and-post"))
    assert {"sv": "Bokförd som verifikation L1", "en": "Posted as voucher L1"}[lang] in page

    again = as_admin.post(f"/runs/{run.id}/post", htmx=htmx)
    assert again.status_code == 409
    assert {"sv": "redan bokförd", "en": "already posted"}[lang] in text(again)
    assert db.session.query(Voucher).count() == 1


def test_correction_after_posting_posts_only_the_difference(as_admin, run):
    as_admin.post(f"/runs/{run.id}/post")
    payslip = run.payslips[0]
    as_admin.post(f"/payslips/{payslip.id}/lines", {"kind": "addition", "description": "Bonus", "amount": "1000"})
    as_admin.post(f"/payslips/{payslip.id}/correct")
    as_admin.post(f"/runs/{run.id}/post")
    vouchers = db.session.query(Voucher).order_by(Voucher.number).all()
    assert [(v.number, v.sequence) for v in vouchers] == [(1, 1), (2, 2)]
    correction = {r.account: r.amount_ore for r in vouchers[1].rows}
    assert correction[7210] == 100_000 and sum(correction.values()) == 0


def test_sie_download_after_posting(as_admin, run):
    assert as_admin.get(f"/runs/{run.id}/voucher.se").status_code == 404  # nothing posted yet
    as_admin.post(f"/runs/{run.id}/post")
    response = as_admin.get(f"/runs/{run.id}/voucher.se")
    assert response.status_code == 200
    assert 'filename="verifikation-2026-11.se"' in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"] == "text/plain; charset=IBM437"
    content = response.data.decode("cp437")
    assert "#SIETYP 4" in content and '#VER L 1 20261125 "Lön 2026-11"' in content
    assert "#TRANS 7210 {} 60623.45" in content


def test_payroll_user_may_post(as_payroll, run):
    assert as_payroll.post(f"/runs/{run.id}/post").status_code == 303
