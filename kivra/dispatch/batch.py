"""A handful of rows per task: claimed in one statement, their payloads built and stored in one commit, sent one after
another on this thread, and their outcomes recorded in one commit (bench/dispatch_throughput.py: the per-row claim,
store and finish were half the worker's CPU per payslip).

Every rule of the single-row engine holds: each row is claimed with a conditional UPDATE naming the state it expects,
its payload is stored once before its first attempt and sent as stored, and its outcome is recorded only if the claim
is still ours. Only the common case is batched — a routed Kivra row of a company with access, on its first attempt —
and every other row (Min lön, held, not routed, a payload stored before, an error) goes through `engine.attempt` as
it always has. A row sent but not yet recorded when the worker dies is sent again after its lease with the same
bytes, which Kivra's duplicate control ignores, exactly as a row whose worker died just after its call. The payload
is made with the engine's own building blocks (`engine.render_pdf`, `engine.payslip_content`); the PDFs, payloads and
outcomes are stored with one statement each for the batch, on the same conditions as the engine's.
"""
import hashlib
import logging
import threading
import time
import uuid
from contextlib import ExitStack
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload, undefer

from kivra.accounts.models import Company, utcnow
from kivra.agreement.models import KivraSender, SenderState
from kivra.dispatch import engine, journal, leases, locks, slots
from kivra.dispatch.corrections import corrects_received
from kivra.dispatch.models import Channel, Dispatch, DispatchState
from kivra.extensions import db
from kivra.logs import log_context
from kivra.payroll.models import Payslip, PayslipVersion
from kivra.sender_api import KivraClient
from kivra.sender_api.content import PayloadError
from kivra.sender_api.errors import KivraError, RecipientNotEligible

log = logging.getLogger(__name__)
# Set by a stopping worker (kivra/worker.py): a batch sends no further row, and hands back those it did not send.
stopping = threading.Event()
# A batch that has taken this long (ten rows at 50 ms take half a second) while Kivra itself is slow (its calls in this
# batch took SLOW_CALL_SECONDS on average) hands back the rows it has not sent yet, rung for at once, so that other
# threads send them rather than they wait their turn behind each other's slow calls. A batch slow only because the CPU
# is busy keeps its rows: handed back, each would be claimed, sent and recorded alone, at three times a batched row's
# CPU, on cores that are already full (at 64 sends in flight on 2 cores that took a fifth of the throughput:
# docs/benchmarks.md, "C = 64 against C = 16").
PATIENCE_SECONDS = 1.0
SLOW_CALL_SECONDS = 0.5
_clock = time.monotonic


# Made once (a statement built per row cost more than running it), on the tables' own columns so that SQLAlchemy runs
# them as plain statements, each once for the whole batch (executemany) rather than once per row.
_ROWS, _VERSIONS = Dispatch.__table__, PayslipVersion.__table__
_STORE = (update(_ROWS).where(_ROWS.c.id == bindparam("row_id"), _ROWS.c.payload_sha256.is_(None))
          .values(payload=bindparam("body"), payload_sha256=bindparam("sha256")))
# A version's first PDF, as `engine.store_pdf` stores it: the first wins.
_STORE_PDF = (update(_VERSIONS).where(_VERSIONS.c.id == bindparam("version_id"), _VERSIONS.c.pdf.is_(None))
              .values(pdf=bindparam("content"), pdf_sha256=bindparam("sha256")))
# A delivered or retained row is never sent again, so its payload bytes go as it finishes (engine.finish does so too).
_FINISH = (update(_ROWS)
           .where(_ROWS.c.id == bindparam("row_id"), _ROWS.c.state == DispatchState.SENDING,
                  _ROWS.c.claimed_by == bindparam("token"))
           .values(state=bindparam("outcome"), content_key=bindparam("key"), correlation_id=bindparam("correlation"),
                   error_code=None, finished_at=bindparam("now"), dispatched_at=bindparam("now"), lease_until=None,
                   payload=None))


def _all_updated(statement, rows: list[dict]) -> bool:
    """Run the statement once per parameter set in one call; whether each updated its row (SQLite's and psycopg's
    row count of an executemany is the sum over the sets)."""
    return db.session.connection().execute(statement, rows).rowcount == len(rows)


