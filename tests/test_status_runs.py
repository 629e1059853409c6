"""The Kivra status page after a send (issue 18.1, 18.5, 18.6): it opens on the month that was sent (the run's, or the
latest with sends), an empty month points to the nearest month with sends, two runs sent in one month are told apart
by a column and a filter, and the header's links follow the month shown when htmx moves it."""
import csv
import io
import re
from datetime import date, datetime

import pytest

from kivra import status
from tests.conftest import text
from tests.status_history import add_employees, add_month
from tests.test_status_pages import kivra_on  # noqa: F401 (the fixture: a company with Kivra active)

pytestmark = pytest.mark.both_databases

WORDS = {
    "sv": {"nearest": "Närmaste månad med utskick: april 2026", "run": "Lönekörning", "all_runs": "Alla lönekörningar",
           "october": "Oktober 2026", "november": "November 2026"},
    "en": {"nearest": "The nearest month with sends: April 2026", "run": "Payroll run", "all_runs": "All payroll runs",
           "october": "October 2026", "november": "November 2026"},
}


def selected_month(html: str) -> str:
    return re.search(r'<option value="(\d{4}-\d\d)" selected>', html).group(1)


def test_coming_from_a_run_opens_the_month_its_payslips_went_out(as_admin, kivra_on, admin):
    employees = add_employees(kivra_on, 4)
    march = add_month(kivra_on, admin, employees, date(2026, 3, 1))
    add_month(kivra_on, admin, employees, date(2026, 5, 1))
    assert selected_month(as_admin.get(f"/solutions/kivra?run={march}").get_data(as_text=True)) == "2026-03"
    # Without a run: the latest month with sends, wherever today is.
    assert selected_month(as_admin.get("/solutions/kivra").get_data(as_text=True)) == "2026-05"
    assert selected_month(as_admin.get("/solutions/dispatches").get_data(as_text=True)) == "2026-05"


def test_a_company_that_never_sent_opens_on_last_month(as_admin, kivra_on):
    html = as_admin.get("/solutions/kivra").get_data(as_text=True)
    assert selected_month(html) == f"{status.previous_month():%Y-%m}"
    assert 'id="dispatch_month"' in html


@pytest.mark.parametrize("htmx", [False, True])
def test_an_empty_month_points_to_the_nearest_month_with_sends(as_admin, kivra_on, admin, lang, htmx):
    employees = add_employees(kivra_on, 2)
    add_month(kivra_on, admin, employees, date(2026, 1, 1))
    add_month(kivra_on, admin, employees, date(2026, 4, 1))
    page = as_admin.get("/solutions/kivra?month=2026-06", htmx=htmx)
    assert WORDS[lang]["nearest"] in text(page)
    assert 'href="/solutions/kivra?month=2026-04"' in page.get_data(as_text=True)
    # Two months from January and from April: the earlier one wins the tie.
    assert status.nearest_month_with_sends(kivra_on.id, date(2026, 2, 1)) == date(2026, 1, 1)
    assert status.nearest_month_with_sends(kivra_on.id, date(2026, 3, 1)) == date(2026, 4, 1)


def test_the_nearest_month_is_the_companys_own(as_admin, kivra_on, other_company, admin):
    from tests.conftest import make_user

    theirs = add_employees(other_company, 2, prefix="Annan")
    add_month(other_company, make_user(other_company), theirs, date(2026, 5, 1))
    assert status.nearest_month_with_sends(kivra_on.id, date(2026, 6, 1)) is None
    assert status.latest_month_with_sends(kivra_on.id) is None


@pytest.fixture
def two_runs(kivra_on, admin):
    """October's run sent late, on 5 November, and November's run on 25 November: one month, two runs."""
    employees = add_employees(kivra_on, 3)
    october = add_month(kivra_on, admin, employees, date(2026, 10, 1), at=lambda i: datetime(2026, 11, 5, 9, i))
    november = add_month(kivra_on, admin, employees, date(2026, 11, 1), at=lambda i: datetime(2026, 11, 25, 9, i))
    return october, november


