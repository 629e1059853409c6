"""One order for the row locks of a send's writers, so two of them never wait for each other on PostgreSQL.

A writer that changes several rows of a send (routing, releasing, rerouting to Min lön, corrections) locks first
the send(s) in id order, then employees in id order, then dispatch rows in id order: two writers of one send queue
on the send, and no two can hold each other's rows. The heartbeat and the sweep lock the rows they renew or fail in
id order too, so a router writing rows other workers have claimed never waits for them in a circle. Locks are FOR NO
KEY UPDATE, what an UPDATE of a non-key column takes, so they never wait for (or block) a transaction that only
inserts rows referencing the send or employee. On SQLite, which has one writer at a time, these are plain reads.
"""
from collections.abc import Iterable

from sqlalchemy import select

from kivra.dispatch.models import Dispatch, PayslipSend
from kivra.employees.models import Employee
from kivra.extensions import db


def lock_sends(send_ids: Iterable[int]) -> None:
    """Lock these sends in id order until the transaction ends."""
    ids = sorted(set(send_ids))
    if ids:
        db.session.execute(select(PayslipSend.id).where(PayslipSend.id.in_(ids)).order_by(PayslipSend.id)
                           .with_for_update(key_share=True))


def lock_employees(employee_ids: Iterable[int]) -> None:
    """Lock these employees in id order until the transaction ends."""
    ids = sorted(set(employee_ids))
    if ids:
        db.session.execute(select(Employee.id).where(Employee.id.in_(ids)).order_by(Employee.id)
                           .with_for_update(key_share=True))


def lock_dispatches(*conditions) -> list[int]:
    """Lock the dispatch rows matching `conditions` in id order; returns their ids, for an UPDATE of just those."""
    return list(db.session.scalars(select(Dispatch.id).where(*conditions).order_by(Dispatch.id)
                                    .with_for_update(key_share=True)))
