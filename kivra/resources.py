"""Where the app's files are: templates, static, translations and migrations."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def resource_dir(name: str) -> Path:
    """templates, static, translations or migrations: at the top of a source checkout, or inside the package when
    installed from a wheel (kivra/_templates, …; see setup.py)."""
    installed = Path(__file__).resolve().parent / f"_{name}"
    return installed if installed.is_dir() else ROOT / name
