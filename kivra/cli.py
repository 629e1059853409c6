"""Command-line tasks: `flask demo` and `flask translations`."""
import subprocess
import sys
from pathlib import Path

import click

from kivra import ROOT, demo


def init_app(app) -> None:
    @app.cli.command("demo")
    def demo_command():
        """Create Demo AB with users, employees and a calculated payroll run (once)."""
        created = demo.seed()
        click.echo("Demo data created." if created else "Demo data already present.")

    @app.cli.group()
    def translations():
        """Extract, update and compile the Swedish catalogue."""

    def pybabel(*args):
        subprocess.run([str(Path(sys.executable).parent / "pybabel"), *args], check=True, cwd=ROOT)

    @translations.command()
    def update():
        """Extract messages and merge them into translations/sv."""
        pybabel("extract", "-F", "babel.cfg", "-k", "_l", "--no-location", "--sort-output",
                "-o", "messages.pot", ".")
        if (ROOT / "translations/sv/LC_MESSAGES/messages.po").exists():
            pybabel("update", "-i", "messages.pot", "-d", "translations", "-l", "sv", "--no-wrap", "--ignore-obsolete")
        else:
            pybabel("init", "-i", "messages.pot", "-d", "translations", "-l", "sv", "--no-wrap")

    @translations.command()
    def compile():
        """Compile translations/sv to the .mo file the app reads."""
        pybabel("compile", "-d", "translations", "--statistics")
