"""gunicorn's access log, as the production command runs it (`--access-logfile -` with the app's logger class):
every request is logged, and no invitation or reset token in a path, a query or a referer reaches it."""
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kivra.access_log import redact
from tests.reliability.processes import ROOT, child_env

SECRET = "eyJlbXBsb3llZSI6MTd9.Zx9-secret_Token"


@pytest.mark.parametrize(("logged", "shown"), [
    (f"GET /min-lon/invitation/{SECRET} HTTP/1.1", "GET /min-lon/invitation/[redacted] HTTP/1.1"),
    (f"/min-lon/invitation/{SECRET}?next=%2F", "/min-lon/invitation/[redacted]?next=%2F"),
    (f"POST /password/reset/{SECRET} HTTP/1.1", "POST /password/reset/[redacted] HTTP/1.1"),
    (f"/x?reset_token={SECRET}&lang=sv", "/x?reset_token=[redacted]&lang=sv"),
    (f"https://lon.example/min-lon/invite?token={SECRET}", "https://lon.example/min-lon/invite?token=[redacted]"),
    ("GET /runs/12/send HTTP/1.1", "GET /runs/12/send HTTP/1.1"),
])
def test_tokens_are_redacted_wherever_they_are_in_a_url(logged, shown):
    assert redact(logged) == shown


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_production_gunicorn_command_logs_requests_without_tokens(tmp_path):
    port, log = free_port(), tmp_path / "access.log"
    env = child_env(APP_ENV="testing", SECRET_KEY="access-log", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}",
                    HUEY_SQLITE_PATH=str(tmp_path / "queue.db"))
    command = [str(Path(sys.executable).parent / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}",
               "--logger-class", "kivra.access_log.RedactingLogger", "--access-logfile", str(log), "app:app"]
    with open(tmp_path / "gunicorn.out", "wb") as output:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.out").read_text()
                time.sleep(0.1)
        httpx.get(f"http://127.0.0.1:{port}/min-lon/invitation/{SECRET}?token={SECRET}",
                  headers={"Referer": f"http://127.0.0.1:{port}/min-lon/invitation/{SECRET}"})
        deadline = time.monotonic() + 10
        while "invitation" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "no access log line within 10 s"
            time.sleep(0.05)
    finally:
        server.terminate()
        server.wait(timeout=30)
    written = log.read_text()
    assert "/healthz" in written and "GET /min-lon/invitation/[redacted]?token=[redacted] HTTP/1.1" in written
    assert SECRET not in written and "Zx9" not in written
