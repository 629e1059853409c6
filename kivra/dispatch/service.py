"""Deciding where a run's payslips go, and recording the one send request a run may have with its outbox rows."""
from datetime import datetime

from sqlalchemy import Select, case, delete, exists, false, func, insert, literal, select, true, update
from sqlalchemy.exc import IntegrityError

from kivra import agreement, clock
from kivra.accounts.models import Company, User, utcnow
from kivra.agreement import onboarding
from kivra.agreement.models import SenderState
from kivra.clock import as_utc
from kivra.dispatch import locks, statistics
from kivra.dispatch.models import UNTRIED, WAITING, Channel, Dispatch, DispatchState, PayslipSend, SendState
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.payroll.models import PayrollRun, Payslip, PayslipVersion

# Sends whose rows are held: waiting for an admin to approve Kivra's agreement, or for Kivra to grant access.
WAITING_SENDS = (SendState.WAITING_FOR_KIVRA, SendState.AWAITING_AGREEMENT)


class AlreadySent(ValueError):
    """The run's payslips were already sent (or are being sent)."""


def has_sent_before(company: Company) -> bool:
    """Has the company ever sent payslips to Min lön/Kivra, here or from the web payroll?"""
    sent_here = db.session.scalar(select(exists().where(PayslipSend.company_id == company.id)))
    return bool(sent_here) or company.moved_from_vla_at is not None


def has_kivra_history(company: Company) -> bool:
    """A company that has had Kivra's agreement, or has sent payslips, has a status page to read, Kivra or not."""
    return has_sent_before(company) or bool(agreement.history(company.id))


class KivraNotInForce(ValueError):
    """Kivra's agreement does not cover payslips now: nothing goes to Kivra again."""


def require_kivra_in_force(company_id: int) -> None:
    current = agreement.in_force(company_id)
    if current is None or not current.covers_payslips:
        raise KivraNotInForce(company_id)


class NotConfirmed(ValueError):
    """The company signed up and its admin has not confirmed the e-mail address yet: no payslip goes before."""


def require_confirmed(company: Company) -> None:
    if company.confirmed_at is None:
        raise NotConfirmed(company.id)


def is_new_customer(company: Company, new_customers_since) -> bool:
    """Companies created after Kivra moved into Payroll have Min lön/Kivra active from the start."""
    return clock.swedish_date(company.created_at) >= new_customers_since


def needs_activation_prompt(company: Company, new_customers_since) -> bool:
    """First send of an existing customer without Kivra: ask whether to activate it. Never a sole trader's: Kivra
    does not take them, so their payslips go to Min lön."""
    if agreement.is_sole_trader(company):
        return False
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


def route_for(company: Company) -> tuple[str, str, str | None]:
    """Channel, state and (for Min lön) the reason, for a send made now."""
    if agreement.is_sole_trader(company):
        return Channel.MINLON, SendState.QUEUED, "sole_trader"
    current = agreement.in_force(company.id)
    if current is None:
        return Channel.MINLON, SendState.QUEUED, "no_agreement"
    if not current.covers_payslips:
        return Channel.MINLON, SendState.QUEUED, "not_in_scope"
    sender = onboarding.sender_of(company.id)
    if sender is not None and sender.state == SenderState.REJECTED:
        return Channel.MINLON, SendState.QUEUED, "kivra_rejected"
    if sender is not None and sender.state == SenderState.ACTIVE:
        return Channel.KIVRA, SendState.QUEUED, None
    return Channel.KIVRA, SendState.WAITING_FOR_KIVRA, None


def add_rows(send: PayslipSend, *conditions, start: int = 0, route: tuple[str, str | None] | None = None) -> int:
    """One outbox row per current payslip version of the send's run (narrowed by `conditions`), in the order of the
    payslips from `start`: the send's channel, or Min lön for an employee the admin keeps there. Rows wait (`held`)
    while the send waits for the agreement or for Kivra; a scheduled send's rows are due then. Returns how many.
    One INSERT ... SELECT: the database writes a run's rows without a row object each (20 000 rows: 8.7 s of the
    request as ORM objects, docs/benchmarks.md "Pressing send")."""
    channel, reason = route or (send.channel, send.note)
    state = DispatchState.QUEUED if send.state == SendState.QUEUED else DispatchState.HELD
    now = utcnow()
    kept_on_min_lon = Employee.min_lon_only if channel == Channel.KIVRA else false()
    given = Dispatch.__table__.c

    def value(name: str, constant):
        return literal(constant, given[name].type)

    rows = _current(send.run_id, conditions, (
        value("company_id", send.company_id), value("send_id", send.id), value("run_id", send.run_id),
        Payslip.id, PayslipVersion.id, Employee.id,
        case((kept_on_min_lon, Channel.MINLON.value), else_=str(channel)),
        value("state", state.value),
        case((kept_on_min_lon, "min_lon_only"), else_=literal(reason, given["reason"].type)),
        true() if channel == Channel.MINLON else kept_on_min_lon,
        func.row_number().over(order_by=Payslip.id) + (start - 1),
        value("attempts", 0), value("due_at", max(as_utc(send.scheduled_for or now), now)),
        value("created_at", now), value("dispatched_at", now),
    ))
    names = ("company_id", "send_id", "run_id", "payslip_id", "version_id", "employee_id", "channel", "state",
             "reason", "routed", "position", "attempts", "due_at", "created_at", "dispatched_at")
    # An INSERT's rowcount is kept only when asked for (psycopg's cursor is closed by then: -1 otherwise).
    written = db.session.execute(insert(Dispatch).from_select(names, rows),
                                 execution_options={"preserve_rowcount": True})
    return written.rowcount


