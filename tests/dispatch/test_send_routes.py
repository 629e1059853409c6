"""The step page's send routes as a person uses them: send now, schedule and cancel, resend failed, corrections,
employees kept on Min lön, Kivra holding payslips, and who may do any of it — in Swedish and English, htmx and not."""
import os
import re
import time as pytime
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select, update

from kivra.accounts.models import utcnow
from kivra.clock import as_utc
from kivra.demo import employee_numbers
from kivra.dispatch import activation, retention, service, tasks
from kivra.dispatch.models import Dispatch, PayslipSend
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.payroll import service as payroll
from kivra.sender_api.app import kivra_client
from tests.conftest import Client, make_employee, make_user, text

pytestmark = pytest.mark.both_databases

USER, NOT_USER = "191212121212", employee_numbers()[18]  # the sandbox: a Kivra user, and someone who is not
SWEDEN = ZoneInfo("Europe/Stockholm")

WORDS = {
    "sv": {
        "none_sent": "0 av 2 skickade", "all_sent": "2 av 2 skickade", "one_failed": "1 av 2 skickade, 1 misslyckades",
        "summary": "Sammanfattning", "delivered": "Levererat till Kivra", "published": "Publicerat i Min lön",
        "retained": "Vilande hos Kivra", "failed": "Misslyckades",
        "not_user": "Använder inte Kivra, eller har tackat nej till lönebesked från företaget",
        "kept": "Den anställdas lönebesked går enbart till Min lön",
        "scheduled": "Schemalagt: lönebeskeden skickas", "cancel": "Avbryt schemalagt utskick",
        "cancelled": "Det schemalagda utskicket är avbrutet. Inget skickades.",
        "started": "Utskicket har redan börjat och kan inte längre avbrytas.",
        "passed": "Den tiden har redan passerat. Skicka nu, eller välj en senare tid.",
        "malformed": "Skriv tiden som TT:MM, till exempel 08:00.",
        "ready": "2 lönebesked är klara att skicka.", "send": "Skicka lönebesked",
        "resend": "Skicka misslyckade igen", "resending": "1 misslyckat lönebesked skickas igen.",
        "nothing_failed": "Inga lönebesked har misslyckats; inget skickades igen.",
        "past_resend": "1 misslyckat lönebesked kan inte längre skickas igen: det som skickades sparas inte så länge. "
                       "Den anställda läser det i Min lön.",
        "unsent_correction": "1 rättat lönebesked har inte skickats.", "send_corrections": "Skicka rättelser",
        "corrections_sent": "1 rättat lönebesked skickas.",
        "no_corrections": "Det finns inga rättade lönebesked kvar att skicka.",
        "retain_on": "Kivra kommer att hålla lönebesked åt anställda som ännu inte använder Kivra.",
        "retain_off": "Anställda som inte använder Kivra får sina lönebesked i Min lön.",
        "saved": "Astrid Lindqvist har sparats.",
    },
    "en": {
        "none_sent": "0 of 2 sent", "all_sent": "2 of 2 sent", "one_failed": "1 of 2 sent, 1 failed",
        "summary": "Summary", "delivered": "Delivered to Kivra", "published": "Published in Min lön",
        "retained": "Held by Kivra", "failed": "Failed",
        "not_user": "Not a Kivra user, or has declined payslips from the company",
        "kept": "The employee's payslips go to Min lön only",
        "scheduled": "Scheduled: the payslips are sent", "cancel": "Cancel scheduled send",
        "cancelled": "The scheduled send is cancelled. Nothing was sent.",
        "started": "The send has already started and can no longer be cancelled.",
        "passed": "That time has already passed. Send now, or choose a later time.",
        "malformed": "Enter the time as HH:MM, for example 08:00.",
        "ready": "2 payslips are ready to send.", "send": "Send payslips",
        "resend": "Resend failed", "resending": "1 failed payslip is being sent again.",
        "nothing_failed": "No payslips have failed; nothing was sent again.",
        "past_resend": "1 failed payslip can no longer be sent again: what was sent is not kept that long. "
                       "The employee reads it in Min lön.",
        "unsent_correction": "1 corrected payslip has not been sent.", "send_corrections": "Send corrections",
        "corrections_sent": "1 corrected payslip is being sent.",
        "no_corrections": "There are no corrected payslips left to send.",
        "retain_on": "Kivra will hold payslips for employees who are not Kivra users yet.",
        "retain_off": "Employees who are not Kivra users get their payslips in Min lön.",
        "saved": "Astrid Lindqvist is saved.",
    },
}


