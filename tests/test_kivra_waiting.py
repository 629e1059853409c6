"""Payslips that wait — for Kivra's access or for an administrator — go out by themselves, or to Min lön."""

import pytest
from sqlalchemy import select

from kivra import agreement
from kivra.agreement.models import KivraAgreement, KivraJob, KivraSender
from kivra.dispatch import access as tasks
from kivra.dispatch.models import PayslipSend
from kivra.extensions import db
from tests.conftest import Client, make_user, text
from tests.kivra_jobs import run_kivra_jobs

pytestmark = pytest.mark.both_databases


def the_send(run):
    db.session.expire_all()
    return db.session.scalar(select(PayslipSend).where(PayslipSend.run_id == run.id))


def pending_company(company):
    company.orgnr = "5560360793"  # the sandbox says another sender owns it; access is granted when asked about
    db.session.commit()


def test_looking_at_the_status_page_changes_nothing(as_admin, admin, company, run, kivra):
    pending_company(company)
    as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "run": run.id})
    run_kivra_jobs()
    assert as_admin.get("/solutions/kivra").status_code == 200
    assert db.session.scalar(select(KivraSender)).state == "pending"  # a GET asked Kivra nothing
    assert the_send(run).state == "waiting_for_kivra"


def test_ask_kivra_now_releases_the_waiting_payslips(as_admin, company, run, kivra, lang):
    pending_company(company)
    as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "run": run.id})
    run_kivra_jobs()
    assert as_admin.post("/solutions/kivra/check").status_code == 303
    job = db.session.scalar(select(KivraJob).order_by(KivraJob.id.desc()))
    assert run_kivra_jobs() == 1  # a worker asks
    response = as_admin.get(f"/solutions/kivra/access?job={job.id}", htmx=True)  # the page's last poll
    assert {"sv": "Kivra har svarat", "en": "Kivra has answered"}[lang] in text(response)
    assert (the_send(run).channel, the_send(run).state) == ("kivra", "queued")


def test_discontinuing_while_waiting_sends_to_min_lon_and_access_later_does_not_revive_kivra(as_admin, company, run, kivra, lang):
    pending_company(company)
    as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "run": run.id})
    as_admin.post("/solutions/kivra/discontinue")
    assert (the_send(run).channel, the_send(run).note) == ("minlon", "kivra_ended")
    tasks.check_access()
    assert the_send(run).channel == "minlon"
    page = text(as_admin.get(f"/runs/{run.id}/send-and-post"))
    assert {"sv": "Kivra avslutades", "en": "Kivra was discontinued"}[lang] in page


def test_narrowing_the_scope_to_invoices_sends_waiting_payslips_to_min_lon(as_admin, company, run, kivra):
    pending_company(company)
    as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "run": run.id})
    as_admin.post("/solutions/kivra/agreement", {"invoices": "1"})
    tasks.check_access()
    assert (the_send(run).channel, the_send(run).note) == ("minlon", "not_in_scope")


def test_payroll_users_run_goes_out_when_an_admin_approves_elsewhere(app, client, company, run, kivra, lang):
    admin = make_user(company, "admin")
    client.login(make_user(company, "payroll", locale=lang))
    page = client.get(f"/solutions/kivra/agreement?run={run.id}")
    assert {"sv": "Skicka när en administratör godkänner", "en": "Send when an administrator approves"}[lang] in text(page)
    client.post(f"/runs/{run.id}/send/when-approved")
    assert the_send(run).state == "awaiting_agreement"
    assert {"sv": "Väntar på att en administratör", "en": "Waiting for an administrator"}[lang] in text(
        client.get(f"/runs/{run.id}/send-and-post"))
    Client(app.test_client()).login(admin).post("/solutions/kivra/agreement", {"payslips": "1"})  # from More Solutions
    run_kivra_jobs()
    assert (the_send(run).channel, the_send(run).state) == ("kivra", "queued")


def test_a_stale_not_now_after_approval_sends_nothing_and_says_why(as_admin, admin, company, run, kivra, lang):
    agreement.approve(company, admin)
    response = as_admin.post(f"/runs/{run.id}/send/min-lon", follow_redirects=True)
    assert the_send(run) is None
    assert {"sv": "Kivra aktiverades", "en": "Kivra was activated meanwhile"}[lang] in text(response)


def test_two_endings_at_once_keep_the_first_on_record(company):
    first, second = make_user(company, "admin", email="a@x.se"), make_user(company, "admin", email="b@x.se")
    approved = agreement.approve(company, first)
    stale = db.session.get(KivraAgreement, approved.id)
    agreement.discontinue(company, first)
    with pytest.raises(agreement.AgreementConflict):
        agreement._end(stale, second, "discontinued")  # the other tab's ending arrives late
    db.session.expire_all()
    assert db.session.get(KivraAgreement, approved.id).ended_by_id == first.id


def test_kivra_failing_during_the_access_request_is_kept_as_failed(as_admin, company, run, kivra):
    pending_company(company)
    kivra.state.config.faults.error_rate = 0.0
    from kivra.sender_api.app import kivra_client

    client = kivra_client()
    original = client.request_access

    def broken(orgnr):
        from kivra.sender_api.errors import ServerError

        raise ServerError(503, 50301, "Service Temporarily Unavailable", "", "corr")

    client.request_access = broken
    try:
        response = as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "run": run.id})
        run_kivra_jobs()
    finally:
        client.request_access = original
    assert response.status_code == 303  # no 500: the approval stands, Kivra is asked again later
    assert db.session.scalar(select(KivraSender)).state == "failed"
    assert the_send(run).state == "waiting_for_kivra"
    tasks.check_access()  # registers again: Kivra now takes the access request
    tasks.check_access()  # the next round finds it granted
    assert the_send(run).state == "queued"


def test_missing_employer_details_are_warned_about(as_admin, admin, company, run, kivra, lang):
    agreement.approve(company, admin)
    page = text(as_admin.get(f"/runs/{run.id}/send-and-post"))
    assert {"sv": "adress, e-post och telefon", "en": "address, e-mail and telephone"}[lang] in page


def test_narrowing_the_scope_also_moves_sends_already_queued_for_kivra(as_admin, company, run, kivra):
    as_admin.post("/solutions/kivra/agreement", {"payslips": "1", "run": run.id})
    run_kivra_jobs()
    assert (the_send(run).channel, the_send(run).state) == ("kivra", "queued")
    as_admin.post("/solutions/kivra/agreement", {"invoices": "1"})
    assert (the_send(run).channel, the_send(run).note) == ("minlon", "not_in_scope")


def test_two_requests_registering_at_once_share_one_sender(app, company, kivra):
    """An approval and a send (or a double submit) both reaching Kivra registration at the same moment."""
    import threading

    from kivra.agreement import onboarding
    from kivra.sender_api.app import kivra_client

    client = kivra_client()
    original = client.create_tenant
    both_inside = threading.Barrier(2)

    def slow_create(name, orgnr):
        tenant = original(name, orgnr)
        both_inside.wait(timeout=5)  # both requests are between "no sender yet" and saving it
        return tenant

    client.create_tenant = slow_create
    errors = []
    company_id = company.id  # read here: the threads must not load this session's objects

    def register():
        with app.app_context():
            try:
                onboarding.register(db.session.get(type(company), company_id), client)
            except Exception as error:  # noqa: BLE001 - the test reports any
                errors.append(error)

    threads = [threading.Thread(target=register) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.create_tenant = original
    assert errors == []
    db.session.expire_all()
    senders = db.session.scalars(select(KivraSender)).all()
    assert len(senders) == 1 and senders[0].state == "active"