def _current(run_id: int, conditions: tuple, columns: tuple) -> Select:
    """The run's payslips, each with its newest version and its employee, narrowed by `conditions`."""
    latest = (
        select(PayslipVersion.payslip_id, func.max(PayslipVersion.number).label("number"))
        .join(Payslip, Payslip.id == PayslipVersion.payslip_id)
        .where(Payslip.run_id == run_id)
        .group_by(PayslipVersion.payslip_id)
        .subquery()
    )
    return (
        select(*columns)
        .select_from(Payslip)
        .join(latest, latest.c.payslip_id == Payslip.id)
        .join(PayslipVersion, (PayslipVersion.payslip_id == Payslip.id) & (PayslipVersion.number == latest.c.number))
        .join(Employee, Employee.id == Payslip.employee_id)
        .where(*conditions)
    )


def current_versions(run: PayrollRun, *conditions) -> list[tuple[Payslip, PayslipVersion, Employee]]:
    """Each payslip of the run with its newest version (and its employee), narrowed by `conditions`."""
    query = _current(run.id, conditions, (Payslip, PayslipVersion, Employee)).order_by(Payslip.id)
    return [tuple(row) for row in db.session.execute(query)]


def request_send(run: PayrollRun, user: User, min_lon_only: bool = False, awaiting_agreement: bool = False,
                 scheduled_for: datetime | None = None) -> PayslipSend:
    """Queue the run's payslips: Kivra with an agreement in force (waiting while Kivra grants access), else Min lön.
    The send and one outbox row per payslip are written in one transaction; workers do the sending.
    `awaiting_agreement`: a payroll user asked to send once an admin approves Kivra's agreement.
    `scheduled_for`: not before this moment (UTC); cancellable until then.
    NotConfirmed while the company's e-mail address is unconfirmed; a sole trader's go to Min lön."""
    company = db.session.get(Company, run.company_id)
    require_confirmed(company)
    if agreement.is_sole_trader(company):
        channel, state, note = route_for(company)
    elif min_lon_only:
        channel, state, note = Channel.MINLON, SendState.QUEUED, "not_now"
    elif awaiting_agreement and agreement.in_force(company.id) is None:
        channel, state, note = Channel.KIVRA, SendState.AWAITING_AGREEMENT, None
    else:
        channel, state, note = route_for(company)
    send = PayslipSend(company_id=company.id, run_id=run.id, channel=channel, state=state, note=note,
                       requested_by_id=user.id, scheduled_for=scheduled_for)
    db.session.add(send)
    try:
        db.session.flush()
        rows = add_rows(send)
        db.session.commit()
    except IntegrityError:  # the unique run id: the other click or tab got there first
        db.session.rollback()
        raise AlreadySent(run.id) from None
    kick(send)
    statistics.after_send(rows)
    return send


def kick(send: PayslipSend) -> None:
    if send.state == SendState.QUEUED:
        from kivra.dispatch import tasks  # the queue is only needed once there is something to send

        tasks.kick(send)


def _release(send: PayslipSend) -> None:
    """The send may go: its held rows are queued, on Min lön if that is where the send ended up."""
    values = {"state": DispatchState.QUEUED}
    if send.channel == Channel.MINLON:
        values.update(channel=Channel.MINLON, reason=send.note, routed=True)
    db.session.execute(
        update(Dispatch).where(Dispatch.send_id == send.id, Dispatch.state == DispatchState.HELD).values(**values)
        .execution_options(synchronize_session=False)
    )


