"""What goes again after a send: failed payslips resent with their stored bytes, and corrections made after the run
was sent, each as a new document."""
from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError

from kivra.accounts.models import Company, utcnow
from kivra.dispatch import engine, locks, service, tasks
from kivra.dispatch.models import (
    PAYLOAD_DROPPED,
    RE_ROUTE_UNLESS_STORED,
    RESENDABLE,
    WAITING,
    Channel,
    Dispatch,
    DispatchState,
    PayslipSend,
    SendState,
)
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.payroll.models import PayrollRun, Payslip, PayslipVersion


def resend_failed_matching(company_id: int, *where) -> int:
    """The company's failed rows matching `where` go again with the same stored bytes (or, never built, with bytes
    built now): Kivra's duplicate control keeps them single. A row whose stored bytes were dropped stays failed.
    Only while Kivra's agreement covers payslips (KivraNotInForce): the employees read the failed ones in Min lön
    meanwhile. Returns how many."""
    service.require_kivra_in_force(company_id)
    failed = (Dispatch.company_id == company_id, Dispatch.state == DispatchState.FAILED, RESENDABLE, *where)
    send_ids = sorted(db.session.scalars(select(Dispatch.send_id).where(*failed).distinct()))
    locks.lock_sends(send_ids)  # see kivra/dispatch/locks.py
    rows = db.session.execute(
        update(Dispatch).where(*failed)
        .values(state=DispatchState.QUEUED, attempts=0, due_at=utcnow(), finished_at=None, reason=None,
                routed=RE_ROUTE_UNLESS_STORED)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if rows:
        for send_id in send_ids:
            tasks.enqueue(engine.due_rows(send_id))
    return rows


def failed_past_resend_matching(company_id: int, *where) -> int:
    """The company's failed rows matching `where` whose stored bytes were dropped (DISPATCH_FAILED_PAYLOAD_DAYS):
    never sent again."""
    return db.session.scalar(select(func.count()).where(
        Dispatch.company_id == company_id, Dispatch.state == DispatchState.FAILED, PAYLOAD_DROPPED, *where))


def resend_failed(run: PayrollRun) -> int:
    """The run's failed rows go again (`resend_failed_matching`)."""
    send = service.send_of(run)
    return resend_failed_matching(run.company_id, Dispatch.send_id == send.id) if send is not None else 0


def failed_past_resend(run: PayrollRun) -> int:
    """The run's failed rows that can never go again (`failed_past_resend_matching`)."""
    send = service.send_of(run)
    return failed_past_resend_matching(run.company_id, Dispatch.send_id == send.id) if send is not None else 0


def unsent_corrections(run: PayrollRun, send: PayslipSend | None) -> list[tuple[Payslip, PayslipVersion, Employee]]:
    """Current versions newer than what the send carried: corrections made after the run was sent."""
    if send is None:
        return []
    carried = exists().where(Dispatch.send_id == send.id, Dispatch.version_id == PayslipVersion.id)
    return service.current_versions(run, PayslipVersion.number > 1, ~carried)


def send_corrections(run: PayrollRun) -> int:
    """Each corrected payslip goes as a new document (its subject says it is a correction); the old is not resent.
    The unique (version, channel) makes a double click harmless."""
    send = service.send_of(run)
    pending = unsent_corrections(run, send)
    if send is None or not pending:
        return 0
    company = db.session.get(Company, run.company_id)
    route = None
    if send.channel == Channel.KIVRA and send.state == SendState.QUEUED:
        channel, _, note = service.route_for(company)  # Kivra may have ended since the run was sent
        route = (channel, note)
    locks.lock_sends([send.id])  # see kivra/dispatch/locks.py
    start = db.session.scalar(
        select(func.coalesce(func.max(Dispatch.position), -1)).where(Dispatch.send_id == send.id)) + 1
    # An older version of a corrected payslip that has not gone yet never will: only the correction goes.
    db.session.execute(
        update(Dispatch)
        .where(Dispatch.send_id == send.id, Dispatch.payslip_id.in_([p.id for p, _, _ in pending]),
               Dispatch.state.in_(WAITING), Dispatch.attempts == 0)
        .values(state=DispatchState.CANCELLED, reason="superseded", finished_at=utcnow(), dispatched_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    try:
        service.add_rows(send, PayslipVersion.id.in_([version.id for _, version, _ in pending]), start=start,
                         route=route)
        db.session.commit()
    except IntegrityError:  # the other click added them
        db.session.rollback()
        return 0
    service.kick(send)
    return len(pending)
