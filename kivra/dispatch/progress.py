"""Where a send's payslips are, for the run's step page: counts by outcome, one aggregate query."""
from dataclasses import dataclass

from sqlalchemy import func, select

from kivra.accounts.models import utcnow
from kivra.clock import as_utc
from kivra.dispatch.models import UNFINISHED, Dispatch, DispatchState, PayslipSend
from kivra.extensions import db


@dataclass(frozen=True)
class Progress:
    """Where a run's payslips are: counts by outcome, and Min lön's by reason. Superseded rows do not count."""

    by_state: dict[str, int]
    min_lon_reasons: dict[str, int]

    def __getitem__(self, state: str) -> int:
        return self.by_state.get(state, 0)

    @property
    def total(self) -> int:
        return sum(n for state, n in self.by_state.items() if state != DispatchState.CANCELLED)

    @property
    def sent(self) -> int:
        return self[DispatchState.DELIVERED] + self[DispatchState.RETAINED] + self[DispatchState.PUBLISHED]

    @property
    def done(self) -> int:
        return self.sent + self[DispatchState.REJECTED] + self[DispatchState.FAILED]

    @property
    def waiting(self) -> int:
        return sum(self[state] for state in UNFINISHED)

    @property
    def finished(self) -> bool:
        return self.total > 0 and self.waiting == 0


def is_scheduled(send: PayslipSend | None, progress: Progress | None) -> bool:
    """A send set for later that has not started: it can still be cancelled."""
    if send is None or send.scheduled_for is None or progress is None:
        return False
    return as_utc(send.scheduled_for) > utcnow() and progress.done == 0 and progress[DispatchState.SENDING] == 0


def send_progress(send: PayslipSend | None) -> Progress | None:
    """The step page's progress bar: one aggregate query, whatever the size of the run."""
    if send is None:
        return None
    by_state: dict[str, int] = {}
    reasons: dict[str, int] = {}
    query = (
        select(Dispatch.state, Dispatch.reason, func.count())
        .where(Dispatch.send_id == send.id)
        .group_by(Dispatch.state, Dispatch.reason)
    )
    for state, reason, count in db.session.execute(query):
        by_state[state] = by_state.get(state, 0) + count
        if state == DispatchState.PUBLISHED:
            reasons[reason or "no_agreement"] = reasons.get(reason or "no_agreement", 0) + count
    return Progress(by_state, reasons)


def sends_by_run(run_ids: list[int]) -> dict[int, tuple[PayslipSend, Progress]]:
    """The run list's send column: each run's send and where its payslips are, in two queries for any number of runs
    (the counts read from the (send_id, state) index)."""
    if not run_ids:
        return {}
    sends = {send.id: send for send in db.session.scalars(select(PayslipSend).where(PayslipSend.run_id.in_(run_ids)))}
    counts: dict[int, dict[str, int]] = {send_id: {} for send_id in sends}
    if sends:
        query = (select(Dispatch.send_id, Dispatch.state, func.count())
                 .where(Dispatch.send_id.in_(list(sends))).group_by(Dispatch.send_id, Dispatch.state))
        for send_id, state, count in db.session.execute(query):
            counts[send_id][state] = count
    return {send.run_id: (send, Progress(counts[send.id], {})) for send in sends.values()}
