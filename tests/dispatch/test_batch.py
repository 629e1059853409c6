"""A handful of rows per task (kivra/dispatch/batch.py): claimed in one statement, built and stored in one commit,
sent in turn, recorded together; and every single-row rule still holds — only our rows are taken, what another worker
stored first is what goes, a lost claim records nothing, a stopping worker hands back what it has not sent."""
import base64
import json

import httpx
import pytest
from sqlalchemy import event, select, update

from kivra.dispatch import batch, engine, routing, service, tasks
from kivra.dispatch.models import Dispatch
from kivra.extensions import db
from kivra.identity import with_check_digit
from kivra.payroll import service as payroll
from kivra.sender_api.app import kivra_client
from kivra.sender_api.content import PayloadError
from tests.dispatch.test_engine import calculated_run, ledger, rows, sender  # noqa: F401 - `sender` is a fixture

pytestmark = pytest.mark.both_databases
USERS = [with_check_digit(f"1980{1 + n // 28:02d}{1 + n % 28:02d}123") for n in range(25)]


@pytest.fixture(autouse=True)
def not_stopping():
    yield
    batch.stopping.clear()


@pytest.fixture
def users(kivra):
    httpx.post(f"{kivra.url}/_sandbox/recipients", json=dict.fromkeys(USERS, "user")).raise_for_status()
    return USERS


def routed_run(company, admin, numbers):
    run = calculated_run(company, *numbers)
    service.request_send(run, admin)
    routing.route(service.send_of(run).id, kivra_client())
    tasks.huey.flush()  # the send's start, done above: the queue is empty, as when the last task was taken
    return run


def ids_of(run) -> list[int]:
    return [row.id for row in sorted(rows(run).values(), key=lambda row: row.position)]


def test_a_send_rings_once_per_ten_rows_and_each_payslip_goes_once(company, sender, kivra, users):
    run = calculated_run(company, *users)
    service.request_send(run, sender)
    tasks.drain(max_tasks=1)  # start_send: routed, and rung for
    rung = [task for task in tasks.huey.pending() if task.name == "dispatch.send_rows"]
    assert sorted(len(task.args[0]) for task in rung) == [5, 10, 10]
    tasks.drain()
    assert {row.state for row in rows(run).values()} == {"delivered"}
    assert ledger(kivra)["deliveries_per_recipient"] == dict.fromkeys(users, 1)


def test_the_rows_are_claimed_in_one_statement_and_recorded_in_one_commit(company, sender, kivra, users):
    run = routed_run(company, sender, users[:10])
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE DISPATCH"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        claims = batch.claim_many(ids_of(run), engine.settings())
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(claims) == 10 and len(statements) == 1
    assert {row.state for row in rows(run).values()} == {"sending"}


def test_a_batch_stores_its_pdfs_payloads_and_outcomes_with_one_statement_each(company, sender, kivra, users):
    """Ten rows, four UPDATEs to the database in all: the claim, the PDFs, the payloads, the outcomes (a statement
    per row cost more of the worker's CPU than the row's payload)."""
    run = routed_run(company, sender, users[:10])
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE"):
            statements.append(statement.split()[1].strip('"'))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        results = batch.process_many(ids_of(run), kivra_client())
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert [attempt.outcome for _, attempt in results] == ["delivered"] * 10
    assert sorted(statements) == ["dispatch", "dispatch", "dispatch", "payslip_version"]
    assert ledger(kivra)["deliveries_per_recipient"] == dict.fromkeys(users[:10], 1)


def test_a_batch_takes_only_the_rows_that_are_ours_to_take(company, sender, kivra, users):
    run = routed_run(company, sender, users[:3])
    first, *others = ids_of(run)
    taken_elsewhere = engine.claim(first, engine.settings())  # another worker's claim
    results = dict(batch.process_many([first, *others], kivra_client()))
    assert set(results) == set(others)
    states = {row.id: row.state for row in rows(run).values()}
    assert states == {first: "sending", **dict.fromkeys(others, "delivered")}
    assert db.session.get(Dispatch, first).claimed_by == taken_elsewhere.token


