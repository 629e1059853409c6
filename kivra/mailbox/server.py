"""The SMTP server (aiosmtpd on its own event loop in a thread) and the web mailbox (a WSGI app in another)."""
import asyncio
import ipaddress
import itertools
import logging
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import message_from_bytes, policy

from aiosmtpd.smtp import SMTP
from flask import Flask, abort, jsonify, make_response, render_template_string
from markupsafe import Markup, escape
from werkzeug.serving import make_server

PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
LINK = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class ReceivedMessage:
    id: int
    sender: str
    to: tuple[str, ...]
    subject: str
    body: str
    message_id: str
    received_at: datetime
    headers: dict = field(repr=False, default_factory=dict)

    @property
    def links(self) -> list[str]:
        return LINK.findall(self.body)

    def as_json(self) -> dict:
        return {"id": self.id, "from": self.sender, "to": list(self.to), "subject": self.subject, "body": self.body,
                "message_id": self.message_id, "received_at": self.received_at.isoformat(), "links": self.links}


class _Handler:
    """Keeps what arrives; answers with a planned failure instead when a test asked for one."""

    def __init__(self, mailbox: "Mailbox"):
        self.mailbox = mailbox

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.mailbox._planned("rcpt", address)
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        answer = self.mailbox._planned("data", ",".join(envelope.rcpt_tos))
        if answer:
            return answer
        self.mailbox._keep(envelope.mail_from, envelope.rcpt_tos, envelope.content)
        return "250 Message accepted for delivery"


class Mailbox:
    """What the SMTP server received, newest last; and the answers planned for the next messages."""

    def __init__(self):
        self._lock = threading.Lock()
        self._messages: list[ReceivedMessage] = []
        self._ids = itertools.count(1)
        self._plans: deque[tuple[str, str, str | None]] = deque()
        self.smtp_port = 0
        self.web_port = 0
        self._stop = lambda: None

    # --- what tests and the web page read -------------------------------------------------------------------------

    @property
    def smtp_url(self) -> str:
        return f"smtp://127.0.0.1:{self.smtp_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def messages(self, to: str | None = None) -> list[ReceivedMessage]:
        with self._lock:
            return [m for m in self._messages if to is None or to.lower() in (t.lower() for t in m.to)]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def fail_next(self, answer: str, stage: str = "data", times: int = 1, to: str | None = None) -> None:
        """Answer the next `times` messages (to `to`, if given) with `answer`, e.g. "421 4.3.2 Try again later" at
        DATA or "550 5.1.1 No such mailbox" at RCPT."""
        with self._lock:
            self._plans.extend([(stage, answer, to)] * times)

    # --- the SMTP side --------------------------------------------------------------------------------------------

    def _planned(self, stage: str, address: str) -> str | None:
        with self._lock:
            for plan in list(self._plans):
                if plan[0] == stage and (plan[2] is None or plan[2].lower() in address.lower()):
                    self._plans.remove(plan)
                    return plan[1]
        return None

    def _keep(self, sender: str, to: list[str], content: bytes) -> None:
        parsed = message_from_bytes(content, policy=policy.default)
        part = parsed.get_body(preferencelist=("plain", "html"))
        body = part.get_content().replace("\r\n", "\n") if part is not None else ""
        with self._lock:
            self._messages.append(ReceivedMessage(
                next(self._ids), sender, tuple(to), str(parsed.get("Subject", "")), body,
                str(parsed.get("Message-ID", "")), datetime.now(timezone.utc), dict(parsed.items())))

    def stop(self) -> None:
        """Stop both servers; once (a mailbox stopped by hand may be stopped again by its `with`)."""
        stop, self._stop = self._stop, lambda: None
        stop()

    def __enter__(self) -> "Mailbox":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _require_loopback(host: str) -> None:
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"the development mailbox listens on loopback addresses only, not {host!r}")


