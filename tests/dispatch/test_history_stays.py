"""What was delivered stays delivered: ending Kivra, or narrowing its agreement to invoices, moves only the payslips
not yet tried to Min lön — never a finished send, on any page, in the CSV or in the database."""
import csv
import io
from datetime import date

import httpx
import pytest
from sqlalchemy import select

from kivra import agreement, status
from kivra.agreement.models import KivraSender
from kivra.demo import employee_numbers
from kivra.dispatch import activation, service, tasks
from kivra.dispatch.models import Dispatch, PayslipSend
from kivra.extensions import db
from kivra.payroll import service as payroll
from kivra.portal.payslips import received
from tests.conftest import make_employee, text
from tests.dispatch.test_send_routes import NOT_USER, USER, calculated_run, progress_of, sender, step_url  # noqa: F401 - sender is a fixture

pytestmark = pytest.mark.both_databases

OTHER_USERS = employee_numbers()[1:3]  # Kivra users in the sandbox, besides USER
WORDS = {
    "sv": {"sent_kivra": "Skickade via Kivra", "all_min_lon": "Publicerade i Min lön.",
           "ended_before": "Kivra avslutades innan lönebeskeden skickades",
           "not_covered": "Avtalet med Kivra omfattar inte lönebesked, så de skickas till Min lön",
           "delivered": "Levererat till Kivra", "published": "Publicerat i Min lön", "ended": "Kivra har avslutats",
           "invoices_only": "Avtalet med Kivra omfattar inte lönebesked"},
    "en": {"sent_kivra": "Sent through Kivra", "all_min_lon": "Published in Min lön.",
           "ended_before": "Kivra was discontinued before these payslips were sent",
           "not_covered": "The Kivra agreement does not cover payslips, so they go to Min lön",
           "delivered": "Delivered to Kivra", "published": "Published in Min lön", "ended": "Kivra was discontinued",
           "invoices_only": "The Kivra agreement does not cover payslips"},
}
ENDINGS = {"discontinue": ("/solutions/kivra/discontinue", {}),
           "invoices_only": ("/solutions/kivra/agreement", {"invoices": "1"})}


@pytest.fixture
def words(lang):
    return WORDS[lang]


def rows_of(run) -> list[tuple]:
    """Each row as the database has it: what was delivered and where, and when it finished."""
    db.session.expire_all()
    return [(r.employee_id, r.channel, r.state, r.reason, r.finished_at, r.content_key) for r in db.session.scalars(
        select(Dispatch).where(Dispatch.run_id == run.id, Dispatch.state != "cancelled").order_by(Dispatch.id))]


def the_send(run) -> PayslipSend:
    db.session.expire_all()
    return db.session.scalar(select(PayslipSend).where(PayslipSend.run_id == run.id))


def ledger(kivra) -> dict:
    return httpx.get(f"{kivra.url}/_sandbox/ledger").json()


def month_param() -> str:
    return status.this_month().strftime("%Y-%m")


