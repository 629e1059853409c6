"""The layers are contracts `lint-imports` checks (pyproject.toml, docs/architecture.md): they hold today, and they
catch a module that breaks them — run against a copy of the package with one bad import added."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=where, capture_output=True, text=True, timeout=120)


@pytest.fixture
def copy(tmp_path):
    """The package, the contracts and our own contract type, apart from the checkout."""
    shutil.copytree(ROOT / "kivra", tmp_path / "kivra", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").touch()
    shutil.copy(ROOT / "tests" / "import_contracts.py", tmp_path / "tests")
    return tmp_path


def add_import(copy: Path, module: str, line: str) -> None:
    path = copy / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = copy / module.replace(".", "/") / "__init__.py"
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_contracts_hold(copy):
    result = lint_imports(copy)
    assert result.returncode == 0, result.stdout
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("module, line, broken", [
    ("kivra.dispatch.engine", "from kivra.web import render  # noqa", "Layers"),
    ("kivra.dispatch.engine", "from kivra.web import render  # noqa", "Domain packages never import views"),
    ("kivra.sandbox.inbox", "from kivra.identity import luhn_valid  # noqa", "The Kivra API layer"),
    ("kivra.payroll.service", "from flask import request  # noqa", "never touch a request"),
    ("kivra.accounts.models", "from kivra import agreement  # noqa", "Layers"),
    ("kivra.web.dispatch.routes", "from kivra.web.payroll import runs  # noqa", "One blueprint per feature"),
    ("kivra.web.solutions.status", "from kivra.web.solutions import routes  # noqa", "share helpers, not each other"),
    ("kivra.dispatch.service", "from kivra.dispatch import access  # noqa", "No import cycles"),
])
def test_a_bad_import_breaks_its_contract(copy, module, line, broken):
    add_import(copy, module, line)
    result = lint_imports(copy)
    assert result.returncode != 0
    broken_section = result.stdout.split("Broken contracts", 1)[1]
    assert broken in broken_section.replace("\n", " "), result.stdout
