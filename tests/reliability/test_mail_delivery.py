"""E-mail through real `flask worker` processes and a real SMTP server (kivra.mailbox, aiosmtpd in this process):
the payslip notice goes once per send and employee though a worker is SIGKILLed in the middle of sending it, and
e-mail queued while the SMTP server is down arrives once it is back, the reason of each failed attempt kept
meanwhile; a batch that outlasts its lease on a slow server is not sent twice."""
import asyncio
import os
import signal
import time
from collections import Counter
from typing import Callable

import pytest
from flask import Flask
from sqlalchemy import select, text

from kivra.accounts.models import User
from kivra.dispatch.models import Dispatch
from kivra.employees.models import Employee
from kivra.employees.portal_account import PortalAccount
from kivra.extensions import db
from kivra.mail.models import MailKind, MailState, OutboundEmail
from kivra.mailbox import server as mailbox_server, start_in_thread
from kivra.portal import invitations
from tests.conftest import PASSWORD_HASH
from tests.reliability.checks import all_final, wait_for
from tests.reliability.processes import Process, worker, worker_env
from tests.reliability.scenario import company_with_employees, install_delivery_audit, migrate, queued_send, \
    sqlite_stack

EMPLOYEES, KIVRA_USERS = 60, 12  # the other 48 are not Kivra users: their payslips are published in Min lön
NOT_NOTIFIED = 4  # of those 48: two turned the notices off, two were invited but chose no password
THREADS = 2
# The SMTP server takes its time over each message (as a real one writing to disk does), half of it before keeping
# the message and half after, before its "250": a kill lands inside a batch, and may land after the server kept a
# message that the worker never heard was taken.
SMTP_PAUSE = 0.05
MAIL = dict(MAIL_POLL_SECONDS=0.2, MAIL_LEASE_SECONDS=3, MAIL_BATCH=8, MAIL_RETRY_SECONDS=0.5,
            MAIL_RETRY_CAP_SECONDS=1.5, MAIL_TIMEOUT_SECONDS=5)


@pytest.fixture
def slow_smtp(monkeypatch):
    """The mailbox's SMTP server pauses SMTP_PAUSE before it keeps each message and as long again before it answers;
    call the fixture's value to change the pause."""
    answer, pause = mailbox_server._Handler.handle_DATA, [SMTP_PAUSE]

    async def slowly(self, server, session, envelope):
        await asyncio.sleep(pause[0])
        taken = await answer(self, server, session, envelope)
        await asyncio.sleep(pause[0])
        return taken

    monkeypatch.setattr(mailbox_server._Handler, "handle_DATA", slowly)
    return lambda seconds: pause.__setitem__(0, seconds)


