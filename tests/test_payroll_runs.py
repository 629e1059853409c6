"""Payroll runs: create, add lines, calculate, read the payslip and its PDF, correct it."""
import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from kivra.extensions import db
from kivra.identity import with_check_digit
from kivra.payroll import service
from kivra.payroll.models import PayrollRun, Payslip
from tests.conftest import make_employee, text

pytestmark = pytest.mark.both_databases


@pytest.fixture
def staff(company):
    return [
        make_employee(company, name="Astrid Lindqvist", personnummer="191212121212", monthly_salary_ore=3_250_000),
        make_employee(company, name="Björn Åkesson", personnummer="197701032380", monthly_salary_ore=2_800_000,
                      tax_rate=32),
        make_employee(company, name="Framtida Person", personnummer="198112172385", employment_start=date(2027, 1, 1)),
    ]


def the_run():
    return db.session.scalar(select(PayrollRun))


@pytest.mark.parametrize("htmx", [False, True])
def test_create_run_makes_a_payslip_per_employed_person(as_admin, staff, htmx):
    response = as_admin.post("/runs", {"period": "2026-11", "payout_date": "2026-11-25"}, htmx=htmx)
    run = the_run()
    target = f"/runs/{run.id}"
    assert (response.headers.get("HX-Redirect") if htmx else response.location) == target
    assert run.period == date(2026, 11, 1) and run.is_draft
    assert sorted(p.employee.name for p in run.payslips) == ["Astrid Lindqvist", "Björn Åkesson"]
    assert str(run.employer_contribution_rate) == "31.42"


def test_run_page_shows_totals_in_swedish_money(as_admin, staff, lang):
    as_admin.post("/runs", {"period": "2026-11", "payout_date": "2026-11-25"})
    page = text(as_admin.get(f"/runs/{the_run().id}"))
    assert {"sv": "32 500,00 kr", "en": "SEK 32,500.00"}[lang] in page  # gross
    assert {"sv": "22 750,00 kr", "en": "SEK 22,750.00"}[lang] in page  # net at 30 %
    assert {"sv": "Lönekörning november 2026", "en": "Payroll run November 2026"}[lang] in page


@pytest.mark.parametrize("htmx", [False, True])
def test_a_second_run_for_the_same_month_is_refused(as_admin, staff, lang, htmx):
    as_admin.post("/runs", {"period": "2026-11", "payout_date": "2026-11-25"})
    response = as_admin.post("/runs", {"period": "2026-11", "payout_date": "2026-11-26"}, htmx=htmx)
    assert response.status_code == 422
    assert {"sv": "Det finns redan en lönekörning för november 2026",
            "en": "There is already a payroll run for November 2026"}[lang] in text(response)
    assert db.session.query(PayrollRun).count() == 1


@pytest.mark.parametrize("data", [{"period": "", "payout_date": "2026-11-25"},
                                  {"period": "2026-11", "payout_date": "25/11"},
                                  {"period": "2026-11", "payout_date": "2026-10-25"}])
def test_run_form_errors(as_admin, staff, data):
    response = as_admin.post("/runs", data, htmx=True)
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert the_run() is None


@pytest.fixture
def run(company, staff):
    return service.create_run(company, date(2026, 11, 1), date(2026, 11, 25))


def astrid(run) -> Payslip:
    return next(p for p in run.payslips if p.employee.name == "Astrid Lindqvist")


@pytest.mark.parametrize("htmx", [False, True])
def test_add_and_remove_one_off_lines(as_admin, run, lang, htmx):
    payslip_id = astrid(run).id
    response = as_admin.post(f"/payslips/{payslip_id}/lines",
                             {"kind": "addition", "description": "Övertid", "amount": "2 500"}, htmx=htmx)
    if htmx:
        assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
        assert 'id="payslip_lines"' in response.get_data(as_text=True)
    page = text(as_admin.get(f"/payslips/{payslip_id}"))
    assert "Övertid" in page
    assert {"sv": "35 000,00 kr", "en": "SEK 35,000.00"}[lang] in page  # gross after the addition
    as_admin.post(f"/payslips/{payslip_id}/lines", {"kind": "deduction", "description": "Sjukavdrag", "amount": "1000"})
    db.session.expire_all()
    assert service.payslip_totals(astrid(run)).gross_ore == 3_400_000
    line_id = astrid(run).lines[-1].id
    as_admin.post(f"/payslips/{payslip_id}/lines/{line_id}/delete", htmx=htmx)
    db.session.expire_all()
    assert [l.description for l in astrid(run).lines] == ["", "Övertid"]


