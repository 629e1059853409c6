"""After Avsluta Kivra the history stays readable: the Kivra card keeps its status link, a past month's status page
shows what was delivered, the agreement panel says when and by whom Kivra was ended and offers it again, and nothing
is sent to Kivra again — in Swedish and English, as pages and as htmx fragments."""
import re
from datetime import date

import httpx
import pytest
from sqlalchemy import select

from kivra import agreement, status
from kivra.dispatch import activation, app_queue, tasks
from kivra.dispatch.models import Dispatch
from kivra.extensions import db
from kivra.sender_api.app import kivra_client
from tests.conftest import Client, make_user, text
from tests.dispatch.test_send_routes import USER, calculated_run, fail_fast, faults
from tests.test_status_pages import totals_on

pytestmark = pytest.mark.both_databases

WORDS = {
    "sv": {"status": "Status för Kivra", "history_link": "Status och historik för Kivra",
           "ended": r"Kivra avslutades \d{4}-\d\d-\d\d \d\d:\d\d av Greta Admin\.", "again": "Aktivera Kivra igen", "delivered": "Levererat till Kivra",
           "only_admin": "Endast en administratör kan aktivera Kivra igen: Greta Admin.",
           "resend": "Skicka misslyckade igen",
           "no_resend": "Kivra är inte aktivt, så misslyckade lönebesked skickas inte igen. De anställda läser dem i Min lön."},
    "en": {"status": "Kivra status", "history_link": "Kivra status and history",
           "ended": r"Kivra was discontinued on \d{4}-\d\d-\d\d \d\d:\d\d by Greta Admin\.", "again": "Activate Kivra again",
           "delivered": "Delivered to Kivra",
           "only_admin": "Only an administrator can activate Kivra again: Greta Admin.",
           "resend": "Resend failed",
           "no_resend": "Kivra is not active, so failed payslips are not sent again. The employees read them in Min lön."},
}


@pytest.fixture(autouse=True)
def unbound():
    app_queue.unbind_app()  # tasks run in this test's app (its queue emptied by the `app` fixture)


@pytest.fixture
def words(lang):
    return WORDS[lang]


@pytest.fixture
def greta(company, admin):
    admin.name = "Greta Admin"
    db.session.commit()
    return admin


@pytest.fixture
def sent_then_ended(app, as_admin, company, greta, kivra):
    """A run delivered through the sandbox (one Kivra user, one not), then Kivra discontinued by Greta."""
    company.street_address, company.postal_code, company.city = "Storgatan 1", "111 22", "Stockholm"
    company.email, company.phone = "lon@demo.se", "08-123 45 67"
    db.session.commit()
    activation.approve(company, greta, kivra_client(), payslips=True, invoices=False)
    run = calculated_run(company, date(2026, 11, 25))
    as_admin.post(f"/runs/{run.id}/send")
    tasks.drain()
    assert as_admin.post("/solutions/kivra/discontinue").status_code == 303
    return run


def month_url(**extra) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"month": status.this_month().strftime("%Y-%m"), **extra}.items())
    return f"/solutions/kivra?{query}"


@pytest.mark.parametrize("htmx", [False, True])
def test_the_months_status_page_stays_readable_after_discontinuing(as_admin, sent_then_ended, words, htmx):
    response = as_admin.get(month_url(), htmx=htmx)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="dispatch_month"' in body and 'id="agreement"' not in body
    assert ("<html" in body) is not htmx
    assert totals_on(body)["delivered"] == 1 and totals_on(body)["published"] == 1
    assert words["delivered"] in text(response)
    if not htmx:
        shown = text(response)
        assert f"<h1>{words['status']}</h1>" in body
        assert re.search(words["ended"], shown), shown
        again = re.search(r'<a class="button primary" href="([^"]+)">' + re.escape(words["again"]) + "</a>", body)
        assert again and again.group(1) == "/solutions/kivra/agreement"


def test_the_status_page_from_the_run_shows_the_runs_month(as_admin, sent_then_ended, words):
    response = as_admin.get(f"/solutions/kivra?run={sent_then_ended.id}&month={status.this_month():%Y-%m}")
    assert response.status_code == 200 and totals_on(response.get_data(as_text=True))["delivered"] == 1
    step = as_admin.get(f"/runs/{sent_then_ended.id}/send-and-post").get_data(as_text=True)
    assert f'href="/solutions/kivra?run={sent_then_ended.id}"' in step