@pytest.fixture
def words(lang):
    return WORDS[lang]


@pytest.fixture
def sender(company, admin, kivra):
    """The company with Kivra's agreement approved by its admin, access granted, and employer details filled in."""
    company.street_address, company.postal_code, company.city = "Storgatan 1", "111 22", "Stockholm"
    company.email, company.phone = "lon@demo.se", "08-123 45 67"
    db.session.commit()
    activation.approve(company, admin, kivra_client(), payslips=True, invoices=False)
    return company


def calculated_run(company, payout: date) -> payroll.PayrollRun:
    """A calculated run paying a Kivra user and someone who is not, out on `payout`."""
    if not db.session.scalar(select(func.count()).select_from(Employee).where(Employee.company_id == company.id)):
        make_employee(company, name="Astrid Lindqvist", personnummer=USER)
        make_employee(company, name="Sven Jönsson", personnummer=NOT_USER)
    run = payroll.create_run(company, payout.replace(day=1), payout)
    payroll.calculate_run(run)
    return run


def sweden_today() -> date:
    return datetime.now(SWEDEN).date()


@pytest.fixture
def run(sender):
    return calculated_run(sender, date(2026, 11, 25))


@pytest.fixture
def future_run(sender):
    """Paid out a month from now: any time on its payout date is still to come."""
    return calculated_run(sender, sweden_today() + timedelta(days=30))


def step_url(run):
    return f"/runs/{run.id}/send-and-post"


def seen(client, response, run, htmx):
    """What the person sees after a POST: the swapped send area (htmx), or the step page the redirect leads to."""
    if htmx:
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and 'id="send_payslips"' in body and "<html" not in body
        return response
    assert response.status_code == 303 and response.location == step_url(run)
    return client.get(response.location)


def progress_of(client, run):
    """The fragment htmx polls for."""
    response = client.get(f"/runs/{run.id}/send/progress", htmx=True)
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    return response


def dispatches(run) -> list[Dispatch]:
    db.session.expire_all()
    return db.session.scalars(select(Dispatch).where(Dispatch.run_id == run.id).order_by(Dispatch.id)).all()


def ledger(kivra) -> dict:
    return httpx.get(f"{kivra.url}/_sandbox/ledger").json()


def fail_fast(app):
    """One attempt per row, no waiting between tries, and a Kivra client made again with the new settings."""
    app.config.update(DISPATCH_MAX_ATTEMPTS=1, KIVRA_MAX_ATTEMPTS=1, DISPATCH_RETRY_SECONDS=0.0,
                      DISPATCH_RETRY_CAP_SECONDS=0.0)
    client = app.extensions.pop("kivra_client", None)
    if client:
        client.close()


def faults(kivra, **settings):
    httpx.post(f"{kivra.url}/_sandbox/faults", json=settings).raise_for_status()


# --- send now ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_send_now_writes_the_rows_at_once_and_the_summary_follows_the_worker(as_admin, run, kivra, words, htmx):
    response = as_admin.post(f"/runs/{run.id}/send", {"when": "now", "time": "08:00"}, htmx=htmx)
    page = seen(as_admin, response, run, htmx)
    assert [(row.state, row.channel) for row in dispatches(run)] == [("queued", "kivra")] * 2
    assert ledger(kivra)["contents"] == []  # the worker has not run: nothing has gone yet
    assert words["none_sent"] in text(page)
    polling = progress_of(as_admin, run)
    assert words["none_sent"] in text(polling) and 'hx-trigger="every 2s"' in polling.get_data(as_text=True)

    tasks.drain()
    done = progress_of(as_admin, run)
    shown = text(done)
    assert words["all_sent"] in shown and words["summary"] in shown
    assert f"{words['delivered']} 1" in shown and f"{words['published']} 1" in shown
    assert f"{words['not_user']} 1" in shown
    assert words["failed"] not in shown and words["resend"] not in shown
    assert "hx-trigger" not in done.get_data(as_text=True)  # finished: the fragment stops polling
    assert ledger(kivra)["deliveries_per_recipient"] == {USER: 1}
    assert f"{words['delivered']} 1" in text(as_admin.get(step_url(run)))  # a reload shows the same summary


