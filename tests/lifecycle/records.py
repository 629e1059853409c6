"""What the invariants read: the outbox from the database, Kivra's ledger, and what the admin's pages show. Read in a
session of its own each time, never kept between months."""
import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from kivra.agreement.models import KivraAgreement, KivraSender
from kivra.clock import in_sweden
from kivra.dispatch.models import Dispatch, PayslipSend
from kivra.extensions import db
from kivra.payroll.models import PayrollRun, PayslipVersion, Voucher, VoucherRow

SENT = ("delivered", "retained", "published")
FINAL = ("delivered", "retained", "published", "rejected", "failed", "cancelled")
PENDING = ("queued", "held", "sending")
PAGE_OUTCOMES = ("delivered", "retained", "published", "rejected", "failed", "pending")


@dataclass(frozen=True)
class Row:
    id: int
    company_id: int
    send_id: int
    run_id: int
    period: str  # the run's month, 2026-03
    payslip_id: int
    version_id: int
    number: int  # the version's number: 2 and up are corrections
    personnummer: str
    channel: str
    state: str
    reason: str | None
    error_code: int | None
    content_key: str | None
    dispatched_at: datetime
    finished_at: datetime | None

    @property
    def outcome(self) -> str:
        return "pending" if self.state in PENDING else self.state

    def history(self) -> tuple:
        """What must never change once the row is final."""
        return (self.state, self.channel, self.reason, self.content_key, self.version_id, self.finished_at)


def outbox(app: Flask, run_ids=None) -> list[Row]:
    """Every dispatch row (or those of these runs) with its payslip version."""
    where = () if run_ids is None else (Dispatch.run_id.in_(sorted(run_ids)),)
    with app.app_context():
        try:
            found = db.session.execute(
                select(Dispatch.id, Dispatch.company_id, Dispatch.send_id, Dispatch.run_id, PayrollRun.period,
                       Dispatch.payslip_id, Dispatch.version_id, PayslipVersion.number, PayslipVersion.personnummer,
                       Dispatch.channel, Dispatch.state, Dispatch.reason, Dispatch.error_code, Dispatch.content_key,
                       Dispatch.dispatched_at, Dispatch.finished_at)
                .join(PayslipVersion, PayslipVersion.id == Dispatch.version_id)
                .join(PayrollRun, PayrollRun.id == Dispatch.run_id)
                .where(*where)
                .order_by(Dispatch.id)
            ).all()
        finally:
            db.session.remove()
    return [Row(*row[:4], row[4].strftime("%Y-%m"), *row[5:]) for row in found]


@dataclass(frozen=True)
class SendRecord:
    id: int
    company_id: int
    run_id: int
    channel: str
    state: str
    note: str | None
    scheduled_for: datetime | None


def sends(app: Flask) -> dict[int, SendRecord]:
    with app.app_context():
        try:
            found = db.session.execute(select(PayslipSend.id, PayslipSend.company_id, PayslipSend.run_id,
                                              PayslipSend.channel, PayslipSend.state, PayslipSend.note,
                                              PayslipSend.scheduled_for)).all()
        finally:
            db.session.remove()
    return {row[0]: SendRecord(*row) for row in found}


def kivra_of(app: Flask) -> tuple[dict[int, str], set[int]]:
    """Each company's Kivra tenant key, and the companies that have ever had an agreement."""
    with app.app_context():
        try:
            tenants = dict(db.session.execute(select(KivraSender.company_id, KivraSender.tenant_key)
                                              .where(KivraSender.tenant_key.is_not(None))).all())
            agreed = set(db.session.scalars(select(KivraAgreement.company_id).distinct()))
        finally:
            db.session.remove()
    return tenants, agreed


def unbalanced_vouchers(app: Flask) -> list[tuple[int, int, str, int]]:
    """(company id, voucher id, run month, sum in öre) of every voucher whose rows do not sum to zero."""
    with app.app_context():
        try:
            found = db.session.execute(
                select(Voucher.company_id, Voucher.id, PayrollRun.period, func.sum(VoucherRow.amount_ore))
                .join(VoucherRow, VoucherRow.voucher_id == Voucher.id)
                .join(PayrollRun, PayrollRun.id == Voucher.run_id)
                .group_by(Voucher.company_id, Voucher.id, PayrollRun.period)
            ).all()
        finally:
            db.session.remove()
    return [(c, v, p.strftime("%Y-%m"), int(s)) for c, v, p, s in found if s != 0]


def runs_without_voucher(app: Flask) -> list[tuple[int, str]]:
    with app.app_context():
        try:
            found = db.session.execute(
                select(PayrollRun.company_id, PayrollRun.period)
                .where(PayrollRun.status == "calculated", ~PayrollRun.vouchers.any())).all()
        finally:
            db.session.remove()
    return [(c, p.strftime("%Y-%m")) for c, p in found]


def page_month(row: Row) -> str:
    """The month a row is listed under on the status pages: when it went, Swedish time."""
    return in_sweden(row.dispatched_at).strftime("%Y-%m")


_TOTAL = re.compile(r'class="total outcome-(\w+)[^"]*">.*?<dd class="count">([^<]*)</dd>', re.S)
_CHANNEL_TOTAL = re.compile(r'class="outcome outcome-(\w+)"><dt>.*?</dt><dd>([^<]*)</dd>', re.S)


def _number(text: str) -> int:
    return int(re.sub(r"\D", "", text) or 0)


def status_totals(page: str) -> Counter:
    """The Kivra status page's totals by outcome."""
    return Counter({outcome: _number(count) for outcome, count in _TOTAL.findall(page)})


def overview_totals(page: str) -> Counter:
    """Min lön and Kivra per employee: its totals per channel and outcome, summed over the channels."""
    totals = Counter()
    for outcome, count in _CHANNEL_TOTAL.findall(page):
        totals[outcome] += _number(count)
    return totals


def outcome_words(app: Flask) -> dict[str, str]:
    """The CSV's outcome words in both languages, back to the outcome they name."""
    labels = {"Delivered to Kivra": "delivered", "Held by Kivra": "retained", "Published in Min lön": "published",
              "Rejected": "rejected", "Failed": "failed", "Sending": "pending", "Waiting": "pending",
              "Queued": "pending", "In progress": "pending"}
    words = {}
    with app.test_request_context():
        for locale in ("sv", "en"):
            with force_locale(locale):
                words.update({gettext(label): outcome for label, outcome in labels.items()})
    return words


def csv_totals(body: bytes, words: dict[str, str]) -> Counter:
    reader = csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";")
    header = next(reader, None)
    if header is None:
        return Counter()
    column = 3  # Name; Personnummer; Channel; Outcome; …
    return Counter(words.get(line[column], f"unknown word {line[column]!r}") for line in reader if line)
