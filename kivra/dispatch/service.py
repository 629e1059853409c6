"""Deciding where a run's payslips go, and recording the one send request a run may have."""
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from kivra.accounts.models import Company, User
from kivra.dispatch.models import PayslipSend
from kivra.extensions import db
from kivra.payroll.models import PayrollRun
from kivra.solutions import agreement, onboarding


class AlreadySent(ValueError):
    """The run's payslips were already sent (or are being sent)."""


def has_sent_before(company: Company) -> bool:
    """Has the company ever sent payslips to Min lön/Kivra, here or from the web payroll?"""
    sent_here = db.session.scalar(select(exists().where(PayslipSend.company_id == company.id)))
    return bool(sent_here) or company.moved_from_vla_at is not None


def is_new_customer(company: Company, new_customers_since) -> bool:
    """Companies created after Kivra moved into Payroll have Min lön/Kivra active from the start."""
    return company.created_at.date() >= new_customers_since


def needs_activation_prompt(company: Company, new_customers_since) -> bool:
    """First send of an existing customer without Kivra: ask whether to activate it."""
    if agreement.in_force(company.id) is not None or has_sent_before(company):
        return False
    return not is_new_customer(company, new_customers_since)


def sends_of(company_id: int) -> list[tuple[PayslipSend, PayrollRun]]:
    query = (
        select(PayslipSend, PayrollRun)
        .join(PayrollRun, PayrollRun.id == PayslipSend.run_id)
        .where(PayslipSend.company_id == company_id)
        .order_by(PayrollRun.period.desc())
    )
    return [tuple(row) for row in db.session.execute(query)]


def send_of(run: PayrollRun) -> PayslipSend | None:
    return db.session.scalar(select(PayslipSend).where(PayslipSend.run_id == run.id))


def _route(company: Company) -> tuple[str, str, str | None]:
    """Channel, state and (for Min lön) the reason, for a send made now."""
    current = agreement.in_force(company.id)
    if current is None:
        return "minlon", "queued", "no_agreement"
    if not current.covers_payslips:
        return "minlon", "queued", "not_in_scope"
    sender = onboarding.sender_of(company.id)
    if sender is not None and sender.state == "rejected":
        return "minlon", "queued", "kivra_rejected"
    if sender is not None and sender.state == "active":
        return "kivra", "queued", None
    return "kivra", "waiting_for_kivra", None


def request_send(run: PayrollRun, user: User, min_lon_only: bool = False, awaiting_agreement: bool = False) -> PayslipSend:
    """Queue the run's payslips: Kivra with an agreement in force (waiting while Kivra grants access), else Min lön.
    `awaiting_agreement`: a payroll user asked to send once an admin approves Kivra's agreement."""
    company = db.session.get(Company, run.company_id)
    if min_lon_only:
        channel, state, note = "minlon", "queued", "not_now"
    elif awaiting_agreement and agreement.in_force(company.id) is None:
        channel, state, note = "kivra", "awaiting_agreement", None
    else:
        channel, state, note = _route(company)
    send = PayslipSend(company_id=company.id, run_id=run.id, channel=channel, state=state, note=note,
                       requested_by_id=user.id)
    db.session.add(send)
    try:
        db.session.commit()
    except IntegrityError:  # the unique run id: the other click or tab got there first
        db.session.rollback()
        raise AlreadySent(run.id) from None
    return send


def settle_waiting(company: Company) -> int:
    """Sends waiting for the agreement or for Kivra's access: route them again now. Returns how many moved on."""
    waiting = db.session.scalars(
        select(PayslipSend).where(
            PayslipSend.company_id == company.id,
            PayslipSend.state.in_(("waiting_for_kivra", "awaiting_agreement")),
        )
    ).all()
    moved = 0
    for send in waiting:
        if send.state == "awaiting_agreement" and agreement.in_force(company.id) is None:
            continue  # still waiting for an admin
        channel, state, note = _route(company)
        if (channel, state) != (send.channel, send.state):
            send.channel, send.state, send.note = channel, state, note
            moved += state == "queued"
    db.session.commit()
    return moved


def reroute_to_min_lon(company: Company, note: str = "kivra_ended") -> int:
    """Kivra discontinued, or no longer for payslips: payslips not yet on their way to Kivra go to Min lön."""
    pending = db.session.scalars(
        select(PayslipSend).where(
            PayslipSend.company_id == company.id,
            PayslipSend.channel == "kivra",
            PayslipSend.state.in_(("queued", "waiting_for_kivra", "awaiting_agreement")),
        )
    ).all()
    for send in pending:
        send.channel, send.state, send.note = "minlon", "queued", note
    db.session.commit()
    return len(pending)


def waiting_companies() -> list[int]:
    return list(db.session.scalars(
        select(PayslipSend.company_id).where(PayslipSend.state == "waiting_for_kivra").distinct()
    ))
