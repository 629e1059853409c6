"""Issue 17, item 12: an administrator's CSV with full personnummer is recorded (who, when, which month, how many rows)
in the request that makes it, and the Kivra status page lists the company's latest to its administrators only; another
company's exports never show. Migration 0016_export_audit up and down on SQLite and PostgreSQL."""
from datetime import date, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from kivra import agreement
from kivra.agreement.models import KivraSender
from kivra.extensions import db
from kivra.status import export_audit
from kivra.status.export_audit import PersonnummerExport
from tests.conftest import Client, make_user, text
from tests.status_history import add_employees, add_month
from tests.test_postgres import migrated_app, pg_app  # noqa: F401 - fixtures

MARCH = date(2026, 3, 1)
CSV = "/solutions/kivra/dispatches.csv?month=2026-03"
WORDS = {"sv": {"heading": "Exporter med fullständiga personnummer", "month": "mars 2026",
                "none": "Ingen har laddat ned en CSV med fullständiga personnummer"},
         "en": {"heading": "Exports with full personnummer", "month": "March 2026",
                "none": "Nobody has downloaded a CSV with full personnummer"}}


def kivra_on(company, admin):
    agreement.approve(company, admin)
    db.session.add(KivraSender(company_id=company.id, state="active", tenant_key=f"tenant-{company.id}"))
    db.session.commit()
    add_month(company, admin, add_employees(company, 3), MARCH)


@pytest.mark.both_databases
def test_a_full_personnummer_export_is_recorded_and_listed(as_admin, company, admin, lang, monkeypatch):
    kivra_on(company, admin)
    page = text(as_admin.get("/solutions/kivra?month=2026-03"))
    assert WORDS[lang]["heading"] in page and WORDS[lang]["none"] in page
    monkeypatch.setattr(export_audit, "utcnow", lambda: datetime(2026, 4, 2, 7, 5))  # 09:05 in Stockholm (CEST)
    assert as_admin.get(CSV + "&full_personnummer=1").status_code == 200
    assert as_admin.get(CSV).status_code == 200  # masked: not recorded
    recorded = db.session.scalars(select(PersonnummerExport)).all()
    assert [(e.company_id, e.user_id, e.user_name, e.month, e.rows) for e in recorded] == [
        (company.id, admin.id, admin.name, MARCH, 3)]
    page = text(as_admin.get("/solutions/kivra?month=2026-03"))
    assert f"2026-04-02 09:05 {admin.name} {WORDS[lang]['month']} 3" in page


def test_payroll_users_do_not_see_the_list(client, company, admin):
    kivra_on(company, admin)
    export_audit.record(admin, MARCH, None, False, 3)
    client.login(make_user(company, "payroll"))
    page = text(client.get("/solutions/kivra?month=2026-03"))
    assert "Exporter med fullständiga personnummer" not in page and "mars 2026 3" not in page


def test_another_companys_exports_never_show(app, company, admin, other_company):
    kivra_on(company, admin)
    admin.name = "Astrid Exportör"
    theirs = make_user(other_company, "admin", email="b@annat.se")
    theirs.name = "Bo Annat"
    db.session.commit()
    export_audit.record(admin, MARCH, None, False, 3)
    kivra_on(other_company, theirs)
    client = Client(app.test_client()).login(theirs)
    page = text(client.get("/solutions/kivra?month=2026-03"))
    assert "Exporter med fullständiga personnummer" in page and "Astrid Exportör" not in page
    client.get(CSV + "&full_personnummer=1")
    assert [e.user_name for e in export_audit.latest(company.id)] == ["Astrid Exportör"]
    assert [e.user_name for e in export_audit.latest(other_company.id)] == ["Bo Annat"]


def test_0016_adds_the_export_record_and_goes_down(migrated_app):  # noqa: F811 - fixture
    upgrade(revision="0015_tenant_name")
    assert "personnummer_export" not in inspect(db.engine).get_table_names()
    upgrade(revision="0016_export_audit")
    columns = {c["name"] for c in inspect(db.engine).get_columns("personnummer_export")}
    assert columns == {"id", "company_id", "user_id", "user_name", "exported_at", "month", "outcome", "searched", "rows"}
    downgrade(revision="0015_tenant_name")
    assert "personnummer_export" not in inspect(db.engine).get_table_names()
    upgrade()