def rows_of(html: str) -> list[str]:
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in re.findall(r"<tr>.*?</tr>", body, re.S)]


@pytest.mark.parametrize("htmx", [False, True])
def test_two_runs_in_one_month_are_told_apart_and_filtered(as_admin, two_runs, lang, htmx):
    october, november = two_runs
    words = WORDS[lang]
    html = as_admin.get("/solutions/kivra?month=2026-11", htmx=htmx).get_data(as_text=True)
    rows = rows_of(html)
    assert len(rows) == 6
    assert sum(words["october"] in row for row in rows) == 3 and sum(words["november"] in row for row in rows) == 3
    assert f'<option value="{october}">{words["october"]}</option>' in html and words["all_runs"] in html
    filtered = as_admin.get(f"/solutions/kivra?month=2026-11&for_run={october}", htmx=htmx).get_data(as_text=True)
    assert [words["october"] in row for row in rows_of(filtered)] == [True] * 3
    assert f'<option value="{october}" selected>' in filtered
    # The totals follow the filter, and so do their links.
    assert sum(map(int, re.findall(r'<dd class="count">(\d+)</dd>', filtered))) == 3
    assert f"for_run={october}" in filtered


def test_a_run_filter_naming_another_companys_run_filters_nothing(as_admin, two_runs, other_company):
    from tests.conftest import make_user

    theirs = add_month(other_company, make_user(other_company), add_employees(other_company, 1, prefix="Annan"),
                       date(2026, 11, 1))
    html = as_admin.get(f"/solutions/kivra?month=2026-11&for_run={theirs}").get_data(as_text=True)
    assert len(rows_of(html)) == 6 and "Annan" not in html


def test_the_csv_names_each_rows_run_and_follows_the_filter(as_admin, two_runs, lang):
    october, _november = two_runs
    raw = as_admin.get(f"/solutions/kivra/dispatches.csv?month=2026-11&for_run={october}").get_data()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0][-1] == WORDS[lang]["run"]
    assert len(rows) == 1 + 3 and {row[-1] for row in rows[1:]} == {{"sv": "oktober 2026", "en": "October 2026"}[lang]}


def test_one_run_in_the_month_needs_no_run_filter(as_admin, kivra_on, admin, lang):
    add_month(kivra_on, admin, add_employees(kivra_on, 2), date(2026, 3, 1))
    html = as_admin.get("/solutions/kivra?month=2026-03").get_data(as_text=True)
    assert 'name="for_run"' not in html and WORDS[lang]["all_runs"] not in html


def test_moving_the_month_with_htmx_moves_the_header_links_too(as_admin, kivra_on, admin):
    employees = add_employees(kivra_on, 2)
    add_month(kivra_on, admin, employees, date(2026, 3, 1))
    fragment = as_admin.get("/solutions/kivra?month=2026-02", htmx=True).get_data(as_text=True)
    links = re.search(r'<p class="see-also" id="status_links" hx-swap-oob="true">.*?</p>', fragment, re.S).group(0)
    assert 'href="/solutions/dispatches?month=2026-02"' in links
    assert 'href="/solutions/dispatches/chart?month=2026-02"' in links
    page = as_admin.get("/solutions/kivra?month=2026-02").get_data(as_text=True)
    assert 'hx-swap-oob' not in re.search(r'<p class="see-also" id="status_links".*?</p>', page, re.S).group(0)
    overview = as_admin.get("/solutions/dispatches?month=2026-02", htmx=True).get_data(as_text=True)
    crumbs = re.search(r'<p class="crumbs" id="overview_crumbs" hx-swap-oob="true">.*?</p>', overview, re.S).group(0)
    assert 'href="/solutions/kivra?month=2026-02"' in crumbs
