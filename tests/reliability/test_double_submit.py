"""Send pressed twice, or in two tabs at the same moment: one send, one row per payslip, one delivery each."""
import threading
from datetime import date

import httpx
import pytest
from sqlalchemy import func, select

from kivra.dispatch import activation, service, tasks
from kivra.dispatch.models import Dispatch, PayslipSend
from kivra.extensions import db
from kivra.payroll import service as payroll
from kivra.sender_api.app import kivra_client
from tests.conftest import Client, make_employee, text
from tests.reliability.checks import assert_delivered_exactly_once
from tests.reliability.scenario import Send, install_delivery_audit, personnummer

pytestmark = pytest.mark.both_databases

PAYSLIPS = 8
ALREADY = {"sv": "redan skickats", "en": "already been sent"}


@pytest.fixture
def run(company, admin, kivra):
    """A calculated run whose employees are all Kivra users, for a company with Kivra approved and active."""
    company.street_address, company.postal_code, company.city = "Storgatan 1", "111 22", "Stockholm"
    company.email, company.phone = "lon@demo.se", "08-123 45 67"
    db.session.commit()
    activation.approve(company, admin, kivra_client(), payslips=True, invoices=False)
    numbers = personnummer(PAYSLIPS)
    httpx.post(f"{kivra.url}/_sandbox/recipients", json=dict.fromkeys(numbers, "user")).raise_for_status()
    for index, number in enumerate(numbers):
        make_employee(company, name=f"Person {index}", personnummer=number)
    run = payroll.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    payroll.calculate_run(run)
    install_delivery_audit()
    tasks.huey.flush()
    return run


def assert_sent_once(app, run, kivra):
    """One send with one row per payslip; once the queue is drained, one delivery per recipient."""
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PayslipSend)) == 1
    send = service.send_of(run)
    payslips = db.session.scalars(select(Dispatch.payslip_id).where(Dispatch.send_id == send.id)).all()
    assert sorted(payslips) == sorted(p.id for p in run.payslips)
    tasks.drain()
    ledger = httpx.get(f"{kivra.url}/_sandbox/ledger").json()
    assert_delivered_exactly_once(app, Send(send.id, run.company_id, personnummer(PAYSLIPS)), ledger)


@pytest.mark.parametrize("htmx", [False, True])
def test_pressing_send_twice_sends_once(app, as_admin, run, kivra, lang, htmx):
    assert as_admin.post(f"/runs/{run.id}/send").status_code == 303
    again = as_admin.post(f"/runs/{run.id}/send", htmx=htmx)
    assert again.status_code == 409 and ALREADY[lang] in text(again)
    assert_sent_once(app, run, kivra)


def test_two_tabs_pressing_send_at_the_same_moment_send_once(app, as_admin, run, kivra, lang):
    """Two tabs of one browser: the same session cookie and CSRF token, two requests in flight at once."""
    second = Client(app.test_client())
    second.raw.set_cookie("session", as_admin.raw.get_cookie("session").value)
    second.token = as_admin.token
    start, answers = threading.Barrier(2), []

    def press(tab: Client):
        start.wait()
        answer = tab.post(f"/runs/{run.id}/send")
        answers.append((answer.status_code, text(answer)))

    tabs = [threading.Thread(target=press, args=(tab,)) for tab in (as_admin, second)]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join(timeout=30)
    assert sorted(status for status, _ in answers) == [303, 409], answers
    assert ALREADY[lang] in next(page for status, page in answers if status == 409)
    assert_sent_once(app, run, kivra)
