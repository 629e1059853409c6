"""The status pages: Kivra's month of payslips, Min lön and Kivra per employee, the chart, the CSV, resending failed
payslips, and the register's Kivra column — counted against the database, in both languages, as pages and fragments."""
import csv
import io
import re
from datetime import date, datetime

import httpx
import pytest
from sqlalchemy import func, select, update

from kivra import agreement, clock, status
from kivra.agreement.models import KivraSender
from kivra.dispatch import app_queue, tasks
from kivra.dispatch.models import UNFINISHED, Dispatch
from kivra.employees.models import Employee
from kivra.extensions import db
from tests.conftest import Client, make_employee, make_user, text
from tests.kivra_jobs import run_kivra_jobs
from tests.status_history import add_employees, add_month, utc

pytestmark = pytest.mark.both_databases

MARCH = date(2026, 3, 1)
OUTCOME_WORDS = {
    "sv": {"delivered": "Levererat till Kivra", "retained": "Vilande hos Kivra", "published": "Publicerat i Min lön",
           "rejected": "Avvisat", "failed": "Misslyckades", "pending": "Pågår"},
    "en": {"delivered": "Delivered to Kivra", "retained": "Held by Kivra", "published": "Published in Min lön",
           "rejected": "Rejected", "failed": "Failed", "pending": "In progress"},
}


@pytest.fixture(autouse=True)
def unbound():
    """Tasks run in this test's app (its queue emptied by the `app` fixture): an e2e test earlier in the session
    binds its live app (tests/e2e/conftest.py) and leaves it bound."""
    app_queue.unbind_app()


@pytest.fixture
def kivra_on(company, admin):
    """Kivra's agreement in force and the company registered with Kivra (no sandbox needed to read pages)."""
    agreement.approve(company, admin)
    db.session.add(KivraSender(company_id=company.id, state="active", tenant_key="tenant-demo"))
    db.session.commit()
    return company


@pytest.fixture
def march(kivra_on, admin):
    """40 employees with a March 2026 send of every outcome, and a February and an April send around it."""
    employees = add_employees(kivra_on, 40)
    add_month(kivra_on, admin, employees, MARCH)
    add_month(kivra_on, admin, employees[:5], date(2026, 2, 1))
    add_month(kivra_on, admin, employees[:7], date(2026, 4, 1))
    return employees


def db_counts(company_id: int, month: date) -> dict[str, int]:
    start, end = status.utc_range(month)
    rows = db.session.execute(
        select(Dispatch.state, func.count()).where(Dispatch.company_id == company_id, Dispatch.dispatched_at >= start,
                                                   Dispatch.dispatched_at < end, Dispatch.state != "cancelled")
        .group_by(Dispatch.state)).all()
    counts = dict.fromkeys(status.PAGE_OUTCOMES, 0)
    for state, count in rows:
        counts[status.PENDING if state in UNFINISHED else state] += count
    return counts


def totals_on(page_html: str) -> dict[str, int]:
    """The totals as the page shows them: outcome → the number in its box."""
    found = {}
    for outcome, count in re.findall(
            r'class="total outcome-(\w+)[^"]*">.*?<dd class="count">([\d\s\xa0,]+)</dd>', page_html, re.S):
        found[outcome] = int(re.sub(r"\D", "", count))
    return found


# --- the Kivra status page ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_the_months_totals_are_the_rows_in_the_database(as_admin, kivra_on, march, lang, htmx):
    response = as_admin.get("/solutions/kivra?month=2026-03", htmx=htmx)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert ("<html" in body) is not htmx and 'id="dispatch_month"' in body
    expected = db_counts(kivra_on.id, MARCH)
    assert totals_on(body) == expected
    assert all(expected[o] for o in status.PAGE_OUTCOMES)  # the fixture has every outcome
    assert sum(expected.values()) == 40
    for word in OUTCOME_WORDS[lang].values():
        assert word in text(response)


