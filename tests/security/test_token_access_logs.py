"""Issue 17, item 12: one-time tokens (Min lön and colleague invitations, password resets, sign-up confirmations) never
reach an access log — gunicorn's (kivra.access_log.RedactingLogger), the development server's (`flask serve`: werkzeug's
request log) and nginx's (deploy/nginx-payroll.conf)."""
import logging
import threading
import time
from urllib.parse import urlsplit

import httpx
import pytest
from flask import url_for
from werkzeug.serving import make_server

from kivra.access_log import redact, redact_werkzeug_log
from kivra.portal import invitations
from tests.conftest import make_employee, make_user
from tests.test_behind_nginx import behind_nginx  # noqa: F401 (the fixture)

SECRET = "eyJlbXBsb3llZSI6MTd9.Zx9-secret_Token"
TOKEN_PATHS = ["/min-lon/invitation/{}", "/users/invitation/{}", "/reset-password/{}", "/min-lon/reset-password/{}",
               "/registrera/bekrafta/{}"]


@pytest.mark.parametrize("endpoint", ["portal.invitation", "users.invitation", "accounts.reset_password",
                                      "portal.reset_password", "signup.confirm"])
def test_every_token_route_is_redacted(app, endpoint):
    """The app's own URLs for every route that takes a token, as a request line in any access log."""
    with app.test_request_context():
        path = url_for(endpoint, token=SECRET)
    assert redact(f'"GET {path} HTTP/1.1" 200') == f'"GET {path.replace(SECRET, "[redacted]")} HTTP/1.1" 200'


@pytest.fixture
def served(app):
    """The test's app behind werkzeug's server, as `flask serve` runs it (with its request log redacted)."""
    redact_werkzeug_log()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


def test_following_a_real_invitation_link_logs_no_token(app, company, served, caplog):
    user = make_user(company)
    invitation = invitations.invite(make_employee(company), user)
    path = urlsplit(invitation.link).path
    token = path.rsplit("/", 1)[1]
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        page = httpx.get(served + path)
        for template in TOKEN_PATHS:
            httpx.get(served + template.format(SECRET), headers={"Referer": served + path})
    assert page.status_code == 200
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "werkzeug")
    assert "/min-lon/invitation/[redacted]" in logged and "/registrera/bekrafta/[redacted]" in logged
    assert token not in logged and SECRET not in logged


def test_nginx_logs_no_token(behind_nginx, tmp_path_factory):  # noqa: F811 (the fixture)
    _http, https = behind_nginx
    for template in TOKEN_PATHS:
        httpx.get(https + template.format(SECRET), verify=False,
                  headers={"Referer": https + "/min-lon/invitation/" + SECRET})
    port = https.rsplit(":", 1)[1]  # the fixture's work folder is the one whose site listens on this port
    work = next(site.parent for site in tmp_path_factory.getbasetemp().glob("nginx*/site.conf")
                if f"127.0.0.1:{port} ssl" in site.read_text())
    deadline = time.monotonic() + 10  # nginx writes a line once the response is sent
    while "bekrafta" not in (written := (work / "payroll.access.log").read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert written.count("[redacted]") == 2 * len(TOKEN_PATHS), written
    assert SECRET not in written and "Zx9" not in written
