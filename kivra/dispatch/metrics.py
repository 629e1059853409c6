"""The dispatch figures Prometheus scrapes from the web, computed from the database at scrape time: the same answer
from any web process, and true after any restart. No company label (500 companies would be 500 series per figure),
nothing personal."""
from datetime import timedelta

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from kivra.clock import as_utc, now as utcnow
from kivra.dispatch import heartbeat
from kivra.dispatch.models import UNFINISHED, Channel, Dispatch, DispatchState, PayslipSend, SendState
from kivra.extensions import db
from kivra.mail.models import MailKind, MailState, OutboundEmail


class DispatchCollector:
    """A custom collector: `collect` runs in the scraping request's app context."""

    def __init__(self, queue_depth, silent_after: timedelta):
        self.queue_depth, self.silent_after = queue_depth, silent_after

    def collect(self):
        payslips = GaugeMetricFamily("payroll_payslips", "Payslips (dispatch rows) by state and channel.",
                                     labels=["state", "channel"])
        counts = dict(((state, channel), n) for state, channel, n in db.session.execute(
            select(Dispatch.state, Dispatch.channel, func.count()).group_by(Dispatch.state, Dispatch.channel)))
        for state in DispatchState:
            for channel in Channel:
                payslips.add_metric([state, channel], counts.get((state, channel), 0))
        yield payslips

        sends = GaugeMetricFamily("payroll_sends", "Send requests (one per payroll run) by state.", labels=["state"])
        by_state = dict(db.session.execute(
            select(PayslipSend.state, func.count()).group_by(PayslipSend.state)).all())
        for state in SendState:
            sends.add_metric([state], by_state.get(state, 0))
        yield sends
        unfinished = db.session.scalar(select(func.count(func.distinct(Dispatch.send_id)))
                                       .where(Dispatch.state.in_(UNFINISHED)))
        yield GaugeMetricFamily("payroll_sends_unfinished", "Sends with payslips still waiting or being sent.",
                                value=unfinished)

        yield from _emails()

        try:
            depth = self.queue_depth()
        except Exception:  # noqa: BLE001 - the queue (Redis) does not answer: say so, report the rest
            depth = None
        yield GaugeMetricFamily("payroll_queue_up", "1 when the task queue answered this scrape.",
                                value=0 if depth is None else 1)
        if depth is not None:
            yield GaugeMetricFamily("payroll_queue_depth", "Tasks waiting in the queue.", value=depth)
        health = heartbeat.workers_health(self.silent_after, depth)
        yield GaugeMetricFamily("payroll_oldest_due_seconds",
                                "How long the oldest payslip due for a worker has waited (0: none waits).",
                                value=health.oldest_due_seconds or 0)
        yield GaugeMetricFamily("payroll_workers_alive", "Dispatch workers seen within WORKER_SILENT_SECONDS.",
                                value=sum(1 for worker in health.workers if worker["alive"]))
        db.session.commit()


def _emails():
    """The e-mail outbox (kivra/mail): a growing `queued` or any `failed` is mail that is not leaving."""
    emails = GaugeMetricFamily("payroll_emails", "E-mails in the outbox by state and kind.", labels=["state", "kind"])
    counts = dict(((state, kind), n) for state, kind, n in db.session.execute(
        select(OutboundEmail.state, OutboundEmail.kind, func.count())
        .group_by(OutboundEmail.state, OutboundEmail.kind)))
    for state in MailState:
        for kind in MailKind:
            emails.add_metric([state, kind], counts.get((state, kind), 0))
    yield emails
    oldest = db.session.scalar(select(func.min(OutboundEmail.created_at)).where(
        OutboundEmail.state.in_((MailState.QUEUED, MailState.SENDING))))
    yield GaugeMetricFamily("payroll_oldest_unsent_email_seconds",
                            "How long the oldest e-mail not yet sent has waited (0: none waits).",
                            value=max(0.0, (utcnow() - as_utc(oldest)).total_seconds()) if oldest else 0)
