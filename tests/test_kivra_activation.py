"""First send, the activation prompt, the agreement, onboarding with Kivra, new customers, VLA, discontinue."""
from datetime import date, datetime

import pytest
from sqlalchemy import select

from kivra import agreement
from kivra.agreement import vla
from kivra.agreement.models import KivraAgreement, KivraSender
from kivra.dispatch import access as tasks, service as dispatch
from kivra.dispatch.models import PayslipSend
from kivra.extensions import db
from kivra.payroll import service
from tests.conftest import make_employee, make_user, text
from tests.kivra_jobs import run_kivra_jobs

pytestmark = pytest.mark.both_databases

WORDS = {
    "prompt": {"sv": "Aktivera Kivra?", "en": "Activate Kivra?"},
    "minlon_queued": {"sv": "Skickas till Min lön", "en": "Sending to Min lön"},
    "kivra_queued": {"sv": "Skickas via Kivra", "en": "Sending through Kivra"},
    "waiting": {"sv": "Väntar på Kivra", "en": "Waiting for Kivra"},
    "contact": {"sv": "det kan krävas kontakt med Kivra", "en": "contact with Kivra may be required"},
    "ask_admin": {"sv": "Anna Admin", "en": "Anna Admin"},
    "already": {"sv": "redan skickats", "en": "already been sent"},
}


def other_run(company, month=12):
    run = service.create_run(company, date(2026, month, 1), date(2026, month, 23))
    service.calculate_run(run)
    return run


def the_send(run):
    return db.session.scalar(select(PayslipSend).where(PayslipSend.run_id == run.id))


def send_url(run):
    return f"/runs/{run.id}/send"


@pytest.mark.parametrize("htmx", [False, True])
def test_first_send_shows_the_activation_prompt_and_sends_nothing(as_admin, run, lang, htmx):
    response = as_admin.post(send_url(run), htmx=htmx)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert WORDS["prompt"][lang] in text(response)
    assert 'id="send_payslips"' in body and ("<html" in body) is not htmx
    assert the_send(run) is None


@pytest.mark.parametrize("htmx", [False, True])
def test_not_now_sends_to_min_lon_only(as_admin, run, lang, htmx):
    response = as_admin.post(f"/runs/{run.id}/send/min-lon", htmx=htmx)
    send = the_send(run)
    assert (send.channel, send.state, send.note) == ("minlon", "queued", "not_now")
    page = text(response if htmx else as_admin.get(response.location))
    assert WORDS["minlon_queued"][lang] in page


def test_pressing_send_twice_or_from_two_tabs_sends_once(as_admin, admin, run, lang):
    assert as_admin.post(f"/runs/{run.id}/send/min-lon").status_code == 303
    again = as_admin.post(f"/runs/{run.id}/send/min-lon", htmx=True)  # the second tab
    assert again.status_code == 409 and WORDS["already"][lang] in text(again)
    assert db.session.query(PayslipSend).count() == 1
    with pytest.raises(dispatch.AlreadySent):  # the database refuses, whatever a page showed
        dispatch.request_send(run, admin)


@pytest.mark.parametrize("htmx", [False, True])
def test_activate_shows_the_agreement_in_the_run(as_admin, run, lang, htmx):
    response = as_admin.get(f"/solutions/kivra/agreement?run={run.id}", htmx=htmx)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="agreement"' in body and ("<html" in body) is not htmx
    assert agreement.VERSION in body
    assert {"sv": "Godkänn avtalet", "en": "Approve agreement"}[lang] in text(response)
    assert f'name="run" value="{run.id}"' in body


@pytest.mark.parametrize("htmx", [False, True])
def test_admin_approval_registers_with_kivra_and_sends_without_a_second_click(as_admin, admin, run, kivra, lang, htmx):
    response = as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "run": run.id}, htmx=htmx)
    target = f"/runs/{run.id}/send-and-post"
    assert (response.headers.get("HX-Redirect") if htmx else response.location) == target
    assert the_send(run).state == "waiting_for_kivra"  # the request asked Kivra nothing: a worker registers
    assert run_kivra_jobs() == 1
    current = agreement.in_force(run.company_id)
    assert (current.approved_by_id, current.version, current.scope) == (admin.id, agreement.VERSION, ("payslips",))
    sender = db.session.scalar(select(KivraSender))
    assert sender.state == "active" and sender.tenant_key
    send = the_send(run)
    assert (send.channel, send.state) == ("kivra", "queued")
    assert WORDS["kivra_queued"][lang] in text(as_admin.get(target))


