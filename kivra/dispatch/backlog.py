"""What waits for the dispatch workers, for `flask dispatch status`: rows sending, queued and held, and how long the
oldest due row has waited — in all, or per company."""
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, select

from kivra.accounts.models import Company, utcnow
from kivra.dispatch.heartbeat import oldest_due_seconds
from kivra.dispatch.models import UNFINISHED, Dispatch
from kivra.extensions import db

WAITING_STATES = UNFINISHED  # in the order of Backlog's fields


@dataclass(frozen=True)
class Backlog:
    sending: int
    queued: int  # due now or later (a retry waits for its backoff, a scheduled send for its time)
    held: int  # waiting for Kivra's agreement or access, or for a scheduled send's time
    oldest_due_seconds: float | None  # None: nothing is due

    def as_dict(self) -> dict:
        return asdict(self)


def backlog(now: datetime | None = None, company_id: int | None = None) -> Backlog:
    now = now or utcnow()
    where = () if company_id is None else (Dispatch.company_id == company_id,)
    counts = dict(db.session.execute(
        select(Dispatch.state, func.count()).where(Dispatch.state.in_(WAITING_STATES), *where).group_by(Dispatch.state)
    ).all())
    return Backlog(*(counts.get(state, 0) for state in WAITING_STATES), oldest_due_seconds(now, *where))


def by_company(now: datetime | None = None) -> list[tuple[Company, Backlog]]:
    """Each company with rows waiting, by org.nr."""
    now = now or utcnow()
    companies = db.session.scalars(
        select(Company).where(Company.id.in_(select(Dispatch.company_id).where(Dispatch.state.in_(WAITING_STATES))))
        .order_by(Company.orgnr)
    ).all()
    return [(company, backlog(now, company.id)) for company in companies]
