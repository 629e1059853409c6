"""deploy/nginx-payroll.conf as shipped, in front of gunicorn with TRUSTED_PROXIES=1: plain HTTP is redirected,
signing in over HTTPS works (Secure cookie, CSRF with its Referer check, HSTS), and the client cannot pose as HTTPS."""
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from werkzeug.security import generate_password_hash

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
CSRF_INPUT = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
PASSWORD = "correct horse battery"


def site_config(work: Path, http_port: int, https_port: int, app_port: int) -> str:
    """The shipped file with this machine's ports and a throwaway certificate; nothing else changed."""
    text = (ROOT / "deploy" / "nginx-payroll.conf").read_text()
    text = re.sub(r"\n\s*listen \[::\]:\d+[^\n]*", "", text)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    text = text.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    text = text.replace("/etc/letsencrypt/live/payroll.example.se/fullchain.pem", str(work / "cert.pem"))
    text = text.replace("/etc/letsencrypt/live/payroll.example.se/privkey.pem", str(work / "key.pem"))
    text = text.replace("/var/log/nginx/payroll.access.log", str(work / "payroll.access.log"))
    assert "127.0.0.1:8000" in text
    return text.replace("127.0.0.1:8000", f"127.0.0.1:{app_port}")


def main_config(work: Path) -> str:
    temp = " ".join(f"{kind}_temp_path {work / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"pid {work / 'nginx.pid'};\nerror_log {work / 'error.log'};\nevents {{}}\n"
            f"http {{ access_log {work / 'access.log'}; {temp} include {work / 'site.conf'}; }}\n")


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=2, verify=False)
            return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def behind_nginx(tmp_path_factory):
    """gunicorn on a loopback port, nginx with the shipped site in front; yields (http, https) base URLs."""
    tmp_path = tmp_path_factory.mktemp("nginx")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is not installed (apt-get install nginx; scripts/test does)"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=payroll.example.se", "-keyout", tmp_path / "key.pem", "-out", tmp_path / "cert.pem"],
                   check=True, capture_output=True)
    http_port, https_port, app_port = free_port(), free_port(), free_port()
    (tmp_path / "site.conf").write_text(site_config(tmp_path, http_port, https_port, app_port))
    (tmp_path / "nginx.conf").write_text(main_config(tmp_path))
    env = {"PATH": "/usr/bin:/bin", "APP_ENV": "production", "SECRET_KEY": "nginx-test-key-of-at-least-32-characters", "TRUSTED_PROXIES": "1",
           "KIVRA_API_URL": "http://127.0.0.1:9", "KIVRA_CLIENT_ID": "-", "KIVRA_CLIENT_SECRET": "-",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'payroll.db'}", "INSTANCE_PATH": str(tmp_path / "instance"),
           "HUEY_SQLITE_PATH": str(tmp_path / "queue.db"), "RATELIMIT_ENABLED": "false", "PYTHONUNBUFFERED": "1",
           "SMTP_URL": "smtp://127.0.0.1:9", "PUBLIC_URL": f"https://127.0.0.1:{https_port}"}
    subprocess.run([sys.executable, "-m", "flask", "--app", "kivra", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    subprocess.run([sys.executable, "-c", make_user_script()], cwd=ROOT, env=env, check=True, capture_output=True)
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as output:
        app = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{app_port}",
                                "kivra:create_app()"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    proxy = None
    try:
        wait_for(f"http://127.0.0.1:{app_port}/healthz", app, log)
        proxy = subprocess.Popen([nginx, "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
                                  "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for(f"https://127.0.0.1:{https_port}/healthz", proxy, tmp_path / "error.log")
        yield f"http://127.0.0.1:{http_port}", f"https://127.0.0.1:{https_port}"
    finally:
        for process in (proxy, app):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


def make_user_script() -> str:
    return (
        "from decimal import Decimal\nfrom kivra import create_app\nfrom kivra.extensions import db\n"
        "from kivra.accounts.models import Company, User\n"
        "with create_app().app_context():\n"
        "    c = Company(name='Proxy AB', orgnr='5568402266', employer_contribution_rate=Decimal('31.42'))\n"
        "    db.session.add(User(company=c, role='admin', email='anna@proxy.se', name='Anna', locale='sv',\n"
        f"                        password_hash={generate_password_hash(PASSWORD, method='pbkdf2:sha256:1000')!r}))\n"
        "    db.session.commit()\n"
    )


def test_plain_http_is_sent_to_https(behind_nginx):
    http, _https = behind_nginx
    response = httpx.get(f"{http}/login", timeout=10)
    assert response.status_code == 301 and response.headers["Location"].startswith("https://")


def test_signing_in_over_https_through_the_proxy(behind_nginx):
    _http, https = behind_nginx
    with httpx.Client(base_url=https, verify=False, timeout=10) as browser:
        page = browser.get("/login")
        assert "Secure" in page.headers["Set-Cookie"]
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        token = CSRF_INPUT.search(page.text).group(1)
        signed_in = browser.post("/login", data={"email": "anna@proxy.se", "password": PASSWORD, "csrf_token": token},
                                 headers={"Referer": f"{https}/login"})
        assert signed_in.status_code == 303, signed_in.text
        assert signed_in.headers["Location"].endswith("/runs")
        assert browser.get("/runs").status_code == 200


def test_the_scheme_is_the_one_nginx_saw_not_the_one_the_client_claims(behind_nginx):
    """nginx overwrites X-Forwarded-Proto: a client's own header changes nothing."""
    _http, https = behind_nginx
    response = httpx.get(f"{https}/healthz", headers={"X-Forwarded-Proto": "http"}, verify=False, timeout=10)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")  # still HTTPS to the app
