"""The locks (requirements/*.txt, docs/dependencies.md): scripts/start, scripts/test and so CI install exact, hashed
versions from them, and a lock that pyproject.toml has outgrown stops the install and says what to run."""
import importlib.metadata
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ["app", "test", "bench"]  # bench: the benchmarks' (Locust), never installed by the tests or CI
NEW_DEPENDENCY = ('"prometheus-client>=0.20,<1",', '"prometheus-client>=0.20,<1",\n    "tenacity>=8,<10",')


@pytest.fixture(scope="module")
def check_lock():
    """scripts/check_lock.py: a script the install scripts run, loaded here as a module."""
    path = ROOT / "scripts" / "check_lock.py"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing"
    spec = importlib.util.spec_from_file_location("check_lock", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def copy_of_the_repository(tmp_path: Path, old: str = "", new: str = "") -> Path:
    """What the install reads (pyproject.toml, requirements/, scripts/), with `old` replaced by `new` in pyproject."""
    root = tmp_path / "checkout"
    root.mkdir()
    for folder in ["requirements", "scripts"]:
        if (ROOT / folder).exists():
            shutil.copytree(ROOT / folder, root / folder)
    text = (ROOT / "pyproject.toml").read_text()
    assert old in text
    (root / "pyproject.toml").write_text(text.replace(old, new, 1))
    return root


@pytest.mark.parametrize("lock", LOCKS)
def test_every_requirement_of_pyproject_is_pinned_with_hashes_and_the_pin_is_in_its_range(check_lock, lock):
    assert check_lock.problems(ROOT, lock) == []


@pytest.mark.parametrize(("smaller", "larger"), [("app", "test"), ("test", "bench")])
def test_each_lock_has_the_version_of_the_lock_it_builds_on_for_every_package_they_share(check_lock, smaller, larger):
    """The tests run the app's versions; the benchmarks run the tests' (they start the app and tests/servers.py)."""
    small, large = (check_lock.pins(ROOT / "requirements" / f"{lock}.txt") for lock in (smaller, larger))
    missing = small.keys() - large.keys()
    assert not missing, f"the {smaller} lock has what {larger} never installs: {missing}"
    differ = {name: (small[name], large[name]) for name in small if small[name] != large[name]}
    assert not differ, f"{smaller} lock vs {larger} lock: {differ}"


def test_the_tests_install_never_installs_the_benchmarks_tools(check_lock):
    assert "bench" not in check_lock.LOCKS["test"]
    assert "locust" not in check_lock.pins(ROOT / "requirements" / "test.txt")


def test_the_locks_name_no_index_and_no_host():
    for lock in LOCKS:
        text = (ROOT / "requirements" / f"{lock}.txt").read_text()
        assert "://" not in text, lock
        options = [line for line in text.splitlines() if re.match(r"\s*(-i|-f|--index-url|--extra-index-url|"
                                                                   r"--find-links|--trusted-host)\b", line)]
        assert not options, f"{lock}: {options}"


def test_this_virtualenv_holds_exactly_the_versions_of_the_test_lock(check_lock):
    locked = check_lock.pins(ROOT / "requirements" / "test.txt")
    installed = {canonicalize_name(dist.metadata["Name"]): Version(dist.version)
                 for dist in importlib.metadata.distributions()}
    wrong = {name: f"locked {version}, installed {installed.get(name)}"
             for name, version in locked.items() if installed.get(name) != version}
    assert not wrong, f"{wrong}: `bash scripts/test` installs requirements/test.txt"


def test_a_dependency_added_to_pyproject_but_not_to_the_lock_is_named(check_lock, tmp_path):
    root = copy_of_the_repository(tmp_path, *NEW_DEPENDENCY)
    for lock in LOCKS:
        assert any("tenacity>=8,<10" in problem and "not in" in problem
                   for problem in check_lock.problems(root, lock)), lock


def test_a_test_dependency_not_in_the_test_lock_is_named_for_that_lock_only(check_lock, tmp_path):
    root = copy_of_the_repository(tmp_path, '"pyyaml>=6,<7",', '"pyyaml>=6,<7",\n    "locust>=2,<3",')
    assert check_lock.problems(root, "app") == []
    assert any("locust" in problem for problem in check_lock.problems(root, "test"))


def test_a_range_that_the_pin_no_longer_meets_is_named(check_lock, tmp_path):
    root = copy_of_the_repository(tmp_path, '"httpx>=0.28,<0.29",', '"httpx>=0.29,<0.30",')
    pinned = check_lock.pins(root / "requirements" / "app.txt")[canonicalize_name("httpx")]
    for lock in LOCKS:
        assert any("httpx>=0.29,<0.30" in problem and str(pinned) in problem
                   for problem in check_lock.problems(root, lock)), lock


def test_a_pin_without_hashes_is_named(check_lock, tmp_path):
    root = copy_of_the_repository(tmp_path)
    lock = root / "requirements" / "app.txt"
    text, count = re.subn(r"(\nhttpx==[^ \n]+)( \\\n\s+--hash=[^\n]+?)+(\n)", r"\1\3", lock.read_text())
    assert count == 1
    lock.write_text(text)
    assert any("httpx" in problem and "hash" in problem for problem in check_lock.problems(root, "app"))


@pytest.mark.parametrize(("script", "lock"), [("start", "app"), ("test", "test")])
def test_the_readme_commands_stop_before_installing_when_the_lock_is_stale(tmp_path, script, lock):
    """A scratch .venv sees this virtualenv's packages through a .pth file: nothing is downloaded, nothing of this
    virtualenv is touched, and whatever the script installs lands in the scratch one."""
    root = copy_of_the_repository(tmp_path, *NEW_DEPENDENCY)
    scratch = root / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(scratch)], check=True, timeout=60)
    (site_packages,) = scratch.glob("lib/python3*/site-packages")
    (site_packages / "this_virtualenv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {name: value for name, value in os.environ.items() if not name.startswith(("APP_ENV", "FLASK_", "PORT"))}
    env["PORT"] = str(free_port())

    process = subprocess.Popen(["bash", f"scripts/{script}", "--co", "-q"], cwd=root, env=env, text=True,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"scripts/{script} went on past a stale lock:\n{stdout[-2000:]}\n{stderr[-2000:]}")

    assert process.returncode != 0, stdout[-2000:]
    assert f"requirements/{lock}.txt" in stderr and "tenacity>=8,<10" in stderr, stderr[-2000:]
    assert "bash scripts/lock" in stderr, stderr[-2000:]
    installed = sorted(path.name for path in site_packages.iterdir() if path.name != "this_virtualenv.pth")
    assert not installed, f"installed past a stale lock: {installed}"
