"""The run list says where each run's payslips are (issue 18.4) and proposes a month without a run (issue 18.10)."""
import re
from datetime import date, timedelta

import pytest
from babel.dates import format_date

from kivra import clock
from kivra.dispatch import tasks
from kivra.payroll import service as payroll
from tests.conftest import text
from tests.dispatch.test_send_routes import (  # noqa: F401 (fixtures)
    fail_fast,
    faults,
    future_run,
    run,
    sender,
)

pytestmark = pytest.mark.both_databases

WORDS = {
    "sv": {"not_sent": "Inte skickade", "sending": "Skickas: 0 av 2", "sent": r"Skickad \d+ [a-zåäö]+\.?: 1 Kivra, 1 Min lön",
           "failed": "1 misslyckades", "scheduled": "Schemalagd {day} 08:00", "header": "Utskick"},
    "en": {"not_sent": "Not sent", "sending": "Sending: 0 of 2", "sent": r"Sent \d+ [A-Z][a-z]+: 1 Kivra, 1 Min lön",
           "failed": "1 failed", "scheduled": "Scheduled {day} 08:00", "header": "Payslips sent"},
}


def run_row(client, run) -> str:
    """The run's row in the list, as a person reads it."""
    page = client.get("/runs").get_data(as_text=True)
    row = re.search(rf'<tr>\s*<td><a href="/runs/{run.id}">.*?</tr>', page, re.S)
    assert row, "the run is in the list"
    return " ".join(re.sub(r"<[^>]+>", " ", row.group(0)).split())


def test_a_calculated_run_not_yet_sent_says_so(as_admin, run, lang):
    assert WORDS[lang]["header"] in text(as_admin.get("/runs"))
    assert WORDS[lang]["not_sent"] in run_row(as_admin, run)


def test_the_list_follows_a_send_from_queued_to_where_the_payslips_went(as_admin, run, kivra, lang):
    as_admin.post(f"/runs/{run.id}/send")
    assert WORDS[lang]["sending"] in run_row(as_admin, run)
    tasks.drain()
    row = run_row(as_admin, run)
    assert re.search(WORDS[lang]["sent"], row), row
    assert WORDS[lang]["not_sent"] not in row


def test_failed_payslips_show_in_the_list(app, as_admin, run, kivra, lang):
    fail_fast(app)
    as_admin.post(f"/runs/{run.id}/send")
    assert tasks.drain(max_tasks=1) == 1  # routed while Kivra answers; then Kivra fails every delivery
    faults(kivra, error_rate=1.0)
    tasks.drain()
    faults(kivra)
    assert WORDS[lang]["failed"] in run_row(as_admin, run)


def test_a_scheduled_send_shows_its_swedish_time(as_admin, future_run, lang):
    as_admin.post(f"/runs/{future_run.id}/send", {"when": "scheduled", "time": "08:00"})
    day = format_date(future_run.payout_date, "d MMM", locale=lang)
    assert WORDS[lang]["scheduled"].format(day=day) in run_row(as_admin, future_run)


def proposed_month(client) -> str:
    return re.search(r'name="period"[^>]*value="([^"]*)"', client.get("/runs").get_data(as_text=True)).group(1)


def test_a_new_run_proposes_the_first_month_without_one(as_admin, company):
    this_month = clock.today_in_sweden().replace(day=1)
    assert proposed_month(as_admin) == f"{this_month:%Y-%m}"
    months = [this_month, (this_month + timedelta(days=32)).replace(day=1)]
    for month in months:
        payroll.create_run(company, month, month + timedelta(days=24))
    after = (months[-1] + timedelta(days=32)).replace(day=1)
    assert proposed_month(as_admin) == f"{after:%Y-%m}"
    payroll.create_run(company, date(this_month.year - 1, 1, 1), date(this_month.year - 1, 1, 25))
    assert proposed_month(as_admin) == f"{after:%Y-%m}"  # an earlier month's run changes nothing