@pytest.mark.parametrize("htmx", [False, True])
def test_payroll_user_sees_the_agreement_read_only_naming_the_admins(app, client, company, run, lang, htmx):
    make_user(company, "admin", email="anna@demo.se").name = "Anna Admin"
    db.session.commit()
    payroll = make_user(company, "payroll", locale=lang)
    client.login(payroll)
    page = client.get(f"/solutions/kivra/agreement?run={run.id}", htmx=htmx)
    assert ("<html" in page.get_data(as_text=True)) is not htmx
    assert WORDS["ask_admin"][lang] in text(page)
    assert 'action="/solutions/kivra/agreement"' not in page.get_data(as_text=True)
    assert client.post("/solutions/kivra/agreement", {"payslips": "1", "run": run.id}).status_code == 403
    assert agreement.in_force(company.id) is None and the_send(run) is None


def test_approval_needs_a_scope(as_admin, run, lang):
    response = as_admin.post("/solutions/kivra/agreement", {"run": run.id})
    assert response.status_code == 422
    assert {"sv": "lönebesked, fakturor eller båda", "en": "payslips, invoices or both"}[lang] in text(response)


@pytest.mark.parametrize("htmx", [False, True])
def test_an_org_number_kivra_must_grant_waits_and_then_goes_out(as_admin, company, run, kivra, lang, htmx):
    company.orgnr = "5560360793"  # owned by another sender in the sandbox; access is granted
    db.session.commit()
    approved = as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "run": run.id}, htmx=htmx)
    assert (approved.headers.get("HX-Redirect") if htmx else approved.location) == f"/runs/{run.id}/send-and-post"
    run_kivra_jobs()
    assert db.session.scalar(select(KivraSender)).state == "pending"
    assert the_send(run).state == "waiting_for_kivra"
    page = text(as_admin.get(f"/runs/{run.id}/send-and-post"))
    assert WORDS["waiting"][lang] in page and WORDS["contact"][lang] in page
    card = as_admin.get("/solutions", htmx=True)
    assert WORDS["waiting"][lang] in text(card) and "<html" not in card.get_data(as_text=True)
    assert tasks.check_access() == 1  # the periodic check
    db.session.expire_all()
    assert db.session.scalar(select(KivraSender)).state == "active"
    assert (the_send(run).channel, the_send(run).state) == ("kivra", "queued")


def test_a_refused_access_request_routes_to_min_lon_with_the_reason(as_admin, company, run, kivra, lang):
    company.orgnr = "5567037485"  # the sandbox rejects access to this one
    db.session.commit()
    as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "run": run.id})
    run_kivra_jobs()
    tasks.check_access()
    db.session.expire_all()
    send = the_send(run)
    assert (send.channel, send.state, send.note) == ("minlon", "queued", "kivra_rejected")
    assert {"sv": "Kivra nekade", "en": "Kivra refused"}[lang] in text(as_admin.get(f"/runs/{run.id}/send-and-post"))


def test_a_company_that_sent_before_gets_no_prompt(as_admin, company, run):
    as_admin.post(f"/runs/{run.id}/send/min-lon")
    december = other_run(company)
    response = as_admin.post(send_url(december))
    assert response.status_code == 303
    assert the_send(december).channel == "minlon"


def test_a_new_customer_has_kivra_from_the_start_and_can_end_it(app, as_admin, admin, company, run, kivra):
    app.config["KIVRA_NEW_CUSTOMERS_SINCE"] = date(2026, 1, 1)
    as_admin.post(send_url(run))
    run_kivra_jobs()
    current = agreement.in_force(company.id)
    assert current.source == "signup" and current.covers_payslips
    assert (the_send(run).channel, the_send(run).state) == ("kivra", "queued")
    as_admin.post("/solutions/kivra/discontinue")
    december = other_run(company)
    as_admin.post(send_url(december))
    assert agreement.in_force(company.id) is None  # not switched on again behind the admin's back
    assert the_send(december).channel == "minlon"


