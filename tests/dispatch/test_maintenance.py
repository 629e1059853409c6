"""The worker's housekeeping: a slow Kivra never holds up the sweep, and one company's odd answer never stops the
access checks of the others."""
import threading

from kivra.agreement.models import KivraSender
from kivra.dispatch import access as kivra_tasks, kivra_jobs, maintenance
from kivra.extensions import db
from tests.conftest import make_company


def test_the_sweep_goes_on_while_an_access_check_waits_for_kivra(app, monkeypatch):
    kivra_answers, swept = threading.Event(), threading.Event()
    monkeypatch.setattr(kivra_tasks, "check_access", lambda: kivra_answers.wait(10))
    monkeypatch.setattr(maintenance, "sweep", swept.set)
    stop = maintenance.start_maintenance(app, sweep_seconds=0.05, access_check_seconds=60)
    try:
        assert swept.wait(5), "the sweep waited for Kivra's answer"
    finally:
        kivra_answers.set()
        stop.set()


def test_one_companys_unreadable_answer_does_not_stop_the_others_checks(app, kivra, monkeypatch):
    first, second = make_company("Först AB", "5568402266"), make_company("Sedan AB", "5560360793")
    for company in (first, second):
        db.session.add(KivraSender(company_id=company.id, state="failed"))
    db.session.commit()
    asked = []

    def check(company, client):
        asked.append(company.name)
        if company.id == first.id:
            raise KeyError("kivra-objkey")  # a 2xx answer without the header Kivra promises
        return 0

    monkeypatch.setattr(kivra_jobs, "check_access", check)
    kivra_tasks.check_access()
    assert asked == ["Först AB", "Sedan AB"]
