"""States are named once: the database refuses any other value, and every state the pages show has its words."""
from datetime import date

import pytest
from flask import get_template_attribute
from flask_babel import force_locale
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from kivra.accounts.models import UserAction, UserChange
from kivra.agreement.models import KivraAgreement, KivraJob, KivraSender
from kivra.dispatch import service
from kivra.dispatch.models import OUTCOMES, Dispatch, DispatchState, PayslipSend
from kivra.extensions import db
from kivra.mail import outbox
from kivra.mail.models import MailKind
from kivra.payroll import service as payroll
from kivra.status import PAGE_OUTCOMES
from tests.conftest import make_company, make_employee, make_user

# Every column holding a state, a channel, a kind or a source: each has a CHECK constraint of the same name.
CONSTRAINED = (("dispatch", "state"), ("dispatch", "channel"), ("payslip_send", "state"), ("payslip_send", "channel"),
               ("kivra_sender", "state"), ("kivra_agreement", "source"), ("kivra_agreement", "end_reason"),
               ("kivra_job", "kind"), ("kivra_job", "state"), ("outbound_email", "state"), ("outbound_email", "kind"),
               ("user_change", "action"))


def one_row_per_table() -> dict[str, int]:
    """A company with a sent run (a send and its dispatch row), an ended agreement, a sender and a Kivra job."""
    company = make_company()
    user = make_user(company)
    make_employee(company)
    run = payroll.create_run(company, date(2026, 10, 1), date(2026, 10, 25))
    payroll.calculate_run(run)
    send = service.request_send(run, user, min_lon_only=True)
    agreement = KivraAgreement(company_id=company.id, version="2026.1", covers_payslips=True, covers_invoices=False,
                               approved_by_name=user.name, ended_by_name=user.name, end_reason="discontinued")
    sender = KivraSender(company_id=company.id, state="active")
    job = KivraJob(company_id=company.id, kind="usermatch", state="done")
    email = outbox.queue(MailKind.INVITATION, "anna@example.se", "Inbjudan", "Hej", company_id=company.id)
    change = UserChange(company_id=company.id, actor_id=user.id, actor_name=user.name, user_id=user.id,
                        action=UserAction.ROLE_CHANGED)
    db.session.add_all([agreement, sender, job, change])
    db.session.commit()
    return {"outbound_email": email.id, "user_change": change.id, "dispatch": db.session.scalar(select(Dispatch.id).where(Dispatch.send_id == send.id)),
            "payslip_send": send.id, "kivra_agreement": agreement.id, "kivra_sender": sender.id, "kivra_job": job.id}


def refused(table: str, column: str, row_id: int) -> bool:
    """Whether the database refuses an unknown value in the column (raw SQL: no model in the way)."""
    try:
        with db.engine.begin() as connection:
            connection.execute(text(f"UPDATE {table} SET {column} = 'bogus' WHERE id = :id"), {"id": row_id})
    except IntegrityError:
        return True
    return False


@pytest.mark.both_databases
@pytest.mark.parametrize("table, column", CONSTRAINED)
def test_the_database_refuses_an_unknown_state(app, table, column):
    ids = one_row_per_table()
    db.session.remove()
    assert refused(table, column, ids[table]), f"{table}.{column} accepted 'bogus'"


def test_a_payslip_send_has_no_cancelled_at_because_nothing_ever_wrote_it(app):
    """A scheduled send called off is deleted (service.cancel_scheduled): no send was ever marked cancelled."""
    assert "cancelled_at" not in PayslipSend.__table__.c


@pytest.fixture
def labels(app, lang):
    with app.test_request_context(), force_locale(lang):
        yield {name: get_template_attribute("_macros.html", name) for name in ("outcome_label", "outcome_hint")}


def test_every_dispatch_state_and_page_outcome_has_its_own_label(labels, lang):
    shown = list(DispatchState) + [o for o in PAGE_OUTCOMES if o not in DispatchState.__members__.values()]
    words = {state: str(labels["outcome_label"](state)).strip() for state in shown}
    assert all(words.values()), f"no label: {[s for s, w in words.items() if not w]}"
    assert len(set(words.values())) == len(words), f"two states share a label: {words}"
    assert str(labels["outcome_label"]("bogus")).strip() == "", "an unknown state must not pass for a known one"


def test_every_page_outcome_says_what_to_do(labels):
    assert set(OUTCOMES) < set(PAGE_OUTCOMES)
    hints = {outcome: str(labels["outcome_hint"](outcome)).strip() for outcome in PAGE_OUTCOMES}
    assert all(hints.values()), f"no hint: {[o for o, h in hints.items() if not h]}"


def test_swedish_labels_are_translated(app):
    with app.test_request_context():
        label = get_template_attribute("_macros.html", "outcome_label")
        with force_locale("en"):
            english = {state: str(label(state)) for state in DispatchState}
        with force_locale("sv"):
            swedish = {state: str(label(state)) for state in DispatchState}
    assert all(swedish[state] != english[state] for state in DispatchState), swedish
