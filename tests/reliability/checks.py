"""What the reliability tests wait for and assert: rows by state from the database, contents from Kivra's ledger."""
import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from kivra.agreement import onboarding
from kivra.dispatch import engine
from kivra.dispatch.models import OUTCOMES, Dispatch
from kivra.extensions import db
from kivra.payroll.models import PayslipVersion
from kivra.sandbox.state import mask
from tests.reliability.scenario import Send, delivery_audit


def states(app: Flask, send_id: int) -> Counter:
    """The send's rows by state, read in a session of its own (no snapshot kept between polls)."""
    with app.app_context():
        try:
            return Counter(engine.progress(send_id))
        finally:
            db.session.remove()


def rows_sending(app: Flask, send_id: int) -> set[int]:
    """The send's rows a worker is sending now (claimed, not finished)."""
    with app.app_context():
        try:
            return set(db.session.scalars(select(Dispatch.id).where(Dispatch.send_id == send_id,
                                                                    Dispatch.state == "sending")))
        finally:
            db.session.remove()


def finished(counts: Counter) -> int:
    return sum(counts[state] for state in OUTCOMES)


def wait_for(app: Flask, send: Send, done: Callable[[Counter], bool], timeout: float, what: str,
             report: Callable[[], str], tick: Callable[[], None] = lambda: None) -> Counter:
    """Poll the rows until `done`, calling `tick` between polls; past the deadline fail with the counts by state
    and the processes' last output."""
    deadline = time.monotonic() + timeout
    while True:
        counts = states(app, send.send_id)
        if done(counts):
            return counts
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s; rows by state {dict(counts)}\n{report()}")
        tick()
        time.sleep(0.25)


def all_final(total: int) -> Callable[[Counter], bool]:
    return lambda counts: finished(counts) == total


@dataclass(frozen=True)
class Outcome:
    """What it took: attempts recorded on the rows, and copies Kivra received (its duplicate control kept them)."""

    attempts: int
    received: int
    marked_by: Counter

    def __str__(self) -> str:
        return f"{self.attempts} attempts recorded, {self.received} contents received by Kivra for one each"


def assert_delivered_exactly_once(app: Flask, send: Send, ledger: dict) -> Outcome:
    """Every payslip delivered once, none lost and none twice, in Kivra's ledger and in the database alike."""
    with app.app_context():
        rows = db.session.execute(
            select(Dispatch.id, Dispatch.state, Dispatch.content_key, Dispatch.payload, Dispatch.payload_sha256,
                   Dispatch.attempts, PayslipVersion.personnummer)
            .join(PayslipVersion, PayslipVersion.id == Dispatch.version_id)
            .where(Dispatch.send_id == send.send_id)
        ).all()
        tenant_key = onboarding.sender_of(send.company_id).tenant_key
        audit = delivery_audit()
        db.session.remove()

    # The database: one row per payslip, each delivered.
    assert sorted(row.personnummer for row in rows) == sorted(send.numbers), "not one dispatch row per payslip"
    not_delivered = Counter(row.state for row in rows if row.state != "delivered")
    assert not not_delivered, f"rows not delivered, by state: {dict(not_delivered)}"
    # Sent from stored bytes, dropped once delivered: the checksum stays to say so.
    bad_payload = [row.id for row in rows if row.payload is not None or row.payload_sha256 is None]
    assert not bad_payload, f"delivered rows holding payload bytes, or without a checksum: {bad_payload[:20]}"

    # Kivra: one stored content per recipient, delivered once, and it is the one each row recorded.
    contents = [content for content in ledger["contents"] if content["tenant_key"] == tenant_key]
    per_recipient = Counter(content["recipient"] for content in contents)
    twice = {mask(number): n for number, n in per_recipient.items() if n > 1}
    lost = [mask(number) for number in send.numbers if number not in per_recipient]
    strangers = [mask(number) for number in per_recipient if number not in set(send.numbers)]
    assert not twice, f"{len(twice)} recipients got more than one content: {dict(list(twice.items())[:20])}"
    assert not lost, f"{len(lost)} payslips never reached Kivra: {lost[:20]}"
    assert not strangers, f"contents for people outside the run: {strangers[:20]}"
    deliveries = {number: ledger["deliveries_per_recipient"].get(number, 0) for number in send.numbers}
    wrong = {mask(number): n for number, n in deliveries.items() if n != 1}
    assert not wrong, f"{len(wrong)} recipients without exactly one delivery: {dict(list(wrong.items())[:20])}"
    key_of = {content["recipient"]: content["key"] for content in contents}
    mismatched = [row.id for row in rows if row.content_key != key_of[row.personnummer]]
    assert not mismatched, f"rows whose content key is not Kivra's for that recipient: {mismatched[:20]}"

    # The audit trigger: each row became `delivered` once, by one process (other sends' rows are theirs to check).
    ours = {row.id for row in rows}
    audit = [(dispatch_id, who) for dispatch_id, who in audit if dispatch_id in ours]
    marked = Counter(dispatch_id for dispatch_id, _ in audit)
    assert sorted(marked) == sorted(row.id for row in rows) and set(marked.values()) == {1}, (
        f"rows marked delivered other than once: {[(i, n) for i, n in marked.items() if n != 1][:20]}")
    return Outcome(
        attempts=sum(row.attempts for row in rows),
        received=sum(content["received_count"] for content in contents),
        marked_by=Counter(who for _, who in audit),
    )