def test_the_latest_month_with_sends_is_the_default_and_last_month_is_one_click_away(as_admin, kivra_on, admin,
                                                                                      lang):
    employees = add_employees(kivra_on, 3)
    last_month = status.previous_month()
    add_month(kivra_on, admin, employees, last_month)
    add_month(kivra_on, admin, employees[:1], status.this_month())  # just sent: what the user wants to see
    body = as_admin.get("/solutions/kivra").get_data(as_text=True)
    assert sum(totals_on(body).values()) == 1
    assert f'value="{status.this_month():%Y-%m}" selected' in body
    link = f'<a href="/solutions/kivra?month={last_month:%Y-%m}">'
    words = {"sv": "Förra månadens utskick", "en": "Last month's sends"}[lang]
    assert link + words in body  # the help article's "förra månadens utskick"
    assert sum(totals_on(as_admin.get(f"/solutions/kivra?month={last_month:%Y-%m}").get_data(as_text=True)).values()) == 3


def test_each_row_says_who_where_what_why_and_when(as_admin, kivra_on, march, lang):
    page = text(as_admin.get("/solutions/kivra?month=2026-03"))
    start, end = status.utc_range(MARCH)
    failed = db.session.scalar(select(Dispatch).where(
        Dispatch.state == "failed", Dispatch.company_id == kivra_on.id, Dispatch.dispatched_at >= start,
        Dispatch.dispatched_at < end).order_by(Dispatch.id))
    employee = db.session.get(Employee, failed.employee_id)
    local = clock.in_sweden(failed.dispatched_at).strftime("%Y-%m-%d %H:%M")
    row = re.search(re.escape(employee.name) + r".{0,400}", page).group(0)
    assert employee.personnummer[:8] + "-****" in row
    assert OUTCOME_WORDS[lang]["failed"] in row and local in row
    assert str(failed.error_code) in row and failed.correlation_id in row
    assert {"sv": "Tekniskt fel", "en": "Technical error"}[lang] in row
    assert {"sv": "ID-numret godtas inte av Kivra", "en": "ID number not accepted by Kivra"}[lang] in page


def test_no_full_personnummer_anywhere_on_the_pages(as_admin, kivra_on, march):
    numbers = db.session.scalars(select(Employee.personnummer).where(Employee.company_id == kivra_on.id)).all()
    for url in ("/solutions/kivra?month=2026-03", "/solutions/dispatches?month=2026-03",
                "/solutions/dispatches/chart?month=2026-03", "/solutions/kivra/dispatches.csv?month=2026-03",
                "/employees"):
        for htmx in (False, True):
            body = as_admin.get(url, htmx=htmx).get_data(as_text=True)
            leaked = [n for n in numbers if n in body or n[2:] in body or f"{n[:8]}-{n[8:]}" in body]
            assert not leaked, url


def test_a_correction_is_marked_with_its_version(as_admin, kivra_on, march, lang):
    row = db.session.scalar(select(Dispatch).where(Dispatch.company_id == kivra_on.id).order_by(Dispatch.id))
    from kivra.payroll.models import PayslipVersion

    db.session.get(PayslipVersion, row.version_id).number = 2
    db.session.commit()
    page = text(as_admin.get(f"/solutions/kivra?month={clock.in_sweden(row.dispatched_at):%Y-%m}"))
    assert {"sv": "2 Rättelse", "en": "2 Correction"}[lang] in page


@pytest.mark.parametrize("outcome", status.PAGE_OUTCOMES)
def test_the_outcome_filter_lists_only_that_outcome(as_admin, kivra_on, march, lang, outcome):
    response = as_admin.get(f"/solutions/kivra?month=2026-03&outcome={outcome}", htmx=True)
    body = response.get_data(as_text=True)
    tags = re.findall(r'<span class="tag outcome-(\w+)">', body)
    assert tags and set(tags) == {outcome}
    assert len(tags) == db_counts(kivra_on.id, MARCH)[outcome]


def test_search_by_name_ignores_case_also_for_swedish_letters(as_admin, kivra_on, admin):
    employees = [make_employee(kivra_on, name="Östen Åberg", personnummer="198112172385").id,
                 make_employee(kivra_on, name="Anna Ek", personnummer="191212121212").id]
    add_month(kivra_on, admin, employees, MARCH)
    for query in ("östen", "ÅBERG", "sten å"):
        page = text(as_admin.get(f"/solutions/kivra?month=2026-03&q={query}", htmx=True))
        assert "Östen Åberg" in page and "Anna Ek" not in page, query
    nobody = text(as_admin.get("/solutions/kivra?month=2026-03&q=zzz"))
    assert "Östen Åberg" not in nobody and "Anna Ek" not in nobody