def test_the_progress_url_without_htmx_leads_to_the_step_page(as_admin, run):
    as_admin.post(f"/runs/{run.id}/send")
    response = as_admin.get(f"/runs/{run.id}/send/progress")
    assert response.status_code == 303 and response.location == step_url(run)
    restore = as_admin.raw.get(f"/runs/{run.id}/send/progress",
                               headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert restore.status_code == 303  # htmx restoring history gets the page, never a bare fragment


def test_a_second_send_of_the_same_run_is_refused(as_admin, run, words, lang):
    as_admin.post(f"/runs/{run.id}/send")
    again = as_admin.post(f"/runs/{run.id}/send", htmx=True)
    assert again.status_code == 409
    assert {"sv": "redan skickats", "en": "already been sent"}[lang] in text(again)
    assert len(dispatches(run)) == 2


# --- scheduling --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_a_scheduled_send_waits_and_can_be_cancelled_then_sent(as_admin, future_run, kivra, words, htmx):
    run = future_run
    response = as_admin.post(f"/runs/{run.id}/send", {"when": "scheduled", "time": "08:00"}, htmx=htmx)
    page = text(seen(as_admin, response, run, htmx))
    assert f"{words['scheduled']} {run.payout_date.isoformat()} 08:00." in page  # Swedish time, as chosen
    assert words["cancel"] in page and words["ready"] not in page  # no second Send button
    send = service.send_of(run)
    assert as_utc(send.scheduled_for) == datetime.combine(run.payout_date, time(8), SWEDEN).astimezone(timezone.utc)
    assert len(dispatches(run)) == 2  # written now, due then

    tasks.drain()
    assert {row.state for row in dispatches(run)} == {"queued"} and ledger(kivra)["contents"] == []
    assert words["scheduled"] in text(progress_of(as_admin, run))

    cancelled = seen(as_admin, as_admin.post(f"/runs/{run.id}/send/cancel", htmx=htmx), run, htmx)
    assert words["cancelled"] in text(cancelled)
    assert words["ready"] in text(cancelled)
    assert f'action="/runs/{run.id}/send"' in cancelled.get_data(as_text=True)  # the send form is back
    assert service.send_of(run) is None and dispatches(run) == []

    seen(as_admin, as_admin.post(f"/runs/{run.id}/send", {"when": "now"}, htmx=htmx), run, htmx)
    tasks.drain()
    assert f"{words['delivered']} 1" in text(progress_of(as_admin, run))
    assert ledger(kivra)["deliveries_per_recipient"] == {USER: 1}


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("days, clock", [(-40, "08:00"), (0, "00:00")], ids=["payout-date-passed", "time-passed-today"])
def test_a_time_that_has_passed_is_refused_and_nothing_is_written(as_admin, sender, words, htmx, days, clock):
    run = calculated_run(sender, sweden_today() + timedelta(days=days))
    response = as_admin.post(f"/runs/{run.id}/send", {"when": "scheduled", "time": clock}, htmx=htmx)
    assert response.status_code == 422
    assert words["passed"] in text(response)
    assert f'action="/runs/{run.id}/send"' in response.get_data(as_text=True)  # still there to choose again
    assert ("<html" in response.get_data(as_text=True)) is not htmx
    assert service.send_of(run) is None and dispatches(run) == []


@pytest.mark.parametrize("clock", ["", "8.00", "25:00", "klockan åtta"])
def test_a_malformed_time_is_refused_with_how_to_write_it(as_admin, future_run, words, clock):
    response = as_admin.post(f"/runs/{future_run.id}/send", {"when": "scheduled", "time": clock}, htmx=True)
    assert response.status_code == 422 and words["malformed"] in text(response)
    assert service.send_of(future_run) is None and dispatches(future_run) == []


def the_time_comes(run):
    """The scheduled moment arrives: the send's times move to just now, and the queue runs what was set for then."""
    tasks.drain()  # the worker has put the send on its schedule
    past = utcnow() - timedelta(seconds=1)
    db.session.execute(update(PayslipSend).where(PayslipSend.run_id == run.id).values(scheduled_for=past))
    db.session.execute(update(Dispatch).where(Dispatch.run_id == run.id).values(due_at=past))
    db.session.commit()
    later = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(days=366)
    for task in tasks.huey.read_schedule(later):
        tasks.huey.execute(task, later)
    tasks.drain()


@pytest.mark.parametrize("htmx", [False, True])
def test_a_send_that_has_started_can_no_longer_be_cancelled(as_admin, future_run, kivra, words, htmx):
    run = future_run
    as_admin.post(f"/runs/{run.id}/send", {"when": "scheduled", "time": "08:00"})
    the_time_comes(run)  # while a second tab still shows Cancel
    response = as_admin.post(f"/runs/{run.id}/send/cancel", htmx=htmx)
    if htmx:
        assert response.status_code == 409 and words["started"] in text(response)
    else:  # a plain form post is redirected to the step page, which carries the message
        assert words["started"] in text(seen(as_admin, response, run, htmx))
    assert service.send_of(run) is not None and len(dispatches(run)) == 2
    assert ledger(kivra)["deliveries_per_recipient"] == {USER: 1}


@pytest.fixture
def stockholm_clock():
    """The process's local time is Swedish, as on a server in Sweden: a naive UTC time taken as local would drift."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Stockholm"
    pytime.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    pytime.tzset()


def test_a_scheduled_send_is_on_the_queue_for_its_moment(as_admin, future_run, stockholm_clock, caplog):
    as_admin.post(f"/runs/{future_run.id}/send", {"when": "scheduled", "time": "08:00"})
    tasks.drain()  # the worker takes the task and keeps it for its time
    moment = datetime.combine(future_run.payout_date, time(8), SWEDEN).astimezone(timezone.utc)
    assert [task.eta for task in tasks.huey.scheduled()] == [moment.replace(tzinfo=None)]  # Huey keeps UTC
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_a_send_made_now_cannot_be_cancelled(as_admin, run, words):
    as_admin.post(f"/runs/{run.id}/send")
    response = as_admin.post(f"/runs/{run.id}/send/cancel", htmx=True)
    assert response.status_code == 409 and words["started"] in text(response)
    assert len(dispatches(run)) == 2


# --- resend failed -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_failed_payslips_are_shown_and_sent_again_once(app, as_admin, run, kivra, words, htmx):
    fail_fast(app)
    as_admin.post(f"/runs/{run.id}/send")
    assert tasks.drain(max_tasks=1) == 1  # the send is routed: one usermatch while Kivra answers
    faults(kivra, error_rate=1.0)
    tasks.drain()
    failed = text(progress_of(as_admin, run))
    assert words["one_failed"] in failed
    assert f"{words['failed']} 1" in failed and f"{words['published']} 1" in failed
    assert words["resend"] in failed
    assert [row.state for row in dispatches(run) if row.channel == "kivra"] == ["failed"]

    faults(kivra)
    response = as_admin.post(f"/runs/{run.id}/send/resend-failed", htmx=htmx)
    assert words["resending"] in text(seen(as_admin, response, run, htmx))
    tasks.drain()
    done = text(progress_of(as_admin, run))
    assert words["all_sent"] in done and f"{words['delivered']} 1" in done
    assert words["resend"] not in done and words["failed"] not in done
    assert ledger(kivra)["deliveries_per_recipient"] == {USER: 1}

    again = as_admin.post(f"/runs/{run.id}/send/resend-failed", htmx=True)
    assert again.status_code == 200 and words["nothing_failed"] in text(again)


@pytest.mark.parametrize("htmx", [False, True])
def test_a_failed_payslip_whose_stored_content_was_dropped_is_not_sent_again_and_the_page_says_why(
        app, as_admin, run, kivra, words, htmx):
    fail_fast(app)
    as_admin.post(f"/runs/{run.id}/send")
    assert tasks.drain(max_tasks=1) == 1
    faults(kivra, error_rate=1.0)
    tasks.drain()
    faults(kivra)
    assert retention.drop_failed_payloads(finished_before=utcnow() + timedelta(seconds=1)) == 1  # DISPATCH_FAILED_…

    response = as_admin.post(f"/runs/{run.id}/send/resend-failed", htmx=htmx)
    page = text(seen(as_admin, response, run, htmx))
    assert words["past_resend"] in page and words["nothing_failed"] not in page
    tasks.drain()
    assert [row.state for row in dispatches(run) if row.channel == "kivra"] == ["failed"]
    assert ledger(kivra)["deliveries_per_recipient"] == {}


def test_with_kivra_down_from_the_start_the_payslips_fail_and_go_once_it_is_back(app, as_admin, run, kivra, words):
    fail_fast(app)
    faults(kivra, error_rate=1.0)  # usermatch and content alike
    as_admin.post(f"/runs/{run.id}/send")
    tasks.drain()
    assert sorted(row.state for row in dispatches(run)) == ["failed", "failed"]  # none left hanging in "sending"
    shown = text(progress_of(as_admin, run))
    assert f"{words['failed']} 2" in shown and words["resend"] in shown

    faults(kivra)
    as_admin.post(f"/runs/{run.id}/send/resend-failed")
    tasks.drain()
    done = text(progress_of(as_admin, run))
    assert words["all_sent"] in done and f"{words['delivered']} 1" in done and f"{words['not_user']} 1" in done
    assert ledger(kivra)["deliveries_per_recipient"] == {USER: 1}


def test_a_usermatch_that_failed_once_still_gives_the_right_reason(app, sender, admin, kivra):
    """Regression: the row that routed the send after a failed usermatch was itself left unmatched."""
    fail_fast(app)
    make_employee(sender, name="Adam Ek", personnummer=NOT_USER)  # first in the send
    make_employee(sender, name="Astrid Lindqvist", personnummer=USER)
    run = calculated_run(sender, date(2026, 11, 25))
    service.request_send(run, admin)
    assert dispatches(run)[0].position == 0 and dispatches(run)[0].employee_id == run.payslips[0].employee_id
    assert run.payslips[0].employee.personnummer == NOT_USER
    faults(kivra, error_rate=1.0)
    tasks.drain(max_tasks=1)  # the send's one usermatch fails
    faults(kivra)
    tasks.drain()
    assert [(row.channel, row.state, row.reason) for row in dispatches(run)] == [
        ("minlon", "published", "not_kivra_user"), ("kivra", "delivered", None)]


# --- corrections -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_a_correction_is_offered_and_sent_once_as_a_correction(as_admin, run, kivra, words, htmx):
    as_admin.post(f"/runs/{run.id}/send")
    tasks.drain()
    assert words["send_corrections"] not in text(as_admin.get(step_url(run)))
    payslip = next(p for p in run.payslips if p.employee.personnummer == USER)
    payslip.lines[0].amount_ore += 100_000
    db.session.commit()
    payroll.correct(payslip)

    page = text(as_admin.get(step_url(run)) if not htmx else progress_of(as_admin, run))
    assert words["unsent_correction"] in page and words["send_corrections"] in page
    first = as_admin.post(f"/runs/{run.id}/send/corrections", htmx=htmx)
    assert words["corrections_sent"] in text(seen(as_admin, first, run, htmx))
    second = as_admin.post(f"/runs/{run.id}/send/corrections", htmx=htmx)  # the double click
    assert words["no_corrections"] in text(seen(as_admin, second, run, htmx))
    assert len(dispatches(run)) == 3

    tasks.drain()
    subjects = sorted(content["subject"] for content in ledger(kivra)["contents"])
    assert subjects == ["Lönebesked november 2026", "Rättat lönebesked november 2026"]
    assert words["send_corrections"] not in text(as_admin.get(step_url(run)))


# --- an employee kept on Min lön ---------------------------------------------------------------------------------


def checkbox(response, name) -> str:
    return re.search(rf'<input[^>]* name="{name}"[^>]*>', response.get_data(as_text=True)).group(0)


def employee_form(employee: Employee, **changes) -> dict:
    values = {"name": employee.name, "personnummer": employee.personnummer, "employment_start": "2020-01-01",
              "monthly_salary": "32500", "tax_rate": "30"}
    values.update(changes)
    return values


@pytest.mark.parametrize("htmx", [False, True])
def test_an_employee_kept_on_min_lon_gets_the_payslip_there_with_the_reason(as_admin, run, kivra, words, htmx):
    astrid = db.session.scalar(select(Employee).where(Employee.personnummer == USER))
    url = f"/employees/{astrid.id}/edit"
    assert 'name="min_lon_only"' in as_admin.get(url).get_data(as_text=True)
    saved = as_admin.post(url, employee_form(astrid, min_lon_only="y"), htmx=htmx)
    if htmx:
        assert (saved.status_code, saved.headers["HX-Redirect"]) == (204, "/employees")
    else:
        assert (saved.status_code, saved.location) == (303, "/employees")
    assert words["saved"] in text(as_admin.get("/employees"))
    db.session.expire_all()
    assert db.session.get(Employee, astrid.id).min_lon_only
    assert " checked " in checkbox(as_admin.get(url), "min_lon_only")

    as_admin.post(f"/runs/{run.id}/send")
    tasks.drain()
    summary = text(progress_of(as_admin, run))
    assert f"{words['published']} 2" in summary and words["delivered"] not in summary
    assert f"{words['kept']} 1" in summary and f"{words['not_user']} 1" in summary
    assert ledger(kivra)["contents"] == []

    as_admin.post(url, employee_form(astrid))  # unticked: a checkbox left out of the form
    db.session.expire_all()
    assert not db.session.get(Employee, astrid.id).min_lon_only


# --- Kivra holds payslips for people not yet in Kivra ------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_admin_turns_retain_on_and_off(as_admin, sender, run, kivra, words, htmx):
    on = as_admin.post("/solutions/kivra/retain", {"retain": "1"}, htmx=htmx)
    target = on.headers["HX-Redirect"] if htmx else on.location
    assert on.status_code == (204 if htmx else 303) and target == "/solutions/kivra"
    page = as_admin.get(target)
    assert words["retain_on"] in text(page)
    assert 'name="retain" value="1" checked' in page.get_data(as_text=True)
    db.session.expire_all()
    assert sender.kivra_retain

    as_admin.post(f"/runs/{run.id}/send")
    tasks.drain()
    summary = text(progress_of(as_admin, run))
    assert f"{words['delivered']} 1" in summary and f"{words['retained']} 1" in summary
    assert words["published"] not in summary

    off = as_admin.post("/solutions/kivra/retain", {}, htmx=htmx)
    page = as_admin.get(off.headers["HX-Redirect"] if htmx else off.location)
    assert words["retain_off"] in text(page)
    assert 'name="retain" value="1" checked' not in page.get_data(as_text=True)
    db.session.expire_all()
    assert not sender.kivra_retain


def test_a_payroll_user_cannot_change_retain(app, sender, payroll_user):
    client = Client(app.test_client()).login(payroll_user)
    assert client.post("/solutions/kivra/retain", {"retain": "1"}).status_code == 403
    assert client.post("/solutions/kivra/retain", {"retain": "1"}, htmx=True).status_code == 403
    assert 'action="/solutions/kivra/retain"' not in client.get("/solutions/kivra").get_data(as_text=True)
    db.session.expire_all()
    assert not sender.kivra_retain


def test_retain_refuses_a_missing_csrf_token(as_admin, sender):
    assert as_admin.post("/solutions/kivra/retain", {"retain": "1"}, csrf=False).status_code == 400
    db.session.expire_all()
    assert not sender.kivra_retain


# --- who may -----------------------------------------------------------------------------------------------------


SEND_POSTS = ["/send", "/send/resend-failed", "/send/corrections", "/send/cancel"]


@pytest.fixture
def scheduled(as_admin, future_run):
    """This company's run with a send set for its payout date, cancellable: every route has something to act on."""
    response = as_admin.post(f"/runs/{future_run.id}/send", {"when": "scheduled", "time": "08:00"})
    assert response.status_code == 303
    return future_run


@pytest.mark.parametrize("htmx", [False, True])
def test_another_companys_user_finds_none_of_the_send_urls(app, scheduled, other_company, lang, htmx):
    outsider = Client(app.test_client()).login(make_user(other_company, "admin", locale=lang))
    base = f"/runs/{scheduled.id}"
    for url in (f"{base}/send/progress", f"{base}/send-and-post"):
        assert outsider.get(url, htmx=htmx).status_code == 404, url
    for path in SEND_POSTS:
        assert outsider.post(base + path, {"when": "now"}, htmx=htmx).status_code == 404, path
    send = service.send_of(scheduled)
    assert send is not None and send.scheduled_for is not None and len(dispatches(scheduled)) == 2


@pytest.mark.parametrize("path", SEND_POSTS[1:])
def test_send_posts_refuse_a_missing_csrf_token(as_admin, scheduled, path):
    response = as_admin.post(f"/runs/{scheduled.id}{path}", csrf=False)
    assert response.status_code == 400
    assert service.send_of(scheduled) is not None and len(dispatches(scheduled)) == 2


@pytest.mark.parametrize("htmx", [False, True])
def test_send_refuses_a_missing_csrf_token(as_admin, run, htmx):
    assert as_admin.post(f"/runs/{run.id}/send", {"when": "now"}, csrf=False, htmx=htmx).status_code == 400
    assert service.send_of(run) is None and dispatches(run) == []


def test_the_min_lon_only_checkbox_refuses_a_missing_csrf_token(as_admin, run):
    astrid = db.session.scalar(select(Employee).where(Employee.personnummer == USER))
    response = as_admin.post(f"/employees/{astrid.id}/edit", employee_form(astrid, min_lon_only="y"), csrf=False)
    assert response.status_code in (400, 422)
    db.session.expire_all()
    assert not db.session.get(Employee, astrid.id).min_lon_only