def csv_outcomes(client) -> list[tuple[str, str, str]]:
    """(name, channel, outcome) of each line of the month's CSV."""
    response = client.get(f"/solutions/kivra/dispatches.csv?month={month_param()}")
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    return sorted((line[0], line[2], line[3]) for line in lines[1:])


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_delivered_run_stays_delivered_after_kivra_ends(as_admin, sender, kivra, words, lang, ending):
    run = calculated_run(sender, date(2026, 11, 25))
    as_admin.post(f"/runs/{run.id}/send")
    tasks.drain()
    before, send_before = rows_of(run), the_send(run)
    assert sorted(r[2] for r in before) == ["delivered", "published"]
    assert (send_before.channel, send_before.note) == ("kivra", None)
    csv_before = csv_outcomes(as_admin)
    portal_before = {p.payslip_id: p.where for p in received(before[0][0])}

    url, form = ENDINGS[ending]
    as_admin.post(url, form)
    tasks.drain()

    assert rows_of(run) == before  # the database: every row as it finished
    assert ledger(kivra)["deliveries_per_recipient"] == {USER: 1}
    for page in (as_admin.get(step_url(run)), progress_of(as_admin, run)):
        shown = text(page)
        assert words["sent_kivra"] in shown, shown
        assert words["ended_before"] not in shown and words["not_covered"] not in shown
        assert f"{words['delivered']} 1" in shown and f"{words['published']} 1" in shown
    assert csv_outcomes(as_admin) == csv_before
    assert {p.payslip_id: p.where for p in received(before[0][0])} == portal_before == {
        p.payslip_id: "kivra" for p in received(before[0][0])}
    overview = text(as_admin.get(f"/solutions/dispatches?month={month_param()}"))
    assert words["delivered"] in overview and words["ended"] not in overview
    chart = status.monthly_outcomes(sender.id, status.this_month())[-1].counts
    assert (chart["delivered"], chart["published"]) == (1, 1)
    send = the_send(run)
    assert (send.channel, send.note) == ("kivra", None)  # the send is not relabelled as a Min lön send


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_half_sent_run_moves_only_the_payslips_not_yet_tried(as_admin, sender, kivra, words, lang, ending,
                                                              monkeypatch):
    monkeypatch.setattr(tasks, "BATCH", 1)  # a task per row, so one task sends one payslip
    for index, number in enumerate((USER, NOT_USER, *OTHER_USERS)):
        make_employee(sender, name=f"Person {index}", personnummer=number)
    run = calculated_run(sender, date(2026, 11, 25))
    as_admin.post(f"/runs/{run.id}/send")
    assert tasks.drain(max_tasks=2) == 2  # the send is routed, and one payslip goes; the rest wait their turn
    tried = {r[0]: r for r in rows_of(run) if r[2] != "queued"}
    assert sorted(r[2] for r in tried.values()) == ["delivered", "published"]

    url, form = ENDINGS[ending]
    as_admin.post(url, form)
    tasks.drain()

    after = rows_of(run)
    assert [r for r in after if r[0] in tried] == list(tried.values())  # what finished is as it finished
    moved = [r for r in after if r[0] not in tried]
    reason = "kivra_ended" if ending == "discontinue" else "not_in_scope"
    assert [(r[1], r[2], r[3]) for r in moved] == [("minlon", "published", reason)] * 2
    assert sum(ledger(kivra)["deliveries_per_recipient"].values()) == 1  # nothing more went to Kivra
    shown = text(as_admin.get(step_url(run)))
    assert {"sv": "4 av 4 skickade", "en": "4 of 4 sent"}[lang] in shown
    assert words["sent_kivra"] in shown and words["ended_before"] not in shown and words["all_min_lon"] not in shown
    assert f"{words['delivered']} 1" in shown and f"{words['published']} 3" in shown
    per_row = words["ended"] if ending == "discontinue" else words["invoices_only"]
    assert f"{per_row} 2" in shown  # the summary says why each of them went to Min lön
    assert (the_send(run).channel, the_send(run).note) == ("kivra", None)


def test_a_send_nothing_of_which_was_tried_moves_whole_and_says_so(as_admin, sender, kivra, words):
    run = calculated_run(sender, date(2026, 11, 25))
    as_admin.post(f"/runs/{run.id}/send")  # not yet picked up by a worker
    as_admin.post("/solutions/kivra/discontinue")
    tasks.drain()
    assert [(r[1], r[2], r[3]) for r in rows_of(run)] == [("minlon", "published", "kivra_ended")] * 2
    assert ledger(kivra)["contents"] == []
    shown = text(as_admin.get(step_url(run)))
    assert words["all_min_lon"] in shown and words["ended_before"] in shown


def test_ending_kivra_while_a_send_waits_for_access_sends_it_all_to_min_lon_now(company, admin, kivra):
    """Nothing of the run reached Kivra: every payslip goes to Min lön at once, the one kept there included, and the
    send says so — not "sent through Kivra"."""
    company.street_address, company.postal_code, company.city = "Storgatan 1", "111 22", "Stockholm"
    company.email, company.phone = "lon@demo.se", "08-123 45 67"
    db.session.commit()
    agreement.approve(company, admin, payslips=True, invoices=False)
    db.session.add(KivraSender(company_id=company.id, state="pending", access_request_key="asked"))
    db.session.commit()
    make_employee(company, name="Astrid Lindqvist", personnummer=USER)
    make_employee(company, name="Bo Ek", personnummer=NOT_USER, min_lon_only=True)
    run = payroll.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    payroll.calculate_run(run)
    service.request_send(run, admin)

    activation.discontinue(company, admin)
    tasks.drain()

    db.session.expire_all()
    send = db.session.scalar(select(PayslipSend))
    assert (send.channel, send.note) == ("minlon", "kivra_ended")
    assert sorted((row.channel, row.state, row.reason) for row in db.session.scalars(select(Dispatch))) == [
        ("minlon", "published", "kivra_ended"), ("minlon", "published", "min_lon_only")]