def test_re_activation_from_the_status_page_brings_kivra_back(as_admin, sent_then_ended, greta):
    agreement_page = as_admin.get("/solutions/kivra/agreement")
    assert 'id="agreement"' in agreement_page.get_data(as_text=True)
    as_admin.post("/solutions/kivra/agreement", {"payslips": "1"})
    assert agreement.in_force(greta.company_id).covers_payslips
    assert 'id="dispatch_month"' in as_admin.get(month_url()).get_data(as_text=True)


def test_a_payroll_user_reads_the_history_and_is_told_who_can_activate(app, company, sent_then_ended, words, lang):
    clerk = Client(app.test_client()).login(make_user(company, "payroll", locale=lang))
    response = clerk.get(month_url())
    body, shown = response.get_data(as_text=True), text(response)
    assert response.status_code == 200 and totals_on(body)["delivered"] == 1
    assert words["only_admin"] in shown and words["again"] not in shown


@pytest.mark.parametrize("htmx", [False, True])
def test_the_kivra_card_keeps_its_status_link_and_says_who_ended_it(as_admin, sent_then_ended, words, htmx):
    response = as_admin.get("/solutions", htmx=htmx)
    body, shown = response.get_data(as_text=True), text(response)
    assert 'id="kivra_card"' in body and ("<html" in body) is not htmx
    link = re.search(r'<a class="button" href="([^"]+)">' + re.escape(words["history_link"]) + "</a>", body)
    assert link and link.group(1) == "/solutions/kivra"
    assert re.search(words["ended"], shown), shown


def test_a_company_that_never_had_kivra_still_sees_the_agreement(as_admin, company):
    assert 'id="agreement"' in as_admin.get("/solutions/kivra").get_data(as_text=True)


@pytest.fixture
def failed_then_ended(app, as_admin, company, greta, kivra):
    """A run whose Kivra payslip failed, then Kivra discontinued."""
    company.street_address, company.postal_code, company.city = "Storgatan 1", "111 22", "Stockholm"
    company.email, company.phone = "lon@demo.se", "08-123 45 67"
    db.session.commit()
    fail_fast(app)
    activation.approve(company, greta, kivra_client(), payslips=True, invoices=False)
    run = calculated_run(company, date(2026, 11, 25))
    as_admin.post(f"/runs/{run.id}/send")
    assert tasks.drain(max_tasks=1) == 1  # routed while Kivra answers
    faults(kivra, error_rate=1.0)
    tasks.drain()
    faults(kivra)
    assert db.session.scalar(select(Dispatch.state).where(Dispatch.channel == "kivra")) == "failed"
    as_admin.post("/solutions/kivra/discontinue")
    return run


def ledger_contents(kivra) -> dict:
    return httpx.get(f"{kivra.url}/_sandbox/ledger").json()["deliveries_per_recipient"]


@pytest.mark.parametrize("htmx", [False, True])
def test_resend_failed_is_not_offered_and_sends_nothing_once_kivra_ended(as_admin, failed_then_ended, kivra, words,
                                                                        htmx):
    run = failed_then_ended
    for page in (as_admin.get(month_url(), htmx=htmx), as_admin.get(f"/runs/{run.id}/send-and-post")):
        assert words["resend"] not in text(page) and words["no_resend"] in text(page)
    for url, data in ((f"/runs/{run.id}/send/resend-failed", {}),
                      ("/solutions/kivra/resend-failed", {"month": status.this_month().strftime("%Y-%m")})):
        response = as_admin.post(url, data, htmx=htmx)
        assert response.status_code == (409 if htmx else 303)
        shown = text(response if htmx else as_admin.get(response.location))
        assert words["no_resend"] in shown
    tasks.drain()
    db.session.expire_all()
    assert db.session.scalar(select(Dispatch.state).where(Dispatch.channel == "kivra")) == "failed"
    assert USER not in ledger_contents(kivra)  # nothing reached Kivra, before or after