def test_a_thousand_payslips_are_paged_a_hundred_at_a_time(as_admin, kivra_on, admin):
    add_month(kivra_on, admin, add_employees(kivra_on, 1000), MARCH)
    first = as_admin.get("/solutions/kivra?month=2026-03", htmx=True).get_data(as_text=True)
    assert first.count('<span class="tag outcome-') == 100
    assert "Anställd 0000" in first and "Anställd 0100" not in first
    last = as_admin.get("/solutions/kivra?month=2026-03&page=10", htmx=True).get_data(as_text=True)
    assert last.count('<span class="tag outcome-') == 100 and "Anställd 0999" in last
    assert "page=9" in last and "page=11" not in last
    assert as_admin.get("/solutions/kivra?month=2026-03&page=99").status_code == 200  # clamped to the last page


# --- months are Swedish time ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("last_day", [date(2026, 3, 31), date(2026, 10, 31), date(2026, 6, 30), date(2026, 12, 31)])
def test_a_row_at_23_59_on_the_last_day_belongs_to_that_month_and_00_00_to_the_next(as_admin, kivra_on, admin, last_day):
    """Including the months that end a day after summer time starts (March) or ends (October)."""
    employees = add_employees(kivra_on, 2)
    times = [datetime(last_day.year, last_day.month, last_day.day, 23, 59),
             datetime(last_day.year, last_day.month, last_day.day, 23, 59) + (datetime(2000, 1, 2) - datetime(2000, 1, 1, 23, 59))]
    add_month(kivra_on, admin, employees, last_day.replace(day=1), pattern={}, at=lambda index: times[index])
    month, following = last_day.replace(day=1), status.add_months(last_day.replace(day=1), 1)
    assert [clock.in_sweden(t).strftime("%d %H:%M") for t in (utc(times[0]), utc(times[1]))] == [
        f"{last_day.day} 23:59", "01 00:00"]
    assert db_counts(kivra_on.id, month)["delivered"] == 1
    assert db_counts(kivra_on.id, following)["delivered"] == 1
    for shown, name in ((month, "Anställd 0000"), (following, "Anställd 0001")):
        page = text(as_admin.get(f"/solutions/kivra?month={shown:%Y-%m}"))
        other = "Anställd 0001" if name == "Anställd 0000" else "Anställd 0000"
        assert name in page and other not in page
        assert totals_on(as_admin.get(f"/solutions/kivra?month={shown:%Y-%m}").get_data(as_text=True))["delivered"] == 1


def test_the_utc_range_of_a_summer_time_month():
    assert status.utc_range(date(2026, 3, 1)) == (datetime(2026, 2, 28, 23), datetime(2026, 3, 31, 22))
    assert status.utc_range(date(2026, 10, 1)) == (datetime(2026, 9, 30, 22), datetime(2026, 10, 31, 23))
    assert status.parse_month("2026-13") is None and status.parse_month("x") is None
    assert status.parse_month("2026-03") == MARCH


def test_the_month_picker_steps_and_stops_at_this_month(as_admin, kivra_on):
    this = status.this_month()
    body = as_admin.get(f"/solutions/kivra?month={this:%Y-%m}").get_data(as_text=True)
    assert f"month={status.add_months(this, -1):%Y-%m}" in body
    assert 'rel="next"' not in body.split('class="month-steps"')[1].split("</nav>")[0]
    older = as_admin.get("/solutions/kivra?month=2026-03").get_data(as_text=True)
    assert 'month=2026-02' in older and 'month=2026-04' in older and 'hx-push-url="true"' in older
    assert as_admin.get("/solutions/kivra?month=nonsense").status_code == 200


# --- resend failed ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_resend_failed_queues_the_months_failed_rows_only(as_admin, kivra_on, march, lang, htmx):
    february_failed = db_counts(kivra_on.id, date(2026, 2, 1))["failed"]
    assert db_counts(kivra_on.id, MARCH)["failed"] == 2 and february_failed == 1
    response = as_admin.post("/solutions/kivra/resend-failed", {"month": "2026-03"}, htmx=htmx)
    if htmx:
        assert response.status_code == 200 and 'id="dispatch_month"' in response.get_data(as_text=True)
        assert {"sv": "2 misslyckade lönebesked skickas igen", "en": "2 failed payslips are being sent again"}[lang] in text(response)
    else:
        assert response.status_code == 303 and response.headers["Location"].endswith("/solutions/kivra?month=2026-03")
    counts = db_counts(kivra_on.id, MARCH)
    assert counts["failed"] == 0 and counts["pending"] == 2 + 2  # the two resent and the two that were queued
    assert db_counts(kivra_on.id, date(2026, 2, 1))["failed"] == february_failed
    assert len(tasks.huey) >= 2  # rung for; the worker sends them
    again = as_admin.post("/solutions/kivra/resend-failed", {"month": "2026-03"}, htmx=True)
    assert {"sv": "inget skickades igen", "en": "nothing was sent again"}[lang] in text(again)


