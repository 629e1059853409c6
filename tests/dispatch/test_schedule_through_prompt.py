"""The time chosen with Send payslips survives the activation prompt: Not now and an approval both keep it."""
import re
from datetime import date, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kivra.dispatch.models import PayslipSend
from kivra.extensions import db
from kivra.payroll import service as payroll
from tests.conftest import make_employee

pytestmark = pytest.mark.both_databases

SEND_AT = re.compile(r'name="send_at" value="([^"]+)"')


@pytest.fixture
def later_run(company):
    """A calculated run paid out a month from now, so a time on its payout date is in the future."""
    make_employee(company)
    payout = date.today() + timedelta(days=30)
    run = payroll.create_run(company, payout.replace(day=1), payout)
    payroll.calculate_run(run)
    return run


def the_send(run):
    db.session.expire_all()
    return db.session.scalar(select(PayslipSend).where(PayslipSend.run_id == run.id))


@pytest.mark.parametrize("htmx", [False, True])
def test_not_now_keeps_the_chosen_time(as_admin, later_run, lang, htmx):
    prompt = as_admin.post(f"/runs/{later_run.id}/send", {"when": "scheduled", "time": "07:30"}, htmx=True)
    send_at = SEND_AT.search(prompt.get_data(as_text=True)).group(1)
    assert the_send(later_run) is None  # the prompt first; nothing is written yet
    as_admin.post(f"/runs/{later_run.id}/send/min-lon", {"send_at": send_at}, htmx=htmx)
    send = the_send(later_run)
    assert (send.channel, send.note) == ("minlon", "not_now")
    local = send.scheduled_for.replace(tzinfo=timezone.utc).astimezone(ZoneInfo("Europe/Stockholm"))
    assert (local.date(), local.hour, local.minute) == (later_run.payout_date, 7, 30)


def test_approving_from_the_prompt_keeps_the_chosen_time(as_admin, later_run, kivra):
    prompt = as_admin.post(f"/runs/{later_run.id}/send", {"when": "scheduled", "time": "09:00"}, htmx=True)
    send_at = SEND_AT.search(prompt.get_data(as_text=True)).group(1)
    agreement = as_admin.get(f"/solutions/kivra/agreement?run={later_run.id}&send_at={send_at}")
    assert f'name="send_at" value="{send_at}"' in agreement.get_data(as_text=True)
    as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "run": later_run.id, "send_at": send_at})
    send = the_send(later_run)
    assert send.channel == "kivra" and send.scheduled_for is not None


def test_a_carried_time_that_has_passed_is_refused_with_a_message(as_admin, later_run, lang):
    response = as_admin.post(f"/runs/{later_run.id}/send/min-lon", {"send_at": "2020-01-01T08:00:00+00:00"}, htmx=True)
    assert response.status_code == 422
    assert {"sv": "Den tiden har redan passerat", "en": "That time has already passed"}[lang] in response.get_data(as_text=True)
    assert the_send(later_run) is None