def test_a_stopping_worker_sends_no_further_row_and_hands_the_rest_back(company, sender, kivra, users, monkeypatch):
    run = routed_run(company, sender, users[:4])
    client = kivra_client()
    real_send = client.send_content

    def send_then_stop(tenant_key, body):
        answer = real_send(tenant_key, body)
        batch.stopping.set()  # SIGTERM arrives while the first row is with Kivra
        return answer

    monkeypatch.setattr(client, "send_content", send_then_stop)
    try:
        results = batch.process_many(ids_of(run), client)
    finally:
        monkeypatch.undo()
        batch.stopping.clear()
    first, *rest = ids_of(run)
    assert results[0] == (first, engine.Attempt("delivered"))
    assert results[1:] == [(row_id, engine.Attempt(None, retry_in=0.0)) for row_id in rest]
    by_id = {row.id: row for row in rows(run).values()}
    assert [(by_id[row_id].state, by_id[row_id].attempts, by_id[row_id].claimed_by) for row_id in rest] == [
        ("queued", 0, None)] * 3  # handed back: the attempt not counted, its stored payload kept
    assert all(by_id[row_id].payload_sha256 for row_id in rest)
    tasks.enqueue([(row_id, 0) for row_id in rest])
    tasks.drain()
    assert ledger(kivra)["deliveries_per_recipient"] == dict.fromkeys(users[:4], 1)


def test_a_batch_that_meets_a_slow_kivra_hands_back_what_it_has_not_sent(company, sender, kivra, users,
                                                                         monkeypatch):
    run = routed_run(company, sender, users[:4])
    client, now = kivra_client(), [0.0]
    real_send = client.send_content

    def slow_send(tenant_key, body):  # each call takes two seconds
        now[0] += 2.0
        return real_send(tenant_key, body)

    monkeypatch.setattr(client, "send_content", slow_send)
    monkeypatch.setattr(batch, "_clock", lambda: now[0])
    results = batch.process_many(ids_of(run), client)
    first, *rest = ids_of(run)
    assert results == [(first, engine.Attempt("delivered"))] + [
        (row_id, engine.Attempt(None, retry_in=0.0)) for row_id in rest]
    by_id = {row.id: row for row in rows(run).values()}
    assert [(by_id[row_id].state, by_id[row_id].attempts) for row_id in rest] == [("queued", 0)] * 3
    monkeypatch.undo()
    tasks.enqueue([(row_id, 0) for row_id in rest])
    tasks.drain()
    assert ledger(kivra)["deliveries_per_recipient"] == dict.fromkeys(users[:4], 1)


@pytest.mark.parametrize("tasks_waiting", [0, 1], ids=["queue empty", "a task waiting"])
def test_a_batch_slowed_by_a_busy_cpu_keeps_its_rows(company, sender, kivra, users, monkeypatch, tasks_waiting):
    """Kivra quick, the batch slow all the same (the CPU is busy): handed back, each row would be claimed, sent and
    recorded alone, at three times the CPU, on cores that are already full. The batch sends them all itself, whether
    or not other tasks wait for a thread."""
    run = routed_run(company, sender, users[:10])
    client, now = kivra_client(), [0.0]
    real_send = client.send_content

    def busy_send(tenant_key, body):  # 0.3 s a row: a quick Kivra, a busy machine
        now[0] += 0.3
        return real_send(tenant_key, body)

    monkeypatch.setattr(client, "send_content", busy_send)
    monkeypatch.setattr(batch, "_clock", lambda: now[0])
    for _ in range(tasks_waiting):
        tasks.huey.enqueue(tasks.send_one.s(10**9))  # another send's task, waiting for a thread
    results = batch.process_many(ids_of(run), client)
    assert results == [(row_id, engine.Attempt("delivered")) for row_id in ids_of(run)]
    assert now[0] == pytest.approx(3.0)  # three times the patience: no row was handed back
    assert {row.state for row in rows(run).values()} == {"delivered"}
    assert tasks.drain() == tasks_waiting  # nothing was rung for
    assert ledger(kivra)["deliveries_per_recipient"] == dict.fromkeys(users[:10], 1)


def test_a_slow_kivra_gets_the_rows_handed_back_even_while_tasks_wait(company, sender, kivra, users, monkeypatch):
    """Calls that take seconds each: the rows go to other threads rather than wait behind each other (and a worker
    stopping meanwhile holds few)."""
    run = routed_run(company, sender, users[:4])
    client, now = kivra_client(), [0.0]
    real_send = client.send_content

    def slow_send(tenant_key, body):
        now[0] += 2.0
        return real_send(tenant_key, body)

    monkeypatch.setattr(client, "send_content", slow_send)
    monkeypatch.setattr(batch, "_clock", lambda: now[0])
    tasks.huey.enqueue(tasks.send_one.s(10**9))
    first, *rest = ids_of(run)
    assert batch.process_many(ids_of(run), client) == [(first, engine.Attempt("delivered"))] + [
        (row_id, engine.Attempt(None, retry_in=0.0)) for row_id in rest]