def claim_many(ids: list[int], config: engine.Settings, now: datetime | None = None) -> list[engine.Claim]:
    """Take these rows for one attempt each, those that are ours to take (queued and due, or a lease that ran out),
    in one transaction; the rows are locked in id order first, as every writer of several rows does (locks.py)."""
    now = now or utcnow()
    claimable = engine.claimable(now, config.max_attempts)
    looked = db.session.execute(
        select(Dispatch.id, KivraSender.state, KivraSender.tenant_key, Dispatch.state.label("was"))
        .select_from(Dispatch).outerjoin(KivraSender, KivraSender.company_id == Dispatch.company_id)
        .where(Dispatch.id.in_(sorted(set(ids))), claimable).order_by(Dispatch.id)
        .with_for_update(key_share=True, of=Dispatch)
    ).all()
    if not looked:
        db.session.rollback()
        return []  # rings for rows that are done or taken: no write for nothing
    token = uuid.uuid4().hex  # one claim: each row is still named by its id and this token
    taken = db.session.execute(
        update(Dispatch.__table__)
        .where(Dispatch.id.in_([row.id for row in looked]), claimable)
        .values(state=DispatchState.SENDING, claimed_by=token, lease_until=now + config.lease,
                attempts=Dispatch.attempts + 1)
        .returning(*engine.CLAIMED)
    ).all()
    db.session.commit()
    seen = {row.id: row for row in looked}
    order = {dispatch_id: n for n, dispatch_id in enumerate(ids)}  # the order they were rung in: by position
    claims = []
    for row in sorted(taken, key=lambda row: order[row.id]):
        sender = seen[row.id]
        if sender.was == DispatchState.SENDING:
            journal.lease_takeover(row.id, row.send_id, row.company_id, row.attempts)
        claims.append(engine.Claim(**row._mapping, token=token, sender_state=sender.state,
                                   tenant_key=sender.tenant_key))
    return claims


def _batched(row: engine.Claim) -> bool:
    """The common case: a routed Kivra row of a company with access, its payload not made yet."""
    return (row.channel == Channel.KIVRA and row.routed and row.sender_state == SenderState.ACTIVE
            and row.payload_sha256 is None)


def process_many(ids: list[int], client: KivraClient, config: engine.Settings | None = None
                 ) -> list[tuple[int, engine.Attempt]]:
    """One attempt at each of these rows that is ours to take; returns (id, attempt) for each row claimed."""
    config = config or engine.settings()
    since = _clock()
    rows = claim_many(ids, config)
    results: list[tuple[int, engine.Attempt]] = []
    with ExitStack() as held:
        for row in rows:  # this process's heartbeat renews every claim until its row is done
            held.enter_context(leases.holding(row.id, row.token))
        batched = [row for row in rows if _batched(row)]
        for row in rows:
            if not _batched(row):
                results.append((row.id, _one(row, client, config)))
        if batched:
            results.extend(_send_batched(batched, client, config, since))
    return results


def _one(row: engine.Claim, client: KivraClient, config: engine.Settings) -> engine.Attempt:
    with log_context(dispatch_id=row.id, send_id=row.send_id, company_id=row.company_id):
        return engine.attempt(row, client, config)


def _send_batched(rows: list[engine.Claim], client: KivraClient, config: engine.Settings, since: float
                  ) -> list[tuple[int, engine.Attempt]]:
    try:
        bodies = stored_payloads(rows, config)
    except Exception:  # noqa: BLE001 - whatever it was, each row's own attempt meets it and records it
        db.session.rollback()
        log.warning("building %d payloads together failed; each row is tried on its own", len(rows), exc_info=True)
        return [(row.id, _one(row, client, config)) for row in rows]
    results, sent = [], []
    calls, calling = 0, 0.0
    for n, row in enumerate(rows):
        slow_kivra = calls and calling / calls > SLOW_CALL_SECONDS
        # The worker is stopping, or Kivra is slow: what was not sent goes back to the queue now.
        if stopping.is_set() or (n and slow_kivra and _clock() > since + PATIENCE_SECONDS):
            _record(sent)
            return results + _hand_back(rows[n:])
        body = bodies[row.id]
        with log_context(dispatch_id=row.id, send_id=row.send_id, company_id=row.company_id):
            if isinstance(body, PayloadError):
                log.warning("dispatch %d: payload refused before sending: %s", row.id, body)
                engine.finish(row, state=DispatchState.FAILED, reason="payload_invalid", finished_at=utcnow())
                results.append((row.id, engine.Attempt(DispatchState.FAILED)))
                continue
            calls += 1
            try:
                with slots.slot():
                    called = _clock()  # Kivra's time, not the wait for a slot: the slow-Kivra rule above reads it
                    try:
                        answer = client.send_content(row.tenant_key, body)
                    finally:
                        calling += _clock() - called
            except RecipientNotEligible as error:
                engine.finish(row, channel=Channel.MINLON, state=DispatchState.PUBLISHED, reason="opted_out",
                              error_code=error.code, correlation_id=error.correlation_id, finished_at=utcnow())
                results.append((row.id, engine.Attempt(DispatchState.PUBLISHED)))
            except KivraError as error:
                results.append((row.id, engine.failed_attempt(row, error, config)))
            except Exception as error:  # noqa: BLE001 - every attempt counts, whatever ended it
                db.session.rollback()
                results.append((row.id, engine.broken_attempt(row, error, config)))
            else:
                state = DispatchState.RETAINED if answer.retained else DispatchState.DELIVERED
                sent.append((row, state, answer))
                results.append((row.id, engine.Attempt(state)))
    _record(sent)
    return results