def test_vla_company_gets_no_prompt_and_a_moved_message_once_per_user(app, as_admin, admin, company, run, kivra, lang):
    legacy = as_admin.get("/vla/kivra/agreement")
    assert legacy.status_code == 200 and {"sv": "Inget avtal med Kivra", "en": "No Kivra agreement"}[lang] in text(legacy)
    vla.import_vla(company.orgnr, "Vera VLA", datetime(2024, 5, 1), "both")
    for url in ("/vla/kivra/agreement", "/vla/kivra/status"):
        moved = as_admin.get(url)
        assert moved.status_code == 410 and "/solutions/kivra" in moved.get_data(as_text=True)
        assert {"sv": "har flyttat till Lön", "en": "have moved to Payroll"}[lang] in text(moved)
    for landing in ("/runs", "/solutions"):  # where a user lands after signing in, and where the agreement is
        assert 'id="vla_notice"' in as_admin.get(landing).get_data(as_text=True)
    page = as_admin.get(f"/runs/{run.id}/send-and-post")
    assert 'id="vla_notice"' in page.get_data(as_text=True)
    assert {"sv": "har flyttat", "en": "has moved"}[lang] in text(page)
    as_admin.post(send_url(run))
    assert the_send(run).channel == "kivra"  # the imported agreement is in force; no prompt
    assert "Vera VLA" in text(as_admin.get("/solutions/kivra"))  # the imported approval is on record
    dismissed = as_admin.post("/solutions/notices/vla-moved", {"next": f"/runs/{run.id}/send-and-post"}, htmx=True)
    assert dismissed.status_code == 200 and dismissed.get_data(as_text=True) == ""
    assert 'id="vla_notice"' not in as_admin.get(f"/runs/{run.id}/send-and-post").get_data(as_text=True)
    for landing in ("/runs", "/solutions"):  # closed once: gone from every page that shows it
        assert 'id="vla_notice"' not in as_admin.get(landing).get_data(as_text=True)


def test_a_vla_import_never_overwrites_an_approval(company):
    vla.import_vla(company.orgnr, "Vera VLA", datetime(2024, 5, 1), "both")
    with pytest.raises(vla.AlreadyImported):
        vla.import_vla(company.orgnr, "Someone Else", datetime(2025, 1, 1), "payslips")
    assert agreement.in_force(company.id).approved_by_name == "Vera VLA"


def test_discontinue_needs_confirmation_and_an_admin(as_admin, admin, company, run, kivra, lang):
    agreement.approve(company, admin)
    as_admin.post(send_url(run))
    assert the_send(run).channel == "kivra"
    assert as_admin.get("/solutions/kivra/discontinue").status_code == 200
    assert agreement.in_force(company.id) is not None  # looking at the confirmation changes nothing
    response = as_admin.post("/solutions/kivra/discontinue")
    assert response.status_code == 303
    ended = db.session.scalar(select(KivraAgreement))
    assert ended.ended_by_id == admin.id and ended.end_reason == "discontinued"
    december = other_run(company)
    as_admin.post(send_url(december))
    assert the_send(december).channel == "minlon"  # later payslips go to Min lön
    reopened = as_admin.get("/solutions/kivra")  # the history stays, with re-activation offered beside it
    assert 'id="dispatch_month"' in reopened.get_data(as_text=True)
    assert {"sv": "Avslutat av", "en": "Discontinued by"}[lang] in text(reopened)
    assert 'href="/solutions/kivra/agreement"' in reopened.get_data(as_text=True)
    as_admin.post("/solutions/kivra/agreement", {"payslips": "1"})  # re-activated
    assert agreement.in_force(company.id).approved_by_id == admin.id
    assert len(agreement.history(company.id)) == 2


def test_payroll_user_cannot_discontinue(client, company, run, kivra, lang):
    admin = make_user(company, "admin")
    agreement.approve(company, admin)
    client.login(make_user(company, "payroll", locale=lang))
    assert client.get("/solutions/kivra/discontinue").status_code == 403
    assert client.post("/solutions/kivra/discontinue").status_code == 403
    assert agreement.in_force(company.id) is not None


