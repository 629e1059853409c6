"""The SMTP server e-mail leaves through (SMTP_URL), with the standard library's smtplib: it speaks STARTTLS, implicit
TLS and AUTH, and a worker thread sending a few messages at a time needs nothing asynchronous.

- `smtp://user:password@host:587`: STARTTLS whenever the server offers it, and always before a password is sent to
  a host that is not this machine (a relay that offers no STARTTLS then gets no password, and nothing is sent);
- `smtps://user:password@host:465`: TLS from the first byte.

Each failure is sorted into temporary (4xx answers, a connection that failed or broke: try again later) and permanent
(5xx: the message is refused for good). A refused login or sender is the installation's problem, not the message's:
temporary, so the messages go once SMTP_URL is put right."""
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

LOOPBACK = ("localhost", "127.0.0.1", "::1")


class SmtpUrlError(ValueError):
    pass


@dataclass(frozen=True)
class Relay:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> "Relay":
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise SmtpUrlError("SMTP_URL must look like smtp://user:password@host:587 or "
                               "smtps://user:password@host:465")
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 587)
        except ValueError:
            raise SmtpUrlError("SMTP_URL has a port that is not a number") from None
        return cls(parts.hostname, port, parts.scheme == "smtps",
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)

    def connect(self, timeout: float) -> smtplib.SMTP:
        """An open, logged-in connection; raises SendFailure (temporary) if it cannot be had."""
        context = ssl.create_default_context()
        try:
            if self.implicit_tls:
                connection = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=context)
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=timeout)
            try:
                connection.ehlo()
                if not self.implicit_tls:
                    if connection.has_extn("starttls"):
                        connection.starttls(context=context)
                        connection.ehlo()
                    elif self.username and self.host not in LOOPBACK:
                        raise SendFailure(False, f"{self.host} offers no STARTTLS: the password was not sent")
                if self.username:
                    connection.login(self.username, self.password or "")
            except BaseException:
                connection.close()
                raise
            return connection
        except SendFailure:
            raise
        except smtplib.SMTPAuthenticationError as error:
            raise SendFailure(False, f"login refused: {_answer(error)} (check SMTP_URL)") from error
        except smtplib.SMTPResponseException as error:
            raise SendFailure(False, _answer(error)) from error
        except (smtplib.SMTPException, OSError) as error:  # TimeoutError is an OSError
            reason = error or type(error).__name__
            raise SendFailure(False, f"{self.host}:{self.port} not reachable: {reason}") from error


class SendFailure(Exception):
    """An attempt that did not hand the message over; `permanent` when the server refused it for good (5xx)."""

    def __init__(self, permanent: bool, answer: str, connection_lost: bool = True):
        super().__init__(answer)
        self.permanent, self.answer, self.connection_lost = permanent, answer, connection_lost


def _answer(error: smtplib.SMTPResponseException) -> str:
    text = error.smtp_error
    return f"{error.smtp_code} {text.decode(errors='replace') if isinstance(text, bytes) else text}".strip()


def send(connection: smtplib.SMTP, message: EmailMessage) -> None:
    """Hand one message to the server; SendFailure if it did not take it."""
    try:
        refused = connection.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        code, text = next(iter(error.recipients.values()))
        answer = f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
        raise SendFailure(code >= 500, answer, connection_lost=False) from error
    except smtplib.SMTPSenderRefused as error:  # MAIL FROM refused: MAIL_FROM is wrong, not the message
        raise SendFailure(False, f"sender refused: {_answer(error)} (check MAIL_FROM)", connection_lost=False) \
            from error
    except smtplib.SMTPServerDisconnected as error:
        raise SendFailure(False, f"the server closed the connection: {error}") from error
    except smtplib.SMTPResponseException as error:  # DATA refused, or 421 (the server is closing)
        raise SendFailure(500 <= error.smtp_code < 600, _answer(error), connection_lost=error.smtp_code == 421) \
            from error
    except (smtplib.SMTPException, OSError) as error:  # TimeoutError is an OSError
        raise SendFailure(False, f"connection broken: {error or type(error).__name__}") from error
    if refused:  # only some recipients refused: there is one recipient per message, so this does not happen
        code, text = next(iter(refused.values()))
        raise SendFailure(code >= 500, f"{code} {text!r}", connection_lost=False)
