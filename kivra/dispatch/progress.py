"""Where a send's payslips are: for the run's step page, counts by outcome in one aggregate query; for the run list,
every run's from the dispatch tally."""
from dataclasses import dataclass

from sqlalchemy import func, select

from kivra.accounts.models import utcnow
from kivra.clock import as_utc
from kivra.dispatch.models import UNFINISHED, Dispatch, DispatchState, PayslipSend
from kivra.dispatch.tally import PENDING, DispatchTally
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


def sends_by_run(company_id: int, run_ids: list[int]) -> dict[int, tuple[PayslipSend, Progress]]:
    """The run list's send column: each run's send and where its payslips are, summed from the dispatch tally (a row
    per hour, run, channel, outcome and reason with sends, kivra/dispatch/tally.py): the list costs the same after
    years of runs of thousands, where counting the rows would read every payslip ever sent. A run has one send, so
    its tally is its send's. The tally counts queued, held and sending together (Progress's QUEUED here), which is
    all the list shows of them; a send set for later is counted from its rows, as `is_scheduled` needs to know
    that none is being sent."""
    if not run_ids:
        return {}
    sends = {send.run_id: send for send in db.session.scalars(
        select(PayslipSend).where(PayslipSend.company_id == company_id, PayslipSend.run_id.in_(run_ids)))}
    counts: dict[int, dict[str, int]] = {run_id: {} for run_id in sends}
    if sends:
        query = (select(DispatchTally.run_id, DispatchTally.outcome, func.sum(DispatchTally.n))
                 .where(DispatchTally.company_id == company_id, DispatchTally.run_id.in_(list(sends)))
                 .group_by(DispatchTally.run_id, DispatchTally.outcome))
        for run_id, outcome, count in db.session.execute(query):
            if count:
                counts[run_id][DispatchState.QUEUED if outcome == PENDING else outcome] = count
    now = utcnow()
    return {run_id: (send, send_progress(send) if send.scheduled_for is not None and as_utc(send.scheduled_for) > now
                     else Progress(counts[run_id], {})) for run_id, send in sends.items()}