def test_line_errors_are_shown_inline(as_admin, run, lang):
    response = as_admin.post(f"/payslips/{astrid(run).id}/lines", {"kind": "addition", "description": "", "amount": "-5"}, htmx=True)
    assert response.status_code == 422
    page = text(response)
    assert {"sv": "Beskriv raden", "en": "Describe the line"}[lang] in page


def test_salary_line_cannot_be_removed(as_admin, run):
    payslip = astrid(run)
    as_admin.post(f"/payslips/{payslip.id}/lines/{payslip.lines[0].id}/delete")
    db.session.expire_all()
    assert len(astrid(run).lines) == 1


def test_calculate_creates_version_one_and_opens_the_send_step(as_admin, run, lang):
    response = as_admin.post(f"/runs/{run.id}/calculate")
    assert response.location == f"/runs/{run.id}/send-and-post"
    db.session.expire_all()
    assert not run.is_draft
    assert [len(p.versions) for p in run.payslips] == [1, 1]
    page = text(as_admin.get(response.location))
    assert {"sv": "Skicka och bokför till verifikation", "en": "Send and Post to Voucher"}[lang] in page


def test_calculate_refuses_deductions_beyond_pay(as_admin, run, lang):
    as_admin.post(f"/payslips/{astrid(run).id}/lines", {"kind": "deduction", "description": "Tjänstledig", "amount": "40000"})
    response = as_admin.post(f"/runs/{run.id}/calculate", follow_redirects=True)
    assert {"sv": "avdrag som är större än lönen", "en": "deductions larger than its pay"}[lang] in text(response)
    db.session.expire_all()
    assert run.is_draft and all(not p.versions for p in run.payslips)


def test_payslip_pdf_is_a_real_pdf_with_the_net_amount(as_admin, run):
    as_admin.post(f"/runs/{run.id}/calculate")
    response = as_admin.get(f"/payslips/{astrid(run).id}/v1.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    content = " ".join(page.extract_text() for page in reader.pages).replace("\xa0", " ")
    assert "22 750,00 kr" in content  # net: 32 500 less 30 % tax
    assert "Astrid Lindqvist" in content and "19121212-1212" in content
    assert "Demo AB" in content and "2026-11-25" in content
    assert "Lönebesked / Payslip" in content


def test_pdf_is_rendered_once_and_then_served_from_storage(as_admin, run):
    as_admin.post(f"/runs/{run.id}/calculate")
    payslip = astrid(run)
    first = as_admin.get(f"/payslips/{payslip.id}/v1.pdf").data
    db.session.expire_all()
    version = astrid(run).versions[0]
    assert version.pdf == first and len(version.pdf_sha256) == 64
    assert service.render_pdf(version, False) == first  # reproducible to the byte from the frozen version
    assert as_admin.get(f"/payslips/{payslip.id}/v1.pdf").data == first


def test_correction_creates_a_new_version_and_keeps_the_old(as_admin, run, lang):
    as_admin.post(f"/runs/{run.id}/calculate")
    payslip_id = astrid(run).id
    nothing = as_admin.post(f"/payslips/{payslip_id}/correct", follow_redirects=True)
    assert {"sv": "Inget har ändrats", "en": "Nothing has changed"}[lang] in text(nothing)
    as_admin.post(f"/payslips/{payslip_id}/lines", {"kind": "addition", "description": "Bonus", "amount": "1000"})
    as_admin.post(f"/payslips/{payslip_id}/correct")
    db.session.expire_all()
    versions = astrid(run).versions
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].gross_ore == 3_250_000 and versions[1].gross_ore == 3_350_000
    old = PdfReader(io.BytesIO(as_admin.get(f"/payslips/{payslip_id}/v1.pdf").data)).pages[0].extract_text()
    new = PdfReader(io.BytesIO(as_admin.get(f"/payslips/{payslip_id}/v2.pdf").data)).pages[0].extract_text()
    # Nothing was sent before the correction: version 2 is the employee's payslip, not a correction of one.
    assert "Bonus" not in old and "Bonus" in new and "Rättelse" not in new
    assert as_admin.get(f"/payslips/{payslip_id}/v3.pdf").status_code == 404