@pytest.fixture
def mailboxes():
    """Mailboxes started by the test, each stopped when it ends."""
    started = []

    def start(**ports):
        started.append(start_in_thread(**ports))
        return started[-1]

    yield start
    for mailbox in started:
        mailbox.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def production_servers(request):
    """None on SQLite; on PostgreSQL, a PostgreSQL and a Redis of the test's own, set up before the workers (listed
    before `processes`), so stopped after them."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("own_postgres"), request.getfixturevalue("own_redis")


def postgres_stack(tmp_path, sandbox, app_on, postgres, redis) -> tuple[str, dict, Flask]:
    """sqlite_stack's production counterpart: a PostgreSQL of the test's own, migrated, and a Redis queue."""
    migrate(postgres.url, tmp_path / "migrate.log")
    app = app_on(postgres.url, sandbox)
    with app.app_context():
        install_delivery_audit()
    return postgres.url, {"REDIS_URL": redis.url}, app


def outbox(app: Flask, *conditions) -> list[OutboundEmail]:
    with app.app_context():
        try:
            rows = db.session.scalars(select(OutboundEmail).where(*conditions).order_by(OutboundEmail.id)).all()
            db.session.expunge_all()
            return rows
        finally:
            db.session.remove()


def unsent(app: Flask) -> Counter:
    return Counter(row.state for row in outbox(app, OutboundEmail.state.in_((MailState.QUEUED, MailState.SENDING))))


def wait_until(done: Callable[[], bool], timeout: float, what: str, report: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s\n{report()}")
        time.sleep(0.02)


def connected_to(process: Process, port: int) -> bool:
    """Whether the process holds an open connection to this loopback port (Linux's /proc): a worker does while it
    sends a batch, and closes it when the batch is done."""
    sockets = set()
    try:
        descriptors = os.listdir(f"/proc/{process.popen.pid}/fd")
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            sockets.add(os.readlink(f"/proc/{process.popen.pid}/fd/{descriptor}"))
        except OSError:
            continue  # closed meanwhile
    remote = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as table:
        next(table)
        return any(fields[2] == remote and fields[3] == "01" and f"socket:[{fields[9]}]" in sockets
                   for fields in map(str.split, table))


def min_lon_accounts(app: Flask, sandbox, numbers: list[str]) -> dict[str, str]:
    """Every employee gets an address and a Min lön account; the first KIVRA_USERS stay Kivra users, the rest are
    not. Returns the address of each employee who must be told of the payslip, with the language they must be told
    in (alternately Swedish and English)."""
    sandbox.admin("POST", "recipients", dict.fromkeys(numbers[KIVRA_USERS:], "not_user"))
    told = {}
    with app.app_context():
        employees = db.session.scalars(select(Employee).where(Employee.personnummer.in_(numbers))
                                       .order_by(Employee.id)).all()
        for n, employee in enumerate(employees):
            employee.email = f"person{n:03d}@example.se"
            locale = ("sv", "en")[n % 2]
            no_password = n in (KIVRA_USERS + 2, KIVRA_USERS + 3)
            notify = n not in (KIVRA_USERS, KIVRA_USERS + 1)
            db.session.add(PortalAccount(employee_id=employee.id, locale=locale, notify_new_payslips=notify,
                                         password_hash=None if no_password else PASSWORD_HASH))
            if n >= KIVRA_USERS and notify and not no_password:
                told[employee.email] = locale
        db.session.commit()
        db.session.remove()
    assert len(told) == EMPLOYEES - KIVRA_USERS - NOT_NOTIFIED
    return told


def test_each_min_lon_employee_is_told_once_of_a_send_though_a_worker_is_killed_while_mailing(
        production_servers, tmp_path, processes, start_sandbox, app_on, mailboxes, slow_smtp):
    sandbox = start_sandbox()
    if production_servers is None:
        database, (url, queue, app) = "sqlite", sqlite_stack(tmp_path, sandbox, app_on)
    else:
        database, (url, queue, app) = "postgresql", postgres_stack(tmp_path, sandbox, app_on, *production_servers)
    send = queued_send(app, sandbox, EMPLOYEES, queue)  # queued; no worker runs yet, so nothing is routed
    told = min_lon_accounts(app, sandbox, send.numbers)
    mailbox = mailboxes()
    env = worker_env(url, sandbox, **queue, **MAIL, SMTP_URL=mailbox.smtp_url)

    def start(name: str) -> Process:
        return processes.start(worker(name, env, tmp_path / f"{name}.log", THREADS))

    workers = [start("worker-a"), start("worker-b")]
    # Kill a worker in the middle of a batch: once a dozen notices arrived, the first found with its SMTP connection
    # open.
    wait_until(lambda: len(mailbox.messages()) >= 12, 60, "a dozen notices arrived", processes.report)
    victim = None
    deadline = time.monotonic() + 10
    while victim is None and time.monotonic() < deadline:
        victim = next((w for w in workers if connected_to(w, mailbox.smtp_port)), None)
    assert victim is not None, f"no worker was sending when a dozen had arrived\n{processes.report()}"
    assert victim.kill() == -signal.SIGKILL, f"{victim.name} had stopped by itself\n{processes.report()}"
    received_at_kill = len(mailbox.messages())
    claimed_at_kill = {row.id: row.attempts for row in outbox(app, OutboundEmail.state == MailState.SENDING)}
    start("worker-c")

    wait_for(app, send, all_final(EMPLOYEES), 60, f"all {EMPLOYEES} payslips final", processes.report)
    wait_until(lambda: not unsent(app), 30, "no e-mail left queued or sending", processes.report)

    # The outbox: one notice per Min lön employee with notices on and a password, for this send; each sent.
    notices = outbox(app, OutboundEmail.kind == MailKind.PAYSLIP_NOTICE)
    with app.app_context():
        addresses = dict(db.session.execute(select(Employee.id, Employee.email)).all())
        versions = dict(db.session.execute(
            select(Dispatch.employee_id, Dispatch.version_id).where(Dispatch.send_id == send.send_id)).all())
        states = dict(db.session.execute(text("SELECT state, count(*) FROM dispatch GROUP BY state")).all())
        db.session.remove()
    assert states == {"published": EMPLOYEES - KIVRA_USERS, "delivered": KIVRA_USERS}, states
    assert sorted(row.once_key for row in notices) == sorted(
        f"payslip-notice:{send.send_id}:{employee_id}:{versions[employee_id]}"
        for employee_id, address in addresses.items() if address in told), "not one notice row per Min lön employee with notices on"
    assert {row.to_address for row in notices} == set(told)
    assert {row.state for row in notices} == {MailState.SENT}, Counter(row.state for row in notices)
    # The killed worker's claims were taken over when their lease ran out (a claim counts an attempt).
    taken_over = [row.id for row in notices if row.id in claimed_at_kill and row.attempts > claimed_at_kill[row.id]]
    assert taken_over, f"no claim of {victim.name} was taken over: {claimed_at_kill}"

    # The mailbox: each of them told once, in their language; nobody else told anything. A second copy is only
    # possible for the one message the killed worker was sending, if the server had kept it: then it is the same
    # message, with the same Message-ID.
    received = mailbox.messages()
    per_recipient = Counter(address for message in received for address in message.to)
    assert set(per_recipient) == set(told), (set(per_recipient) ^ set(told))
    twice = {address: n for address, n in per_recipient.items() if n > 1}
    assert sum(twice.values()) - len(twice) <= 1 and set(twice.values()) <= {2}, twice
    for address in twice:
        assert len({message.message_id for message in mailbox.messages(to=address)}) == 1, mailbox.messages(to=address)
    subjects = {"sv": "Du har ett nytt lönebesked", "en": "You have a new payslip"}
    wrong = [message.to for message in received if message.subject != subjects[told[message.to[0]]]]
    assert not wrong, f"notices not in the employee's language: {wrong}"
    print(f"{database}: {victim.name} killed after {received_at_kill} of {len(told)} notices arrived, "
          f"{len(claimed_at_kill)} claimed then; {len(taken_over)} taken over by others; "
          f"{len(received)} messages received, {len(twice)} recipient(s) with a second copy of the same message")


def test_e_mail_queued_while_the_smtp_server_is_down_arrives_once_it_is_back(
        tmp_path, processes, start_sandbox, app_on, mailboxes):
    sandbox = start_sandbox()
    url, queue, app = sqlite_stack(tmp_path, sandbox, app_on)
    with app.app_context():
        company, admin, _ = company_with_employees(sandbox, 8)
        employees = db.session.scalars(select(Employee).where(Employee.company_id == company.id)
                                       .order_by(Employee.id)).all()
        for n, employee in enumerate(employees):
            employee.email = f"person{n:03d}@example.se"
        db.session.commit()
        admin_id, employee_ids = admin.id, [employee.id for employee in employees]
        db.session.remove()

    def invite(ids: list[int]) -> None:
        with app.app_context():
            user = db.session.get(User, admin_id)
            for employee_id in ids:
                invitations.invite(db.session.get(Employee, employee_id), user)
            db.session.remove()

    first = mailboxes()
    port = first.smtp_port
    env = worker_env(url, sandbox, **queue, **MAIL, MAIL_MAX_ATTEMPTS=100, SMTP_URL=first.smtp_url)
    processes.start(worker("worker", env, tmp_path / "worker.log", THREADS))
    # While the server is up, invitations arrive.
    invite(employee_ids[:3])
    wait_until(lambda: len(first.messages()) == 3 and not unsent(app), 30, "three invitations sent",
               processes.report)

    # The server goes away: its port refuses. What is queued now stays queued, each failed attempt's reason kept.
    first.stop()
    invite(employee_ids[3:])
    tried = lambda: [row for row in outbox(app, OutboundEmail.employee_id.in_(employee_ids[3:]))  # noqa: E731
                     if row.last_error]
    wait_until(lambda: len(tried()) >= 3, 30, "three invitations tried while the server is down", processes.report)
    meanwhile = outbox(app, OutboundEmail.employee_id.in_(employee_ids[3:]))
    assert {row.state for row in meanwhile} <= {MailState.QUEUED, MailState.SENDING}, [row.state for row in meanwhile]
    reasons = {row.last_error for row in meanwhile if row.last_error}
    assert all(f"127.0.0.1:{port} not reachable" in reason and "refused" in reason for reason in reasons), reasons
    assert all(row.attempts >= 1 for row in meanwhile if row.last_error)

    # Back on the same port: each invitation arrives once, and its row says sent.
    second = mailboxes(smtp_port=port)
    wait_until(lambda: not unsent(app), 30, "every invitation sent once the server is back", processes.report)
    assert len(first.messages()) == 3
    per_recipient = Counter(address for message in second.messages() for address in message.to)
    expected = {f"person{n:03d}@example.se" for n in range(3, 8)}
    assert per_recipient == dict.fromkeys(expected, 1), per_recipient
    rows = outbox(app, OutboundEmail.kind == MailKind.INVITATION)
    assert len(rows) == 8 and {row.state for row in rows} == {MailState.SENT}, [(row.id, row.state) for row in rows]
    attempts = {row.to_address: row.attempts for row in rows}
    print(f"attempts per invitation queued during the outage: {[attempts[a] for a in sorted(expected)]}; "
          f"reasons kept meanwhile: {reasons}")


def test_a_batch_that_outlasts_its_lease_on_a_slow_smtp_server_is_not_sent_twice(
        tmp_path, processes, start_sandbox, app_on, mailboxes, slow_smtp):
    """A server that takes its time (0.2 s a message here; seconds, for a tarpitting one) over a batch longer than
    the lease: the first worker claims every message, the other takes over those the first has not reached yet, and
    each message still goes once."""
    slow_smtp(0.1)
    sandbox = start_sandbox()
    url, queue, app = sqlite_stack(tmp_path, sandbox, app_on)
    with app.app_context():
        company, admin, _ = company_with_employees(sandbox, 20)
        employees = db.session.scalars(select(Employee).where(Employee.company_id == company.id)).all()
        for n, employee in enumerate(employees):
            employee.email = f"person{n:03d}@example.se"
            invitations.invite(employee, admin)
        db.session.remove()
    mailbox = mailboxes()
    settings = {**MAIL, "MAIL_LEASE_SECONDS": 1, "MAIL_BATCH": 20}  # one worker claims all 20: a 4 s batch
    env = worker_env(url, sandbox, **queue, **settings, SMTP_URL=mailbox.smtp_url)
    for name in ("worker-a", "worker-b"):
        processes.start(worker(name, env, tmp_path / f"{name}.log", THREADS))

    wait_until(lambda: len(mailbox.messages()) >= 20 and not unsent(app), 60, "every invitation sent",
               processes.report)
    time.sleep(1)  # what a worker still sends after its claim was taken over
    per_recipient = Counter(address for message in mailbox.messages() for address in message.to)
    twice = {address: n for address, n in per_recipient.items() if n > 1}
    assert len(per_recipient) == 20 and not twice, f"sent more than once: {twice}"
    # The takeover did happen: the worker that claimed none of them at first sent some.
    sent_by = {name: (tmp_path / f"{name}.log").read_text(errors="replace").count("(invitation) sent")
               for name in ("worker-a", "worker-b")}
    assert sum(sent_by.values()) == 20 and all(sent_by.values()), sent_by
    print(f"invitations sent by each worker: {sent_by}")
