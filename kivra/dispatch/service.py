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


def has_sent_here(company: Company) -> bool:
    return bool(db.session.scalar(select(exists().where(PayslipSend.company_id == company.id))))


def has_sent_before(company: Company) -> bool:
    """Has the company ever sent payslips to Min lön/Kivra, here or from the web payroll?"""
    return has_sent_here(company) or company.moved_from_vla_at is not None


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


def request_send(run: PayrollRun, user: User, min_lon_only: bool = False, note: str | None = None) -> PayslipSend:
    """Queue the run's payslips: Kivra with an agreement in force (waiting while Kivra grants access), else Min lön."""
    company = db.session.get(Company, run.company_id)
    current = agreement.in_force(company.id)
    sender = onboarding.sender_of(company.id)
    if min_lon_only or current is None or not current.covers_payslips:
        channel, state, note = "minlon", "queued", note or ("not_now" if min_lon_only else "no_agreement")
    elif sender is not None and sender.state == "rejected":
        channel, state, note = "minlon", "queued", "kivra_rejected"
    elif sender is not None and sender.state == "active":
        channel, state = "kivra", "queued"
    else:
        channel, state = "kivra", "waiting_for_kivra"
    send = PayslipSend(company_id=company.id, run_id=run.id, channel=channel, state=state, note=note,
                       requested_by_id=user.id)
    db.session.add(send)
    try:
        db.session.commit()
    except IntegrityError:  # the unique run id: the other click or tab got there first
        db.session.rollback()
        raise AlreadySent(run.id) from None
    return send


def release_waiting(company: Company) -> int:
    """Sends waiting for Kivra's access: queue them for Kivra once granted, or for Min lön if Kivra refused."""
    sender = onboarding.sender_of(company.id)
    if sender is None or sender.state not in ("active", "rejected"):
        return 0
    waiting = db.session.scalars(
        select(PayslipSend).where(PayslipSend.company_id == company.id, PayslipSend.state == "waiting_for_kivra")
    ).all()
    for send in waiting:
        send.state = "queued"
        if sender.state == "rejected":
            send.channel, send.note = "minlon", "kivra_rejected"
    db.session.commit()
    return len(waiting)