def test_version_has_an_html_document_view(as_admin, run, lang):
    as_admin.post(f"/runs/{run.id}/calculate")
    page = text(as_admin.get(f"/payslips/{astrid(run).id}/v1"))
    assert "Astrid Lindqvist" in page and "Demo AB (556840-2266)" in page and "19121212-1212" in page
    assert {"sv": "Nettolön 22 750,00 kr", "en": "Net pay SEK 22,750.00"}[lang] in page
    assert {"sv": "25 november 2026", "en": "25 November 2026"}[lang] in page
    assert as_admin.get(f"/payslips/{astrid(run).id}/v2").status_code == 404


def test_a_draft_follows_the_register_until_it_is_calculated(as_admin, company, run, lang):
    astrid_employee = astrid(run).employee
    astrid_employee.monthly_salary_ore = 3_400_000
    late = make_employee(company, name="Cecilia Sen", personnummer=with_check_digit("19900101123"),
                         employment_start=date(2026, 11, 15))
    db.session.commit()
    response = as_admin.post(f"/runs/{run.id}/sync", follow_redirects=True)
    assert {"sv": "uppdaterad från personalregistret", "en": "follows the employee register"}[lang] in text(response)
    db.session.expire_all()
    assert service.payslip_totals(astrid(run)).gross_ore == 3_400_000
    assert "Cecilia Sen" in [p.employee.name for p in run.payslips]
    as_admin.post(f"/runs/{run.id}/calculate")
    astrid_employee.monthly_salary_ore = 9_900_000  # after calculation the versions stay as they were
    db.session.commit()
    db.session.expire_all()
    assert astrid(run).versions[0].gross_ore == 3_400_000
    assert late.id in [p.employee_id for p in run.payslips]


def test_someone_who_left_before_the_month_gets_no_payslip(as_admin, company):
    make_employee(company, name="Kvar Kvist", personnummer="191212121212")
    make_employee(company, name="Slutat Sten", personnummer="197701032380", employment_end=date(2026, 10, 31))
    make_employee(company, name="Sista Dag", personnummer="198112172385", employment_end=date(2026, 11, 1))
    run = service.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    assert sorted(p.employee.name for p in run.payslips) == ["Kvar Kvist", "Sista Dag"]


def test_two_calculations_at_once_make_one_set_of_versions(as_admin, run):
    service.calculate_run(run)
    with pytest.raises(service.AlreadyCalculatedError):
        service.calculate_run(run)
    response = as_admin.post(f"/runs/{run.id}/calculate")
    assert response.location == f"/runs/{run.id}/send-and-post"
    db.session.expire_all()
    assert all(len(p.versions) == 1 for p in run.payslips)


def test_the_run_list_counts_payslips_without_loading_them(app, as_admin, staff, lang):
    """A company of 20 000 made the run list load every payslip of every run to count them, and each run's vouchers
    one query at a time (issue 19, bench/web_during_send.py): one counting query and one for the vouchers now,
    whatever the number of runs and payslips."""
    from sqlalchemy import event

    for month in ("2026-09", "2026-10", "2026-11"):
        as_admin.post("/runs", {"period": month, "payout_date": f"{month}-25"})
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = as_admin.get("/runs")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    payslip_reads = [s for s in statements if re.search(r"FROM payslip\b", s)]
    assert len(payslip_reads) == 1 and "count(" in payslip_reads[0].lower(), payslip_reads
    assert sum("FROM voucher" in s for s in statements) == 1
    body = response.get_data(as_text=True)
    rows = re.findall(r'<tr>\s*<td><a href="/runs/\d+">.*?</tr>', body, re.S)
    assert len(rows) == 3
    assert [re.findall(r"<td>(.*?)</td>", row, re.S)[2] for row in rows] == ["2", "2", "2"]