@pytest.mark.parametrize("htmx", [False, True])
def test_failed_rows_whose_stored_content_was_dropped_stay_failed_and_the_page_says_why(as_admin, kivra_on, march, lang,
                                                                                      htmx):
    start, end = status.utc_range(MARCH)
    in_march = (Dispatch.company_id == kivra_on.id, Dispatch.state == "failed", Dispatch.dispatched_at >= start,
                Dispatch.dispatched_at < end)
    dropped = db.session.scalars(select(Dispatch.id).where(*in_march).order_by(Dispatch.id)).first()
    db.session.execute(update(Dispatch).where(Dispatch.id == dropped).values(payload=None, payload_sha256="0" * 64))
    db.session.commit()  # sent once, its bytes dropped by DISPATCH_FAILED_PAYLOAD_DAYS; the other has none yet
    response = as_admin.post("/solutions/kivra/resend-failed", {"month": "2026-03"}, htmx=htmx)
    page = text(response if htmx else as_admin.get(response.headers["Location"]))
    assert {"sv": "1 misslyckat lönebesked skickas igen", "en": "1 failed payslip is being sent again"}[lang] in page
    assert {"sv": "1 misslyckat lönebesked kan inte längre skickas igen: det som skickades sparas inte så länge. "
                  "Den anställda läser det i Min lön.",
            "en": "1 failed payslip can no longer be sent again: what was sent is not kept that long. "
                  "The employee reads it in Min lön."}[lang] in page
    assert db.session.scalars(select(Dispatch.id).where(*in_march)).all() == [dropped]


def test_resend_failed_sends_through_the_engine_to_kivra(app, as_admin, company, admin, kivra, lang):
    from kivra.dispatch import activation, service
    from kivra.payroll import service as payroll
    from kivra.sender_api.app import kivra_client

    company.street_address, company.postal_code, company.city = "Storgatan 1", "111 22", "Stockholm"
    company.email, company.phone = "lon@demo.se", "08-123 45 67"
    db.session.commit()
    app.config.update(DISPATCH_RETRY_SECONDS=0.0, DISPATCH_RETRY_CAP_SECONDS=0.0, DISPATCH_MAX_ATTEMPTS=1,
                      KIVRA_MAX_ATTEMPTS=1)
    activation.approve(company, admin, kivra_client(), payslips=True, invoices=False)
    make_employee(company)
    run = payroll.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    payroll.calculate_run(run)
    service.request_send(run, admin)
    httpx.post(f"{kivra.url}/_sandbox/faults", json={"error_rate": 1.0})
    tasks.drain()
    month = status.this_month()
    assert db_counts(company.id, month)["failed"] == 1
    httpx.post(f"{kivra.url}/_sandbox/faults", json={})
    as_admin.post("/solutions/kivra/resend-failed", {"month": f"{month:%Y-%m}"})
    tasks.drain()
    assert db_counts(company.id, month) == {**dict.fromkeys(status.PAGE_OUTCOMES, 0), "delivered": 1}
    assert httpx.get(f"{kivra.url}/_sandbox/ledger").json()["deliveries_per_recipient"] == {"191212121212": 1}


def test_resend_failed_needs_a_csrf_token(as_admin, kivra_on, march):
    assert as_admin.post("/solutions/kivra/resend-failed", {"month": "2026-03"}, csrf=False).status_code == 400
    assert db_counts(kivra_on.id, MARCH)["failed"] == 2


# --- the CSV ---------------------------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    body = raw.decode("utf-8-sig")
    assert "\r\n" in body and body.count("\n") == body.count("\r\n")
    return list(csv.reader(io.StringIO(body, newline=""), delimiter=";"))


