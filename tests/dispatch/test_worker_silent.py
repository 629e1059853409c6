"""The step page says plainly when payslips wait and no dispatch worker has been seen for a while, in Swedish and
English, on the full page and in the fragment htmx polls; it says nothing when a worker is alive or nothing waits."""
from datetime import timedelta

import pytest

from kivra.accounts.models import utcnow
from kivra.dispatch import tasks
from kivra.dispatch.heartbeat import WorkerHeartbeat
from kivra.extensions import db
from tests.conftest import text

pytestmark = pytest.mark.both_databases

SILENT = {
    "sv": "Utskickstjänsten har inte svarat på över 1 minut. Lönebeskeden skickas när den är igång igen – "
          "kontakta er systemadministratör om det består.",
    "en": "The sending service has not answered for over 1 minute. The payslips are sent when it is running again "
          "– contact your system administrator if this persists.",
}
NONE_SENT = {"sv": "0 av 1 skickade", "en": "0 of 1 sent"}
ALL_SENT = {"sv": "1 av 1 skickade", "en": "1 of 1 sent"}


def worker_seen(ago: timedelta) -> None:
    now = utcnow()
    db.session.add(WorkerHeartbeat(name="worker-1:4242", host="worker-1", pid=4242, started_at=now - ago - ago,
                                   seen_at=now - ago))
    db.session.commit()


def queued_to_min_lon(client, run):
    """'Not now': the run's payslip is queued for Min lön; no worker has run, so it waits."""
    response = client.post(f"/runs/{run.id}/send/min-lon")
    assert response.status_code == 303, response.status_code


def step_page(client, run, htmx: bool) -> str:
    if htmx:  # the fragment htmx polls every few seconds while payslips are on their way
        response = client.get(f"/runs/{run.id}/send/progress", htmx=True)
        assert "<html" not in response.get_data(as_text=True)
    else:
        response = client.get(f"/runs/{run.id}/send-and-post")
        assert "<html" in response.get_data(as_text=True)
    assert response.status_code == 200
    return text(response)


@pytest.mark.parametrize("htmx", [False, True])
def test_waiting_payslips_and_a_worker_silent_for_two_minutes_are_said_plainly(as_admin, run, lang, htmx):
    worker_seen(timedelta(minutes=2))
    queued_to_min_lon(as_admin, run)
    shown = step_page(as_admin, run, htmx)
    assert NONE_SENT[lang] in shown
    assert SILENT[lang] in shown


@pytest.mark.parametrize("htmx", [False, True])
def test_no_worker_ever_seen_is_silence_too(as_admin, run, lang, htmx):
    queued_to_min_lon(as_admin, run)
    assert SILENT[lang] in step_page(as_admin, run, htmx)


@pytest.mark.parametrize("htmx", [False, True])
def test_a_worker_seen_seconds_ago_is_not_an_alarm(as_admin, run, lang, htmx):
    worker_seen(timedelta(seconds=5))
    queued_to_min_lon(as_admin, run)
    shown = step_page(as_admin, run, htmx)
    assert NONE_SENT[lang] in shown
    assert SILENT[lang] not in shown


@pytest.mark.parametrize("htmx", [False, True])
def test_once_everything_went_the_silence_does_not_matter(as_admin, run, lang, htmx):
    worker_seen(timedelta(minutes=10))
    queued_to_min_lon(as_admin, run)
    tasks.drain()  # a worker came, sent, and went away again
    shown = step_page(as_admin, run, htmx)
    assert ALL_SENT[lang] in shown
    assert SILENT[lang] not in shown


def test_the_silence_is_measured_against_the_configured_time(app, as_admin, run, lang):
    app.config["WORKER_SILENT_SECONDS"] = 300
    worker_seen(timedelta(minutes=2))
    queued_to_min_lon(as_admin, run)
    assert SILENT[lang] not in step_page(as_admin, run, htmx=True)
    worker_seen(timedelta(minutes=20))  # a second, older row does not hide the fresher one
    assert SILENT[lang] not in step_page(as_admin, run, htmx=True)
