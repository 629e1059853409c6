"""Which channel each payslip takes: one batched usermatch per send decides Kivra or Min lön (with the reason), and
the register remembers each employee's answer."""
from sqlalchemy import select, update

from kivra.accounts.models import Company, utcnow
from kivra.agreement import onboarding
from kivra.agreement.models import SenderState
from kivra.dispatch import locks
from kivra.dispatch.models import UNFINISHED, Channel, Dispatch, PayslipSend
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.identity import PersonnummerError, parse_personnummer
from kivra.payroll.models import PayslipVersion
from kivra.sender_api import KivraClient


def min_lon_reason(personnummer: str) -> str:
    """Why Kivra's usermatch left this number out, as far as the number itself tells."""
    try:
        number = parse_personnummer(personnummer)
    except PersonnummerError:
        return "invalid_personnummer"
    return "id_not_accepted" if number.is_coordination_number else "not_kivra_user"


def route(send_id: int, client: KivraClient) -> int:
    """One usermatch for the send's unrouted Kivra rows; the rest go to Min lön with the reason, or stay on Kivra to
    be retained when the company lets Kivra hold payslips. Returns how many rows this call routed.

    Waiting and claimed rows alike are routed (a claimant reads its row's route back before sending it); finished
    ones never are. The usermatch runs with no lock or transaction open; the writes then take the send's lock, so
    routers of one send write one at a time, each only the rows still unrouted: a send is routed once however many
    workers ask Kivra at the same moment. (Holding the lock across the call would save those extra usermatches, but
    a slow Kivra would then hold every worker of that send waiting on the database.)"""
    send = db.session.get(PayslipSend, send_id)
    sender = onboarding.sender_of(send.company_id)
    if sender is None or sender.state != SenderState.ACTIVE:
        return 0  # rows stay held until Kivra grants access
    company_id, tenant_key = send.company_id, sender.tenant_key
    asked = {ssn for _, _, ssn in _unrouted(send_id)}
    db.session.commit()  # nothing stays open while Kivra is called
    if not asked:
        return 0
    matched = client.usermatch(tenant_key, sorted(asked))
    retain = db.session.get(Company, company_id).kivra_retain
    locks.lock_sends([send_id])
    rows = [row for row in _unrouted(send_id) if row[2] in asked]  # another router may have written meanwhile
    record_kivra_status({employee_id: ssn for _, employee_id, ssn in rows}, matched)
    routes: dict[tuple, list[int]] = {}  # the values to write -> the rows that get them
    for dispatch_id, _, ssn in rows:
        values: tuple = (("routed", True),)
        if ssn not in matched:
            reason = min_lon_reason(ssn)
            if retain and reason == "not_kivra_user":
                values += (("reason", "retain"),)  # Kivra holds it until the person opens Kivra
            else:
                values += (("channel", Channel.MINLON), ("reason", reason))
        routes.setdefault(values, []).append(dispatch_id)
    # One statement per route rather than per row; the rows locked in id order first, as every writer of several
    # rows does (kivra/dispatch/locks.py), since an UPDATE of many rows takes their locks in no set order.
    for ids in _slices(sorted(dispatch_id for dispatch_id, _, _ in rows)):
        locks.lock_dispatches(Dispatch.id.in_(ids))
    for values, ids in routes.items():
        for part in _slices(ids):
            db.session.execute(
                update(Dispatch).where(Dispatch.id.in_(part), Dispatch.routed.is_(False), _ROUTABLE)
                .values(**dict(values)).execution_options(synchronize_session=False)
            )
    db.session.commit()
    return len(rows)


_ROUTABLE = Dispatch.state.in_(UNFINISHED)
SLICE = 1000  # ids per IN list: well under SQLite's and PostgreSQL's limits on a statement's parameters


def _slices(ids: list[int]) -> list[list[int]]:
    return [ids[n:n + SLICE] for n in range(0, len(ids), SLICE)]


def _unrouted(send_id: int) -> list[tuple[int, int, str]]:
    """(row id, employee id, personnummer) of the send's Kivra rows waiting for the usermatch."""
    return [tuple(row) for row in db.session.execute(
        select(Dispatch.id, Dispatch.employee_id, PayslipVersion.personnummer)
        .join(PayslipVersion, PayslipVersion.id == Dispatch.version_id)
        .where(Dispatch.send_id == send_id, Dispatch.channel == Channel.KIVRA, Dispatch.routed.is_(False),
               _ROUTABLE)
    )]


def kivra_status(personnummer: str, matched: set[str]) -> str:
    """An employee's Kivra status as the register shows it."""
    if personnummer in matched:
        return "user"
    reason = min_lon_reason(personnummer)
    return {"not_kivra_user": "not_user", "id_not_accepted": "id_not_accepted"}.get(reason, "invalid")


def record_kivra_status(personnummer_by_employee: dict[int, str], matched: set[str]) -> None:
    """Remember each employee's answer from this usermatch, and when it was given (one statement per status)."""
    by_status: dict[str, list[int]] = {}
    for employee_id, ssn in personnummer_by_employee.items():
        by_status.setdefault(kivra_status(ssn, matched), []).append(employee_id)
    now = utcnow()
    # Two workers routing at once may write the same employees: lock them in one order first, or PostgreSQL finds
    # each waiting for the other's rows (a deadlock) when their answers group them differently.
    locks.lock_employees(personnummer_by_employee)
    for status, employee_ids in by_status.items():
        db.session.execute(
            update(Employee).where(Employee.id.in_(employee_ids)).values(kivra_status=status, kivra_checked_at=now)
            .execution_options(synchronize_session=False)
        )