def test_more_solutions_activates_and_changes_scope(as_admin, admin, company, kivra, lang):
    page = as_admin.get("/solutions")
    assert {"sv": "Inte aktiv", "en": "Not active"}[lang] in text(page)
    as_admin.post("/solutions/kivra/agreement", {"payslips": "1"})
    as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "invoices": "1"})
    agreements = db.session.scalars(select(KivraAgreement).order_by(KivraAgreement.id)).all()
    assert [a.scope for a in agreements] == [("payslips",), ("payslips", "invoices")]
    assert agreements[0].end_reason == "scope_changed" and agreements[1].in_force
    card = as_admin.get("/solutions", htmx=True)
    assert 'id="kivra_card"' in card.get_data(as_text=True) and "<html" not in card.get_data(as_text=True)
    assert {"sv": "lönebesked och fakturor", "en": "payslips and invoices"}[lang] in text(card)


def test_status_entry_from_the_run(as_admin, admin, company, run, kivra, lang):
    assert 'id="agreement"' in as_admin.get(f"/solutions/kivra?run={run.id}").get_data(as_text=True)
    admin.name = "Greta Godkännare"
    db.session.commit()
    agreement.approve(company, admin)
    page = as_admin.get(f"/solutions/kivra?run={run.id}")
    assert {"sv": "<h1>Status för Kivra</h1>", "en": "<h1>Kivra status</h1>"}[lang] in page.get_data(as_text=True)
    assert {"sv": "Godkänt av Greta Godkännare", "en": "Approved by Greta Godkännare"}[lang] in text(page)


def test_a_run_of_another_company_cannot_be_sent_or_used(as_admin, other_company, kivra):
    make_employee(other_company)
    theirs = service.create_run(other_company, date(2026, 11, 1), date(2026, 11, 25))
    service.calculate_run(theirs)
    for url in (f"/runs/{theirs.id}/send", f"/runs/{theirs.id}/send/min-lon"):
        assert as_admin.post(url).status_code == 404
        assert as_admin.post(url, htmx=True).status_code == 404
    assert as_admin.get(f"/solutions/kivra/agreement?run={theirs.id}").status_code == 404
    assert as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "run": theirs.id}).status_code == 404
    assert the_send(theirs) is None


@pytest.mark.parametrize("url", ["/runs/{run}/send", "/runs/{run}/send/min-lon", "/solutions/kivra/agreement",
                                 "/solutions/kivra/discontinue", "/solutions/notices/vla-moved"])
def test_state_changes_refuse_a_missing_csrf_token(as_admin, run, url):
    response = as_admin.post(url.format(run=run.id), {"payslips": "1"}, csrf=False)
    assert response.status_code == 400
    assert the_send(run) is None and agreement.in_force(run.company_id) is None


@pytest.mark.parametrize("url", ["/runs/{run}/send", "/runs/{run}/send/min-lon", "/solutions/notices/vla-moved"])
def test_state_changes_refuse_get(as_admin, run, url):
    assert as_admin.get(url.format(run=run.id)).status_code == 405


def test_two_tabs_pressing_send_at_the_same_moment_start_one_send(app, admin, run):
    """Two browsers' worth of requests, truly at once, against a threaded server: the database lets one through."""
    import re
    import threading

    import httpx
    from werkzeug.serving import make_server

    from tests.conftest import PASSWORD

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    def token_of(response):
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', response.text).group(1)

    try:
        browser = httpx.Client(base_url=base)
        browser.post("/login", data={"email": admin.email, "password": PASSWORD,
                                     "csrf_token": token_of(browser.get("/login"))})
        token = token_of(browser.get(f"/runs/{run.id}/send-and-post"))
        tabs = [httpx.Client(base_url=base, cookies=browser.cookies) for _ in range(2)]
        start, answers = threading.Barrier(2), []

        def press(tab):
            start.wait()
            answers.append(tab.post(f"/runs/{run.id}/send/min-lon", data={"csrf_token": token}).status_code)

        threads = [threading.Thread(target=press, args=(tab,)) for tab in tabs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.shutdown()
    assert sorted(answers) == [303, 409]
    assert db.session.query(PayslipSend).count() == 1