def settle_waiting(company: Company) -> int:
    """Sends waiting for the agreement or for Kivra's access: route them again now. Returns how many moved on."""
    locks.lock_sends(db.session.scalars(select(PayslipSend.id).where(  # see kivra/dispatch/locks.py
        PayslipSend.company_id == company.id,
        PayslipSend.state.in_(tuple(SendState)))))
    waiting = db.session.scalars(
        select(PayslipSend).where(
            PayslipSend.company_id == company.id,
            PayslipSend.state.in_(WAITING_SENDS),
        )
    ).all()
    released = []
    for send in waiting:
        if send.state == SendState.AWAITING_AGREEMENT and agreement.in_force(company.id) is None:
            continue  # still waiting for an admin
        channel, state, note = route_for(company)
        if (channel, state) != (send.channel, send.state):
            send.channel, send.state, send.note = channel, state, note
            if state == SendState.QUEUED:
                _release(send)
                released.append(send)
    # Rows a worker put back on hold because Kivra's access was not granted yet go out with the rest.
    for send in db.session.scalars(select(PayslipSend).where(PayslipSend.company_id == company.id,
                                                             PayslipSend.state == SendState.QUEUED)):
        if send not in released and route_for(company)[1] == SendState.QUEUED:
            if db.session.execute(update(Dispatch).where(Dispatch.send_id == send.id,
                                                         Dispatch.state == DispatchState.HELD)
                                  .values(state=DispatchState.QUEUED)).rowcount:
                released.append(send)
    db.session.commit()
    for send in released:
        kick(send)
    return len(released)


def reroute_to_min_lon(company: Company, note: str = "kivra_ended") -> int:
    """Kivra discontinued, or no longer for payslips: the payslips not yet tried go to Min lön, each with the reason.
    What was delivered stays delivered: a row already tried (its answer may have been lost after Kivra stored it) is
    finished on Kivra, never doubled, and a send keeps its channel unless every one of its rows moved. Returns how
    many payslips moved."""
    untried = (Dispatch.company_id == company.id, Dispatch.channel == Channel.KIVRA, UNTRIED)
    send_ids = set(db.session.scalars(select(Dispatch.send_id).where(*untried).distinct()))
    send_ids.update(db.session.scalars(select(PayslipSend.id).where(
        PayslipSend.company_id == company.id, PayslipSend.state.in_(WAITING_SENDS))))
    locks.lock_sends(send_ids)  # a router of one of them finishes first (kivra/dispatch/locks.py)
    moved = db.session.execute(
        update(Dispatch).where(*untried)
        .values(channel=Channel.MINLON, reason=note, routed=True, state=DispatchState.QUEUED)
        .execution_options(synchronize_session=False)
    ).rowcount
    # Nothing waits for Kivra any more: Min lön rows held with a send that waited for it go now.
    db.session.execute(
        update(Dispatch).where(Dispatch.send_id.in_(send_ids), Dispatch.channel == Channel.MINLON,
                               Dispatch.state == DispatchState.HELD)
        .values(state=DispatchState.QUEUED).execution_options(synchronize_session=False)
    )
    sends = db.session.scalars(select(PayslipSend).where(PayslipSend.id.in_(send_ids))).all()
    for send in sends:
        send.state = SendState.QUEUED
        on_kivra = exists().where(Dispatch.send_id == send.id, Dispatch.state != DispatchState.CANCELLED,
                                  Dispatch.channel == Channel.KIVRA)
        if send.channel == Channel.KIVRA and not db.session.scalar(select(on_kivra)):
            send.channel, send.note = Channel.MINLON, note  # none of it went or goes to Kivra: it moved as a whole
    db.session.commit()
    for send in sends:
        kick(send)
    return moved


def waiting_companies() -> list[int]:
    """Companies with payslips waiting for Kivra: a send waiting for access, or rows a worker put on hold."""
    waiting = set(db.session.scalars(
        select(PayslipSend.company_id).where(PayslipSend.state == SendState.WAITING_FOR_KIVRA).distinct()
    ))
    waiting.update(db.session.scalars(
        select(Dispatch.company_id).join(PayslipSend, PayslipSend.id == Dispatch.send_id)
        .where(Dispatch.state == DispatchState.HELD, PayslipSend.state == SendState.QUEUED).distinct()
    ))
    return sorted(waiting)


class NotCancellable(ValueError):
    """The scheduled send has started (or was never scheduled)."""


def cancel_scheduled(run: PayrollRun) -> None:
    """Call off a scheduled send before it starts: its rows and the send go, and the run can be sent again.
    Atomic: if the time came meanwhile and a row moved, nothing is cancelled."""
    send = send_of(run)
    now = utcnow()
    if send is None or send.scheduled_for is None:
        raise NotCancellable(run.id)
    locks.lock_sends([send.id])  # see kivra/dispatch/locks.py
    total = db.session.scalar(select(func.count()).where(Dispatch.send_id == send.id))
    removed = db.session.execute(
        delete(Dispatch).where(Dispatch.send_id == send.id, Dispatch.state.in_(WAITING),
                               Dispatch.attempts == 0, Dispatch.due_at > now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if removed != total:
        db.session.rollback()
        raise NotCancellable(run.id)
    db.session.delete(send)
    db.session.commit()