def test_the_csv_is_excel_friendly_with_masked_personnummer(as_admin, kivra_on, march, lang):
    response = as_admin.get("/solutions/kivra/dispatches.csv?month=2026-03")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"] and "2026-03.csv" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:4] == {"sv": ["Namn", "Personnummer", "Kanal", "Utfall"], "en": ["Name", "Personnummer", "Channel", "Outcome"]}[lang]
    assert len(rows) == 1 + 40
    assert all(re.fullmatch(r"\d{8}-\*\*\*\*", row[1]) for row in rows[1:])
    failed = [row for row in rows[1:] if row[3] == OUTCOME_WORDS[lang]["failed"]]
    assert len(failed) == 2 and failed[0][5] == "50000" and failed[0][6].startswith("corr-")
    assert all(re.fullmatch(r"2026-03-\d\d \d\d:\d\d", row[7]) for row in rows[1:])
    reasons = {row[4] for row in rows[1:]}
    assert {"sv": "Den anställdas lönebesked går enbart till Min lön",
            "en": "The employee's payslips go to Min lön only"}[lang] in reasons  # plain text, not HTML
    filtered = read_csv(as_admin.get("/solutions/kivra/dispatches.csv?month=2026-03&outcome=published"))
    assert len(filtered) == 1 + db_counts(kivra_on.id, MARCH)["published"]


def test_an_admin_who_asks_gets_the_full_personnummer(as_admin, kivra_on, march):
    rows = read_csv(as_admin.get("/solutions/kivra/dispatches.csv?month=2026-03&full_personnummer=1"))
    numbers = set(db.session.scalars(select(Employee.personnummer).where(Employee.company_id == kivra_on.id)))
    assert {row[1] for row in rows[1:]} <= numbers and len({row[1] for row in rows[1:]}) == 40


def test_a_payroll_user_asking_for_full_personnummer_is_refused(client, kivra_on, march):
    client.login(make_user(kivra_on, "payroll"))
    assert client.get("/solutions/kivra/dispatches.csv?month=2026-03&full_personnummer=1").status_code == 403
    assert read_csv(client.get("/solutions/kivra/dispatches.csv?month=2026-03"))[1][1].endswith("-****")
    assert "full_personnummer" not in client.get("/solutions/kivra?month=2026-03").get_data(as_text=True)


def test_a_name_that_looks_like_a_formula_is_not_one_in_the_csv(as_admin, kivra_on, admin):
    add_month(kivra_on, admin, [make_employee(kivra_on, name="=HYPERLINK(\"x\")").id], MARCH)
    rows = read_csv(as_admin.get("/solutions/kivra/dispatches.csv?month=2026-03"))
    assert rows[1][0] == "'=HYPERLINK(\"x\")"


# --- Min lön and Kivra per employee, and the chart -------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_one_page_shows_each_employees_channel_side_by_side(as_admin, kivra_on, march, lang, htmx):
    response = as_admin.get("/solutions/dispatches?month=2026-03", htmx=htmx)
    body, page = response.get_data(as_text=True), text(response)
    assert response.status_code == 200 and 'id="dispatch_overview"' in body and ("<html" in body) is not htmx
    rows = re.findall(r"<tr>\s*<td>(Anställd \d+)</td>.*?</tr>", body, re.S)
    assert len(rows) == 40
    kivra_rows = db.session.scalar(select(func.count()).where(
        Dispatch.company_id == kivra_on.id, Dispatch.channel == "kivra", Dispatch.dispatched_at >= status.utc_range(MARCH)[0],
        Dispatch.dispatched_at < status.utc_range(MARCH)[1]))
    words = {"sv": "lönebesked", "en": "payslips"}[lang]
    assert f"Kivra: {kivra_rows} {words}" in page
    assert {"sv": f"Min lön: {40 - kivra_rows} {words}", "en": f"Min lön: {40 - kivra_rows} {words}"}[lang] in page
    row = re.search(r"<td>Anställd 0002</td>(.*?)</tr>", body, re.S).group(1)
    kivra_cell, min_lon_cell = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert "—" in kivra_cell and OUTCOME_WORDS[lang]["published"] in min_lon_cell
    # The chart is its own page: htmx loads its figure under the list, and without JavaScript it is a link.
    assert 'hx-get="/solutions/dispatches/chart?month=2026-03" hx-trigger="load"' in body
    assert 'href="/solutions/dispatches/chart?month=2026-03"' in body


