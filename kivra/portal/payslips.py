"""What an employee sees in Min lön: each payslip their employer has sent them, whichever channel it went by.

A payslip is shown once it has gone: published in Min lön, or sent to Kivra — delivered, held, and also rejected or
failed, so the employee never loses one. A scheduled send not yet due has no finished row and shows nothing; a
version superseded before it went (cancelled) is not a payslip of its own."""
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import defer

from kivra.dispatch.corrections import corrects_received
from kivra.dispatch.models import RECEIVED, Channel, Dispatch, DispatchState
from kivra.extensions import db
from kivra.payroll.models import PayrollRun, Payslip, PayslipVersion

SHOWN = RECEIVED


class Where(StrEnum):
    """How a version reached the employee, best first: what Min lön says about it."""

    MIN_LON = "minlon"
    KIVRA = "kivra"
    KIVRA_HELD = "kivra_held"
    KIVRA_NOT_DELIVERED = "kivra_not_delivered"


WHERE = tuple(Where)


@dataclass
class ReceivedPayslip:
    payslip_id: int
    period: date
    payout_date: date
    version: PayslipVersion  # the newest version the employee has received
    where: str  # see Where
    earlier: list[int] = field(default_factory=list)  # numbers of versions received before it, oldest first
    is_correction: bool = False  # it corrects a version the employee had received, as its PDF says


def _where(channel: str, state: str) -> str:
    if channel == Channel.MINLON:
        return Where.MIN_LON
    return {DispatchState.DELIVERED: Where.KIVRA, DispatchState.RETAINED: Where.KIVRA_HELD}.get(
        state, Where.KIVRA_NOT_DELIVERED)


def _shown(employee_id: int):
    return (
        select(Dispatch.channel, Dispatch.state, PayslipVersion, PayrollRun)
        .join(PayslipVersion, PayslipVersion.id == Dispatch.version_id)
        .join(Payslip, Payslip.id == PayslipVersion.payslip_id)
        .join(PayrollRun, PayrollRun.id == Payslip.run_id)
        .where(Dispatch.employee_id == employee_id, Payslip.employee_id == employee_id,
               Dispatch.state.in_(SHOWN), Dispatch.finished_at.is_not(None))
        .options(defer(PayslipVersion.pdf))  # the list needs no PDF; the PDF view loads it
    )


def received(employee_id: int) -> list[ReceivedPayslip]:
    """The employee's payslips, newest period first; a corrected one once, as its newest version."""
    versions: dict[int, dict[int, tuple[PayslipVersion, PayrollRun, str]]] = {}
    for channel, state, version, run in db.session.execute(_shown(employee_id)):
        where = _where(channel, state)
        known = versions.setdefault(version.payslip_id, {}).get(version.number)
        if known is None or WHERE.index(where) < WHERE.index(known[2]):
            versions[version.payslip_id][version.number] = (version, run, where)
    payslips = []
    for payslip_id, by_number in versions.items():
        newest, run, where = by_number[max(by_number)]
        payslips.append(ReceivedPayslip(payslip_id, run.period, run.payout_date, newest, where,
                                        sorted(n for n in by_number if n != newest.number),
                                        corrects_received(newest)))
    return sorted(payslips, key=lambda p: (p.period, p.payout_date, p.payslip_id), reverse=True)


def received_version(employee_id: int, payslip_id: int, number: int) -> PayslipVersion | None:
    """One version the employee has received; None for anything else, another employee's included."""
    query = _shown(employee_id).where(Payslip.id == payslip_id, PayslipVersion.number == number).limit(1)
    row = db.session.execute(query).first()
    return row.PayslipVersion if row else None
