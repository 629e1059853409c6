"""Security headers on every response of the app, in one `after_request`.

Not Flask-Talisman: the headers are four fixed strings, and Talisman's other work is done here already or must not
be (HSTS and plain-HTTP handling in kivra/proxy.py, cookie flags in kivra/config.py; its HTTPS redirect would hide
the page that says a proxy is misconfigured).

The policy allows only this site's own files: no inline script or style (htmx is configured for it in base.html's
`htmx-config`: no indicator <style>, no eval), no plugins, no <base>, forms post only here, and no site may frame a
page. Every dynamic response is `no-store`: a signed-in page shows pay or a personnummer, and a sign-in page carries
a CSRF token; static files keep their caching.
"""
from flask import request

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "object-src 'none'",
    "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def secure_headers(response):
    """The policy and its companions (a view may set its own), and no caching of anything but static files."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static" and "no-store" not in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app) -> None:
    app.after_request(secure_headers)