@pytest.mark.parametrize("htmx", [False, True])
def test_the_chart_counts_twelve_months_in_one_query_of_the_tally(app, as_admin, kivra_on, march, lang, htmx):
    from sqlalchemy import event

    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = as_admin.get("/solutions/dispatches/chart?month=2026-04", htmx=htmx)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    # One aggregate query of the tally for the twelve months, no dispatch row read.
    counting = [s for s in statements if "FROM dispatch" in s]
    assert len(counting) == 1 and "FROM dispatch_tally" in counting[0]
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="outcome_chart"' in body and ("<html" in body) is not htmx
    assert 'role="img"' in body and "<title id=" in body and "<desc id=" in body
    table = body.split('<details class="chart-table">')[1]
    months = re.findall(r'<th scope="row">([^<]+)</th>((?:<td class="num">[^<]+</td>)+)', table)
    assert len(months) == 12
    assert months[0][0] == {"sv": "Maj 2025", "en": "May 2025"}[lang]
    figures = {name: [int(re.sub(r"\D", "", v)) for v in re.findall(r">([^<]+)<", cells)] for name, cells in months}
    march_name = {"sv": "Mars 2026", "en": "March 2026"}[lang]
    expected = db_counts(kivra_on.id, MARCH)
    assert figures[march_name] == [expected[o] for o in status.PAGE_OUTCOMES] + [40]
    assert figures[{"sv": "April 2026", "en": "April 2026"}[lang]][-1] == 7
    assert {"sv": "mars", "en": "Mar"}[lang] in re.findall(r'class="month"[^>]*>([^<]+)<', body)
    assert body.count('class="seg seg-') >= 6 + 4 + 3


def test_the_month_totals_and_chart_agree(kivra_on, march):
    series = status.monthly_outcomes(kivra_on.id, date(2026, 4, 1))
    assert [m.total for m in series[-3:]] == [5, 40, 7]
    assert series[-2].counts == db_counts(kivra_on.id, MARCH)
    assert status.month_totals(kivra_on.id, MARCH).by_outcome == {k: v for k, v in db_counts(kivra_on.id, MARCH).items() if v}


# --- another company -------------------------------------------------------------------------------------------------


def test_another_companys_user_sees_none_of_it(app, kivra_on, march, other_company):
    their_admin = make_user(other_company, "admin", email="b@annat.se")
    agreement.approve(other_company, their_admin)
    theirs = Client(app.test_client()).login(their_admin)
    for url in ("/solutions/kivra?month=2026-03", "/solutions/dispatches?month=2026-03",
                "/solutions/dispatches/chart?month=2026-04", "/solutions/kivra/dispatches.csv?month=2026-03",
                "/solutions/kivra/dispatches.csv?month=2026-03&full_personnummer=1"):
        for htmx in (False, True):
            response = theirs.get(url, htmx=htmx)
            body = response.get_data(as_text=True)
            assert response.status_code == 200, url
            assert "Anställd 00" not in body, url
            if url.endswith("chart?month=2026-04"):
                assert not re.findall(r'class="seg seg-', body)
    assert read_csv(theirs.get("/solutions/kivra/dispatches.csv?month=2026-03")) == [read_csv(
        theirs.get("/solutions/kivra/dispatches.csv?month=2026-03"))[0]]
    theirs.post("/solutions/kivra/resend-failed", {"month": "2026-03"})
    assert db_counts(kivra_on.id, MARCH)["failed"] == 2


def test_signed_out_the_pages_and_fragments_ask_to_sign_in(app, kivra_on, march):
    anonymous = Client(app.test_client())
    for url in ("/solutions/kivra?month=2026-03", "/solutions/dispatches", "/solutions/dispatches/chart",
                "/solutions/kivra/dispatches.csv?month=2026-03"):
        assert anonymous.get(url).status_code == 302
        assert anonymous.get(url, htmx=True).status_code == 401


# --- the register's Kivra column -------------------------------------------------------------------------------------


@pytest.fixture
def sandbox_sender(company, admin, kivra):
    from kivra.dispatch import activation
    from kivra.sender_api.app import kivra_client

    activation.approve(company, admin, kivra_client(), payslips=True, invoices=False)
    assert db.session.scalar(select(KivraSender)).state == "active"
    return company


