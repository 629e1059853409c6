"""Running behind a TLS-terminating proxy: which forwarded headers to believe, HSTS, and noticing the plain-HTTP
request whose Secure session cookie the browser dropped."""
from flask import Flask, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    """Believe X-Forwarded-For and X-Forwarded-Proto from TRUSTED_PROXIES proxies (none by default: anyone can send
    them). The Host header is the proxy's to pass on as it came."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)
    app.after_request(_strict_transport_security)


def _strict_transport_security(response):
    """Once a browser has reached production over HTTPS, it never tries plain HTTP there again."""
    seconds = current_app.config.get("HSTS_SECONDS", 0)
    if current_app.config["APP_ENV"] == "production" and request.is_secure and seconds:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={seconds}")
    return response


def session_cookie_dropped() -> bool:
    """This request came over plain HTTP while the session cookie is Secure, and without it: the browser never kept
    the cookie, so no form can pass its CSRF check until the site is opened over HTTPS (or the proxy says it was)."""
    config = current_app.config
    return (config["SESSION_COOKIE_SECURE"] and not request.is_secure
            and config["SESSION_COOKIE_NAME"] not in request.cookies)
