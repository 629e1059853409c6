"""Issue 17, item 1: three "Create corrected version" at once make one version; the others answer 409 with a message
in the user's language, never a 500 whose traceback carries the payslip's personnummer, account and pay. Every engine
hides a statement's parameters in its errors, so an IntegrityError logged anywhere says no values."""
import logging
import threading
from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError

from kivra.accounts.models import Company, User
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.payroll import service
from kivra.payroll.models import Payslip, PayslipLine, PayslipVersion
from tests.conftest import Client, make_employee, text

pytestmark = pytest.mark.both_databases

CONFLICT = {"sv": "Någon annan skapade en rättad version samtidigt",
            "en": "Someone else created a corrected version at the same time"}
GENERIC = {"sv": "Någon annan ändrade samma sak samtidigt", "en": "Someone else changed the same thing at the same time"}


def test_an_integrity_error_names_no_values(app):
    """The engine's errors show the statement, never its parameters (hide_parameters)."""
    assert db.engine.hide_parameters
    db.session.add(Company(name="Ett AB", orgnr="5568402266", employer_contribution_rate=31))
    db.session.commit()
    db.session.add(Company(name="Hemligt Namn AB", orgnr="5568402266", employer_contribution_rate=31))
    with pytest.raises(IntegrityError) as caught:
        db.session.commit()
    db.session.rollback()
    assert "5568402266" not in str(caught.value) and "Hemligt" not in str(caught.value)
    assert "hidden due to hide_parameters" in str(caught.value)


def test_three_corrections_at_once_make_one_version_and_two_409s(app, run, admin, lang, monkeypatch, caplog):
    payslip = run.payslips[0]
    payslip.lines.append(PayslipLine(kind="addition", description="Övertid", amount_ore=150_000))
    db.session.commit()
    payslip_id, versions_before = payslip.id, len(payslip.versions)
    clients = [Client(app.test_client()).login(db.session.get(User, admin.id)) for _ in range(3)]
    together = threading.Barrier(3)
    new_version = service.new_version

    def new_version_together(payslip):  # all three have read the same latest version before any commits
        version = new_version(payslip)
        together.wait(20)
        return version

    monkeypatch.setattr(service, "new_version", new_version_together)
    answers = []

    def press(client):
        answers.append(client.post(f"/payslips/{payslip_id}/correct"))

    threads = [threading.Thread(target=press, args=(c,)) for c in clients]
    with caplog.at_level(logging.INFO):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert sorted(a.status_code for a in answers) == [303, 409, 409]
    for answer in (a for a in answers if a.status_code == 409):
        assert CONFLICT[lang] in text(answer)
    db.session.expire_all()
    assert db.session.query(PayslipVersion).filter_by(payslip_id=payslip_id).count() == versions_before + 1
    assert "191212121212" not in caplog.text  # no traceback with the payslip's parameters
    assert clients[0].get(f"/payslips/{payslip_id}").status_code == 200


def test_an_unforeseen_unique_conflict_answers_409_not_500(app, company, admin, lang, client, monkeypatch):
    """Any IntegrityError a route did not foresee: rolled back, 409, a message in the user's language (page and htmx)."""
    client.login(admin)

    def collide(payslip):
        raise IntegrityError("INSERT ...", {}, Exception("UNIQUE constraint failed: payslip_version.number"))

    monkeypatch.setattr(service, "correct", collide)
    make_employee(company)
    run = service.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    service.calculate_run(run)
    payslip_id = db.session.scalar(db.select(Payslip.id))
    for htmx in (False, True):
        answer = client.post(f"/payslips/{payslip_id}/correct", htmx=htmx)
        assert answer.status_code == 409
        assert GENERIC[lang] in text(answer)


def test_a_logged_unique_violation_names_no_key(app, company, caplog):
    """PostgreSQL's DETAIL ("Key (company_id, personnummer)=(…)") is dropped too: the traceback with its chained
    driver error, as the log prints it, has no personnummer."""
    make_employee(company)
    db.session.add(Employee(company_id=company.id, name="Tvilling", personnummer="191212121212",
                            email="t@example.se", employment_start=date(2020, 1, 1), monthly_salary_ore=1,
                            tax_rate=30))
    try:
        db.session.commit()
    except IntegrityError:
        logging.getLogger("kivra.test").exception("refused")
    db.session.rollback()
    assert "refused" in caplog.text and "Traceback" in caplog.text
    assert "191212121212" not in caplog.text
