"""SMTP_URL read into a relay, and each way an attempt can end sorted into temporary or permanent, against real SMTP
servers on loopback (the dev mailbox, and an aiosmtpd server that asks for a login)."""
import socket
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from kivra.mail.relay import Relay, SendFailure, SmtpUrlError, send
from kivra.mailbox import start_in_thread


@pytest.mark.parametrize("url, expected", [
    ("smtp://mail.example.se", ("mail.example.se", 587, False, None, None)),
    ("smtps://mail.example.se", ("mail.example.se", 465, True, None, None)),
    ("smtp://mail.example.se:25", ("mail.example.se", 25, False, None, None)),
    ("smtp://lon%40example.se:p%C3%A5ss%3Aw%2Fd@mail.example.se:2525",
     ("mail.example.se", 2525, False, "lon@example.se", "påss:w/d")),
    ("smtps://apikey:@mail.example.se", ("mail.example.se", 465, True, "apikey", None)),
])
def test_smtp_url_is_read_with_default_ports_and_decoded_credentials(url, expected):
    relay = Relay.from_url(url)
    assert (relay.host, relay.port, relay.implicit_tls, relay.username, relay.password) == expected


@pytest.mark.parametrize("url", ["http://mail.example.se", "smtp://", "mail.example.se:587", "smtp://host:port"])
def test_a_smtp_url_that_is_no_smtp_server_is_refused(url):
    with pytest.raises(SmtpUrlError):
        Relay.from_url(url)


def message(to="astrid@example.se") -> EmailMessage:
    built = EmailMessage()
    built["From"], built["To"], built["Subject"] = "Lön <no-reply@example.se>", to, "Test"
    built.set_content("Hej!\n")
    return built


@pytest.fixture
def mailbox():
    with start_in_thread() as mailbox:
        yield mailbox


def attempt(relay: Relay) -> SendFailure | None:
    """One message over a new connection; the failure, if any."""
    try:
        connection = relay.connect(5)
        try:
            send(connection, message())
        finally:
            connection.close()
    except SendFailure as failure:
        return failure
    return None


def test_a_message_the_server_takes_arrives(mailbox):
    assert attempt(Relay.from_url(mailbox.smtp_url)) is None
    [received] = mailbox.messages()
    assert received.to == ("astrid@example.se",) and received.body == "Hej!\n"


@pytest.mark.parametrize("answer, stage, permanent, connection_lost", [
    ("421 4.3.2 Try again later", "data", False, True),
    ("451 4.3.0 Local error", "data", False, False),
    ("450 4.2.1 Mailbox busy", "rcpt", False, False),
    ("550 5.1.1 No such mailbox", "rcpt", True, False),
    ("554 5.7.1 Message refused", "data", True, False),
])
def test_4xx_answers_are_temporary_and_5xx_permanent_with_the_servers_text(mailbox, answer, stage, permanent,
                                                                            connection_lost):
    mailbox.fail_next(answer, stage=stage)
    failure = attempt(Relay.from_url(mailbox.smtp_url))
    assert failure is not None and failure.answer == answer
    assert (failure.permanent, failure.connection_lost) == (permanent, connection_lost)
    assert mailbox.messages() == []
    assert attempt(Relay.from_url(mailbox.smtp_url)) is None  # the next one goes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_server_nobody_answers_on_is_temporary():
    failure = attempt(Relay.from_url(f"smtp://127.0.0.1:{free_port()}"))
    assert failure is not None and not failure.permanent and "not reachable" in failure.answer


class Logins:
    """An authenticator that takes one user and password, and remembers what it was offered."""

    def __init__(self, user: str, password: str):
        self.expected, self.offered = (user, password), []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        offered = (auth_data.login.decode(), auth_data.password.decode())
        self.offered.append(offered)
        return AuthResult(success=offered == self.expected, handled=False)  # aiosmtpd answers 535 itself


class Keep:
    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def login_server():
    logins, keep = Logins("lon@example.se", "p@ss:word/1"), Keep()
    controller = Controller(keep, hostname="127.0.0.1", port=free_port(), authenticator=logins,
                            auth_require_tls=False, auth_required=True)
    controller.start()
    yield controller, logins, keep
    controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # loopback, in a test
def test_the_decoded_login_is_what_the_server_gets(login_server):
    controller, logins, keep = login_server
    url = f"smtp://lon%40example.se:p%40ss%3Aword%2F1@127.0.0.1:{controller.port}"
    assert attempt(Relay.from_url(url)) is None
    assert logins.offered == [("lon@example.se", "p@ss:word/1")] and keep.received == [["astrid@example.se"]]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # loopback, in a test
def test_a_refused_login_is_temporary_and_says_to_check_smtp_url(login_server):
    controller, logins, keep = login_server
    failure = attempt(Relay.from_url(f"smtp://lon:wrong@127.0.0.1:{controller.port}"))
    assert failure is not None and not failure.permanent
    assert failure.answer.startswith("login refused: 535") and "SMTP_URL" in failure.answer
    assert keep.received == []