def test_a_refused_payload_fails_its_own_row_and_the_others_go(company, sender, kivra, users, monkeypatch):
    run = routed_run(company, sender, users[:3])
    refused = rows(run)[users[1]].version_id
    real_content = engine.payslip_content

    def refuse_one(version, *args, **kwargs):
        if version.id == refused:
            raise PayloadError("the employer's city must be filled in: Kivra requires them")
        return real_content(version, *args, **kwargs)

    monkeypatch.setattr(engine, "payslip_content", refuse_one)
    batch.process_many(ids_of(run), kivra_client())
    found = rows(run)
    assert (found[users[1]].state, found[users[1]].reason) == ("failed", "payload_invalid")
    assert found[users[1]].payload is None and found[users[1]].payload_sha256 is None
    assert {found[number].state for number in (users[0], users[2])} == {"delivered"}
    assert ledger(kivra)["deliveries_per_recipient"] == {users[0]: 1, users[2]: 1}


def test_a_pdf_another_worker_stored_first_is_the_one_a_batch_sends(company, sender, kivra, users, monkeypatch):
    run = routed_run(company, sender, users[:2])
    claims = batch.claim_many(ids_of(run), engine.settings())
    raced = claims[0].version_id
    stored_first = payroll.render_pdf(db.session.get(payroll.PayslipVersion, raced), False)
    real_render = engine.render_pdf

    def render_while_another_worker_stores(version, correction):
        if version.id != raced:
            return real_render(version, correction)
        with db.engine.begin() as other:  # a takeover stores its PDF while this worker renders
            other.execute(update(payroll.PayslipVersion).where(payroll.PayslipVersion.id == raced)
                          .values(pdf=stored_first, pdf_sha256="other"))
        return stored_first + b"%% rendered here\n"

    monkeypatch.setattr(engine, "render_pdf", render_while_another_worker_stores)
    bodies = batch.stored_payloads(claims, engine.settings())
    assert base64.b64decode(json.loads(bodies[claims[0].id])["parts"][0]["data"]) == stored_first
    for claim in claims:  # each row's stored bytes are the ones it sends
        assert db.session.scalar(select(Dispatch.payload).where(Dispatch.id == claim.id)) == bodies[claim.id]


def test_a_payload_another_worker_stored_first_is_the_one_a_batch_sends(company, sender, kivra, users):
    run = routed_run(company, sender, users[:2])
    claims = batch.claim_many(ids_of(run), engine.settings())
    with db.engine.begin() as other:  # stored by a worker whose claim ran out, after this claim was read
        other.execute(update(Dispatch).where(Dispatch.id == claims[1].id)
                      .values(payload=b'{"stored": "first"}', payload_sha256="first"))
    bodies = batch.stored_payloads(claims, engine.settings())
    assert bodies[claims[1].id] == b'{"stored": "first"}'
    assert json.loads(bodies[claims[0].id])["ssn"] in users


def test_an_outcome_whose_claim_was_taken_over_is_left_to_the_new_claimant(company, sender, kivra, users,
                                                                          monkeypatch):
    run = routed_run(company, sender, users[:3])
    first, *others = ids_of(run)
    client = kivra_client()
    real_send = client.send_content

    def send_while_the_first_lease_runs_out(tenant_key, body):
        if json.loads(body)["ssn"] == users[1]:  # the first row is with Kivra already; its lease runs out meanwhile
            with db.engine.begin() as other:
                other.execute(update(Dispatch).where(Dispatch.id == first).values(claimed_by="the-other-worker"))
        return real_send(tenant_key, body)

    monkeypatch.setattr(client, "send_content", send_while_the_first_lease_runs_out)
    batch.process_many([first, *others], client)
    states = {row.id: (row.state, row.claimed_by) for row in rows(run).values()}
    assert states[first] == ("sending", "the-other-worker")  # its outcome is the new claimant's to record
    assert {states[row_id][0] for row_id in others} == {"delivered"}
