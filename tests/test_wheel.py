"""The wheel is the app: built from a copy of the repository, installed into a bare folder and served from there,
outside the repository, with nothing read from the source checkout."""
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port

pytestmark = pytest.mark.wheel
ROOT = Path(__file__).resolve().parents[1]
# Not part of a build: the virtualenv, build leftovers (a stale build/lib would leak into the wheel), local data.
NOT_SOURCE = shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "instance", "test-artifacts",
                                    "__pycache__", ".pytest_cache")
EXPECTED_IN_WHEEL = [
    "kivra/__init__.py",
    "kivra/_templates/base.html",
    "kivra/_templates/accounts/login.html",
    "kivra/_templates/solutions/agreement_texts/2026.1.sv.html",
    "kivra/_static/vendor/htmx-2.0.11.min.js",
    "kivra/_static/css/app.css",
    "kivra/_translations/sv/LC_MESSAGES/messages.mo",
    "kivra/_migrations/env.py",
    "kivra/_migrations/alembic.ini",
    "kivra/_migrations/script.py.mako",
    "kivra/_migrations/versions/0001_initial.py",
    "kivra/payroll/fonts/DejaVuSans-Bold-subset.ttf",
]


def run(args: list[str], cwd: Path, env: dict | None = None, timeout: float = 300) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)}: {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """`pip wheel` of a clean copy of the repository, with this virtualenv's setuptools (no download)."""
    source = tmp_path_factory.mktemp("source") / "kivra-payroll"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-cache-dir", "-q",
         "-w", str(out), "."], cwd=source)
    (built,) = out.glob("kivra_payroll-*.whl")
    return built


def test_wheel_holds_templates_static_files_translations_migrations_and_fonts(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in EXPECTED_IN_WHEEL if name not in names]
    assert not missing, f"not in the wheel: {missing}"
    agreement_texts = {n for n in names if n.startswith("kivra/_templates/solutions/agreement_texts/")}
    assert len(agreement_texts) >= 2, agreement_texts
    stray = [n for n in names if n.startswith(("templates/", "static/", "tests/", "app.py"))]
    assert not stray, f"outside the package: {stray}"


def test_the_installed_wheel_migrates_and_serves_the_app(wheel, tmp_path):
    target, outside = tmp_path / "site", tmp_path / "elsewhere"
    outside.mkdir()
    run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-cache-dir", "-q", "--target", str(target),
         str(wheel)], cwd=outside)
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("HUEY_", "REDIS_URL", "DATABASE_URL", "KIVRA_", "APP_ENV", "SECRET_KEY"))}
    env.update(
        PYTHONPATH=str(target), PYTHONUNBUFFERED="1", APP_ENV="development", SECRET_KEY="wheel-test",
        INSTANCE_PATH=str(tmp_path / "instance"), DATABASE_URL=f"sqlite:///{tmp_path / 'payroll.db'}",
        HUEY_SQLITE_PATH=str(tmp_path / "queue.db"),
    )
    where = run([sys.executable, "-c", "import kivra; print(kivra.__file__)"], cwd=outside, env=env).strip()
    assert Path(where).is_relative_to(target), f"kivra was imported from {where}, not from the installed wheel"

    run([sys.executable, "-m", "flask", "--app", "kivra", "db", "upgrade"], cwd=outside, env=env)
    assert (tmp_path / "payroll.db").stat().st_size > 0

    port = free_port()
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as output:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
                                   "kivra:create_app()"], cwd=outside, env=env, stdin=subprocess.DEVNULL,
                                  stdout=output, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        health = _first_answer(f"{url}/healthz", server, log)
        assert health.status_code == 200 and health.json()["database"] == "ok", health.text
        login = httpx.get(f"{url}/login", headers={"Accept-Language": "sv"}, timeout=10)
        assert login.status_code == 200
        assert '<html lang="sv">' in login.text and "Logga in" in login.text
        htmx = httpx.get(f"{url}/static/vendor/htmx-2.0.11.min.js", timeout=10)
        assert htmx.status_code == 200 and "htmx" in htmx.text
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not list(target.glob("instance")) and not (target / "kivra" / "instance").exists(), "wrote into the install"


def _first_answer(url: str, server: subprocess.Popen, log: Path, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"gunicorn did not answer:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