def test_check_now_asks_kivra_once_and_the_register_shows_each_answer(as_admin, sandbox_sender, kivra, lang,
                                                                    monkeypatch):
    from kivra.demo import employee_numbers
    from kivra.sender_api import KivraClient

    asked = []
    usermatch = KivraClient.usermatch
    monkeypatch.setattr(KivraClient, "usermatch", lambda self, tenant, ssns: asked.append(list(ssns)) or usermatch(self, tenant, ssns))

    numbers = employee_numbers()
    make_employee(sandbox_sender, name="Astrid Användare", personnummer="191212121212")
    make_employee(sandbox_sender, name="Sven Saknar", personnummer=numbers[18])
    make_employee(sandbox_sender, name="Yusuf Samordning", personnummer=numbers[24])
    before = text(as_admin.get("/employees"))
    assert {"sv": "Inte kontrollerad än", "en": "Not checked yet"}[lang] in before
    response = as_admin.post("/employees/kivra-check")
    assert response.status_code == 303 and asked == []  # a worker asks Kivra, not the request
    assert run_kivra_jobs() == 1
    page = as_admin.get("/employees")
    words = text(page)
    assert {"sv": "Kivra har svarat: 1 av 3 anställda är Kivra-användare.",
            "en": "Kivra has answered: 1 of 3 employees are Kivra users."}[lang] in words
    statuses = dict(db.session.execute(select(Employee.name, Employee.kivra_status)).all())
    assert statuses == {"Astrid Användare": "user", "Sven Saknar": "not_user", "Yusuf Samordning": "id_not_accepted"}
    assert re.search(r"Astrid Användare.{0,200}" + {"sv": "Kivra-användare", "en": "Kivra user"}[lang], words)
    assert re.search(r"Yusuf Samordning.{0,300}" + {"sv": "ID-numret godtas inte av Kivra", "en": "ID number not accepted by Kivra"}[lang], words)
    assert {"sv": "Kontrollerad ", "en": "Checked "}[lang] in words
    checked = db.session.scalar(select(Employee.kivra_checked_at).where(Employee.name == "Sven Saknar"))
    assert checked is not None and clock.in_sweden(checked).strftime("%Y-%m-%d %H:%M") in words  # Swedish time
    assert len(asked) == 1 and len(asked[0]) == 3  # one batched usermatch for the company


def test_check_now_with_htmx_swaps_in_the_check_that_follows_the_worker(as_admin, sandbox_sender, kivra):
    make_employee(sandbox_sender)
    response = as_admin.post("/employees/kivra-check", htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="kivra_check"' in body and 'hx-trigger="every 2s"' in body


def test_check_now_without_kivra_says_so(as_admin, company, lang):
    make_employee(company)
    response = as_admin.post("/employees/kivra-check", follow_redirects=True)
    assert {"sv": "Kivra är inte aktivt för företaget", "en": "Kivra is not active for the company"}[lang] in text(response)
    assert db.session.scalar(select(Employee.kivra_checked_at)) is None


def test_check_now_when_kivra_fails_says_so_in_the_users_language(app, as_admin, sandbox_sender, kivra, lang):
    app.config["KIVRA_MAX_ATTEMPTS"] = 1
    app.extensions.pop("kivra_client").close()
    make_employee(sandbox_sender)
    httpx.post(f"{kivra.url}/_sandbox/faults", json={"error_rate": 1.0})
    as_admin.post("/employees/kivra-check")
    run_kivra_jobs()
    response = as_admin.get("/employees")
    assert {"sv": "Kivra kunde inte svara just nu", "en": "Kivra could not answer just now"}[lang] in text(response)
    assert db.session.scalar(select(Employee.kivra_checked_at)) is None


def test_check_now_needs_a_csrf_token(as_admin, sandbox_sender):
    make_employee(sandbox_sender)
    assert as_admin.post("/employees/kivra-check", csrf=False).status_code == 400


def test_a_search_is_shown_escaped(as_admin, kivra_on, march):
    body = as_admin.get("/solutions/kivra?month=2026-03&q=<script>x</script>", htmx=True).get_data(as_text=True)
    assert "<script>x" not in body and "&lt;script&gt;x" in body


def test_month_names_are_the_period_names(app, lang):
    from flask_babel import force_locale

    from kivra.web.i18n import period_name
    from kivra.web.solutions.status import month_names

    months = [date(2026, m, 1) for m in range(1, 13)]
    with app.test_request_context(), force_locale(lang):
        assert month_names(months) == {m: period_name(m) for m in months}
