"""Fixtures for tests with real processes: each is stopped when its test ends, whatever the outcome."""
import pytest

from kivra.extensions import db
from tests import servers
from tests.reliability.processes import Processes, Sandbox
from tests.reliability.scenario import make_app


@pytest.fixture
def processes():
    started = Processes()
    try:
        yield started
    finally:
        started.stop_all()
        print(started.report())  # pytest shows it only when the test failed


@pytest.fixture
def start_sandbox(processes, tmp_path):
    """Start `python -m kivra.sandbox` with these options (faults, seed) on a port of its choosing."""
    def start(*options: str) -> Sandbox:
        return processes.start(Sandbox(tmp_path / "sandbox.log", *options))

    return start


@pytest.fixture
def app_on():
    """The test process's app on the workers' database; its connections are closed when the test ends."""
    made = []

    def make(database_url: str, sandbox: Sandbox):
        made.append(make_app(database_url, sandbox.url))
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def own_postgres():
    """A PostgreSQL of this test's own, for a test that stops and starts it (the session's server is shared)."""
    with servers.PostgresServer() as server:
        yield server


@pytest.fixture
def own_redis():
    """A Redis of this test's own, for a test that stops or restarts it (the session's server is shared)."""
    with servers.RedisServer() as server:
        yield server