def _start_smtp(mailbox: Mailbox, host: str, port: int):
    loop = asyncio.new_event_loop()
    ready: dict = {}
    started = threading.Event()

    def run():
        asyncio.set_event_loop(loop)
        try:
            server = loop.run_until_complete(loop.create_server(
                lambda: SMTP(_Handler(mailbox), hostname="mailbox.localhost", loop=loop), host=host, port=port))
            ready["port"] = server.sockets[0].getsockname()[1]
            ready["server"] = server
        except BaseException as error:  # noqa: BLE001 - reported to the starting thread below
            ready["error"] = error
        started.set()
        if "server" in ready:
            loop.run_forever()
            ready["server"].close()
            loop.run_until_complete(ready["server"].wait_closed())
        loop.close()

    thread = threading.Thread(target=run, name="dev-smtp", daemon=True)
    thread.start()
    started.wait(10)
    if "error" in ready:
        raise ready["error"]

    def stop():
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)

    return ready["port"], stop


LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mailbox – {{ title }}</title>
<style>body{font-family:sans-serif;margin:2rem;max-width:60rem}table{border-collapse:collapse}
td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}pre{white-space:pre-wrap;font:inherit}</style>
</head><body><p><a href="/">All e-mail</a> · development mailbox: nothing here has left this machine</p>
<h1>{{ title }}</h1>{{ body }}</body></html>"""

LIST = """{% if messages %}<table><tr><th>Received</th><th>To</th><th>Subject</th></tr>
{% for m in messages %}<tr><td>{{ m.received_at.strftime("%Y-%m-%d %H:%M:%S") }} UTC</td>
<td>{{ m.to | join(", ") }}</td>
<td><a href="/messages/{{ m.id }}">{{ m.subject }}</a></td></tr>{% endfor %}</table>
{% else %}<p>No e-mail has arrived yet.</p>{% endif %}"""

ONE = """<p><strong>From:</strong> {{ m.sender }}<br><strong>To:</strong> {{ m.to | join(", ") }}<br>
<strong>Received:</strong> {{ m.received_at.strftime("%Y-%m-%d %H:%M:%S") }} UTC</p><pre>{{ body }}</pre>"""


def _linked(text: str) -> Markup:
    """The body, escaped, with each link a link to follow."""
    parts, last = [], 0
    for match in LINK.finditer(text):
        parts += [escape(text[last:match.start()]), Markup('<a href="{0}">{0}</a>').format(match.group())]
        last = match.end()
    return Markup("").join([*parts, escape(text[last:])])


def create_web(mailbox: Mailbox) -> Flask:
    web = Flask(__name__)

    def page(title: str, template: str, **context):
        body = Markup(render_template_string(template, **context))
        response = make_response(render_template_string(LAYOUT, title=title, body=body))
        response.headers["Content-Security-Policy"] = PAGE_POLICY
        return response

    @web.get("/")
    def index():
        return page("E-mail", LIST, messages=list(reversed(mailbox.messages())))

    @web.get("/messages/<int:message_id>")
    def one(message_id: int):
        found = next((m for m in mailbox.messages() if m.id == message_id), None)
        if found is None:
            abort(404)
        return page(found.subject, ONE, m=found, body=_linked(found.body))

    @web.get("/messages.json")
    def as_json():
        return jsonify([m.as_json() for m in mailbox.messages()])

    return web


def start_in_thread(host: str = "127.0.0.1", smtp_port: int = 0, web_port: int = 0) -> Mailbox:
    """The SMTP server and the web mailbox, each in a daemon thread; port 0 picks a free port."""
    _require_loopback(host)
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's every command, addresses included
    mailbox = Mailbox()
    mailbox.smtp_port, stop_smtp = _start_smtp(mailbox, host, smtp_port)
    try:
        server = make_server(host, web_port, create_web(mailbox), threaded=True)
    except BaseException:
        stop_smtp()
        raise
    mailbox.web_port = server.server_port
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="dev-mailbox",
                              daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        stop_smtp()

    mailbox._stop = stop
    return mailbox