def stored_payloads(rows: list[engine.Claim], config: engine.Settings) -> dict[int, bytes | PayloadError]:
    """Each row's bytes to send, built and stored as `engine.stored_payload` does for one row, in one commit: the
    versions and companies read in one query each, a version's PDF stored if nobody has yet (the first wins, and a
    content is built around the stored one), each payload stored if none was (else the stored one is sent)."""
    versions = {version.id: version for version in db.session.scalars(
        select(PayslipVersion).where(PayslipVersion.id.in_({row.version_id for row in rows}))
        .options(undefer(PayslipVersion.pdf), joinedload(PayslipVersion.payslip).joinedload(Payslip.run)))}
    companies = {company.id: company for company in db.session.scalars(
        select(Company).where(Company.id.in_({row.company_id for row in rows})))}
    made: dict[int, bytes] = {}  # PDFs rendered here, by version
    bodies: dict[int, bytes | PayloadError] = {}
    for row in rows:
        version = versions[row.version_id]
        correction = corrects_received(version)
        pdf = version.pdf if version.pdf is not None else made.get(version.id)
        if pdf is None:
            pdf = made[version.id] = engine.render_pdf(version, correction)
        try:
            bodies[row.id] = engine.payslip_content(version, companies[row.company_id], correction, pdf=pdf,
                                             retain=row.reason == "retain", retention_days=config.retention_days)
        except PayloadError as error:
            bodies[row.id] = error
    lost = _stored_elsewhere(_STORE_PDF, PayslipVersion.pdf_sha256, "version_id", [
        {"version_id": version_id, "content": pdf, "sha256": hashlib.sha256(pdf).hexdigest()}
        for version_id, pdf in made.items()])
    if lost:  # another worker stored these PDFs a moment ago: the stored ones are what Min lön shows
        db.session.commit()
        return _rebuilt(rows, config, bodies, lost)
    for row_id in _stored_elsewhere(_STORE, Dispatch.payload_sha256, "row_id", [
            {"row_id": row.id, "body": bodies[row.id], "sha256": hashlib.sha256(bodies[row.id]).hexdigest()}
            for row in rows if isinstance(bodies[row.id], bytes)]):
        bodies[row_id] = None  # someone stored this row's payload first: send theirs
    db.session.commit()
    for row in rows:
        if bodies[row.id] is None:
            bodies[row.id] = engine.read_payload(row.id)
    return bodies


def _stored_elsewhere(statement, sha256, key: str, stored: list[dict]) -> list[int]:
    """Store each of these (the first wins) in one statement; the ids (`key` of each) whose stored bytes are not
    these, read back only when some of them updated nothing."""
    if not stored or _all_updated(statement, stored):
        return []
    ids, model = [each[key] for each in stored], sha256.class_
    found = dict(db.session.execute(select(model.id, sha256).where(model.id.in_(ids))).all())
    return [each[key] for each in stored if found.get(each[key]) != each["sha256"]]


def _rebuilt(rows, config, bodies, lost) -> dict[int, bytes | PayloadError]:
    """Rare: rows whose version's PDF another worker stored first are built and stored one by one, around it."""
    for row in rows:
        if row.version_id in lost and isinstance(bodies[row.id], bytes):
            bodies[row.id] = engine.stored_payload(row, config)
    return stored_payloads([row for row in rows if row.version_id not in lost], config) | {
        row.id: bodies[row.id] for row in rows if row.version_id in lost}


def _record(sent: list[tuple[engine.Claim, str, object]]) -> None:
    """The outcomes of rows Kivra took, in one transaction: each only if its claim is still ours."""
    if not sent:
        return
    now = utcnow()
    locks.lock_sends({row.send_id for row, _, _ in sent})  # the sends before their rows (locks.py)
    lost = []
    if not _all_updated(_FINISH, [{"row_id": row.id, "token": row.token, "outcome": state, "key": answer.key,
                                   "correlation": answer.correlation_id, "now": now} for row, state, answer in sent]):
        found = {found.id: found for found in db.session.execute(
            select(Dispatch.id, Dispatch.state, Dispatch.claimed_by)
            .where(Dispatch.id.in_([row.id for row, _, _ in sent])))}
        lost = [row.id for row, state, _ in sent
                if row.id not in found or (found[row.id].state, found[row.id].claimed_by) != (state, row.token)]
    finished = journal.finished_sends({row.send_id for row, _, _ in sent})
    db.session.commit()
    journal.log_finished(finished)
    for dispatch_id in lost:
        log.warning("dispatch %d: claim lost before the outcome was recorded; the new claimant finishes it",
                    dispatch_id)


def _hand_back(rows: list[engine.Claim]) -> list[tuple[int, engine.Attempt]]:
    """Rows claimed but not sent when the worker began to stop or the batch ran out of patience: queued and due now,
    the attempt not counted (as `leases.release_held` does at the end of a stop's grace), their stored payloads kept,
    and rung for at once, one task each, by the caller (retry in 0 s)."""
    released = leases.release(rows)
    db.session.commit()
    return [(dispatch_id, engine.Attempt(None, retry_in=0.0)) for dispatch_id, _ in released]
