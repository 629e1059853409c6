"""A recipient's-eye view of what arrived: `/_sandbox/inbox`, one page per recipient, the files themselves."""
from collections import defaultdict

from flask import Blueprint, abort, make_response, render_template_string
from markupsafe import Markup

from kivra.sandbox.auth import state
from kivra.sandbox.state import StoredContent, mask

bp = Blueprint("inbox", __name__, url_prefix="/_sandbox")

PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
# Sent HTML may carry inline styles and embedded images, never scripts (Kivra forbids them; the sandbox makes sure).
SENT_HTML_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
                    "script-src 'none'; sandbox")

LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kivra sandbox – {{ title }}</title>
<style>body{font-family:sans-serif;margin:2rem}table{border-collapse:collapse}td,th{padding:.3rem .8rem;
border-bottom:1px solid #ddd;text-align:left}</style></head><body>
<p><a href="/_sandbox/inbox">All recipients</a></p><h1>{{ title }}</h1>{{ body }}</body></html>"""

RECIPIENTS = """{% if recipients %}<table><tr><th>Recipient</th><th>Kind</th><th>Contents</th></tr>
{% for r in recipients %}<tr><td><a href="/_sandbox/inbox/{{ r.id }}">{{ r.label }}</a></td><td>{{ r.kind }}</td>
<td>{{ r.count }}</td></tr>{% endfor %}</table>{% else %}<p>Nothing has been sent yet.</p>{% endif %}"""

CONTENTS = """<table><tr><th>Subject</th><th>Sender</th><th>Type</th><th>Received</th><th>State</th><th>Files</th></tr>
{% for c in contents %}<tr><td>{{ c.subject }}</td><td>{{ c.sender }}</td><td>{{ c.type }}</td>
<td>{{ c.received_at }}</td><td>{{ c.state }}</td><td>
{% if c.pdf %}<a href="/_sandbox/content/{{ c.key }}.pdf">PDF</a>{% endif %}
{% if c.html %}<a href="/_sandbox/content/{{ c.key }}.html">HTML</a>{% endif %}</td></tr>{% endfor %}</table>"""


def _page(title: str, body_template: str, **context):
    body = Markup(render_template_string(body_template, **context))  # already escaped by autoescape
    response = make_response(render_template_string(LAYOUT, title=title, body=body))
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


def _by_recipient() -> dict[str, list[StoredContent]]:
    sandbox = state()
    grouped: dict[str, list[StoredContent]] = defaultdict(list)
    with sandbox.lock:
        for stored in sandbox.contents.values():
            grouped[stored.recipient].append(stored)
    return grouped


@bp.get("/inbox")
def recipients():
    sandbox = state()
    rows = [
        {"id": sandbox.recipient_id(who), "label": mask(who), "kind": items[0].recipient_type, "count": len(items)}
        for who, items in _by_recipient().items()
    ]
    return _page("Inboxes", RECIPIENTS, recipients=rows)


@bp.get("/inbox/<recipient_id>")
def recipient_inbox(recipient_id: str):
    sandbox = state()
    matches = [(who, items) for who, items in _by_recipient().items() if sandbox.recipient_id(who) == recipient_id]
    if not matches:
        abort(404)
    who, items = matches[0]
    rows = [
        {"key": c.key, "subject": c.subject, "sender": sandbox.tenant_name(c.tenant_key), "type": c.type,
         "received_at": c.received_at, "pdf": c.pdf is not None, "html": c.html is not None,
         "state": f"retained {c.retention_days} days" if c.retained else "delivered"}
        for c in reversed(items)
    ]
    return _page(f"Inbox of {mask(who)}", CONTENTS, contents=rows)


def _stored(key: str) -> StoredContent:
    with state().lock:
        stored = state().contents.get(key)
    if stored is None:
        abort(404)
    return stored


def _part(key: str, kind: str, headers: dict):
    """One stored part of a content, served as Kivra's recipient would see it."""
    body = getattr(_stored(key), kind)
    if body is None:
        abort(404)
    response = make_response(body)
    response.headers.update({"X-Content-Type-Options": "nosniff", **headers})
    return response


@bp.get("/content/<key>.pdf")
def content_pdf(key: str):
    return _part(key, "pdf", {"Content-Type": "application/pdf", "Content-Disposition": "inline"})


@bp.get("/content/<key>.html")
def content_html(key: str):
    return _part(key, "html", {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": SENT_HTML_POLICY})
