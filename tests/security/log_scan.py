"""A pytest plugin: no personnummer in any log line of the whole run. Every record any logger emits in the test
process (message and traceback) is scanned, and so are the log files the real processes write under this run's
temporary folder (gunicorn, workers, `flask serve`, the sandbox, migrations: tests/reliability, tests/lifecycle,
test_access_log, test_behind_nginx); a personnummer-shaped string (a plausible date and a valid Luhn digit) fails the
run at its end, naming the line and the test that logged it. Registered in tests/conftest.py (`pytest_plugins`)."""
import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from kivra.identity import luhn_valid

# YYYYMMDD or YYMMDD, then - or + or nothing, then four digits; no digit or ASCII letter either side, so the digits
# inside a hex digest or a token are not read as one.
SHAPE = re.compile(r"(?<![0-9A-Za-z])((?:18|19|20)?\d{6})([-+]?)(\d{4})(?![0-9A-Za-z])")
# Third-party servers' logs: their DETAIL lines are their operator's to configure (docs/security.md).
NOT_OURS = ("postgres.log", "redis.log")


def personnummer_in(text: str) -> list[str]:
    """Every personnummer-shaped string in `text`: a real date (day + 60 for a samordningsnummer) and a valid Luhn
    digit, so ids, timestamps and organisationsnummer (month 20 or more) do not count."""
    found = []
    for match in SHAPE.finditer(text):
        birth, _sign, last_four = match.groups()
        yymmdd = birth[-6:]
        month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
        day = day - 60 if day > 60 else day
        year = int(birth[:4]) if len(birth) == 8 else 2000 + int(yymmdd[:2])
        try:
            date(year, month, day)
        except ValueError:
            continue
        if luhn_valid(yymmdd + last_four):
            found.append(match.group(0))
    return found


@dataclass(frozen=True)
class Leak:
    where: str  # the test's id, or the log file
    line: str


class LeakCollector(logging.Handler):
    """On the root logger for the whole session: keeps every formatted record that carries a personnummer."""

    def __init__(self):
        super().__init__(level=logging.NOTSET)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.leaks: list[Leak] = []
        self.test = "(outside a test)"

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a record that cannot be formatted is logging's own complaint, not ours to hide
            return
        if personnummer_in(line):
            self.leaks.append(Leak(self.test, line))


def _checked_elsewhere(relative: Path) -> bool:
    """The scanner's own tests: their planted leaks (under `expected-leaks/`), and a run pytester nests
    (`runpytest-N/`), which scans itself."""
    return any(part == "expected-leaks" or part.startswith("runpytest-") for part in relative.parts[:-1])


def scan_files(folder: Path) -> list[Leak]:
    leaks = []
    for path in sorted(folder.rglob("*")):
        if path.suffix not in (".log", ".out", ".err") or path.name in NOT_OURS or not path.is_file():
            continue
        if _checked_elsewhere(path.relative_to(folder)):
            continue
        for line in path.read_text(errors="replace").splitlines():
            if personnummer_in(line):
                leaks.append(Leak(str(path), line))
    return leaks


def failing(leaks: list[Leak], exitstatus: int) -> int:
    """The run's exit status: a leak fails a run that otherwise passed; any other failure keeps its own status."""
    return pytest.ExitCode.TESTS_FAILED if leaks and exitstatus == pytest.ExitCode.OK else exitstatus


COLLECTOR = LeakCollector()


def pytest_sessionstart(session):
    logging.getLogger().addHandler(COLLECTOR)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    # Alembic's fileConfig (migrations/env.py) replaces the root logger's handlers: put the collector back each time.
    root = logging.getLogger()
    if COLLECTOR not in root.handlers:
        root.addHandler(COLLECTOR)
    COLLECTOR.test = item.nodeid
    yield
    COLLECTOR.test = "(between tests)"


def pytest_sessionfinish(session, exitstatus):
    logging.getLogger().removeHandler(COLLECTOR)
    leaks = list(COLLECTOR.leaks)
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None and factory._basetemp is not None:  # no test asked for a tmp_path: nothing written
        leaks += scan_files(factory.getbasetemp())
    session.config.stash[LEAKS] = leaks
    session.exitstatus = failing(leaks, exitstatus)


LEAKS = pytest.StashKey[list]()


def pytest_terminal_summary(terminalreporter, config):
    leaks = config.stash.get(LEAKS, [])
    if leaks:
        terminalreporter.section("personnummer in the logs", red=True)
        for leak in leaks[:200]:
            terminalreporter.write_line(f"{leak.where}: {leak.line[:500]}")
        terminalreporter.write_line(f"{len(leaks)} log line(s) with a personnummer: the run fails")
