"""Throwaway PostgreSQL and Redis servers on a free loopback port, for tests of the production stack."""
import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis
from psycopg import sql

START_TIMEOUT = 30  # seconds; a cold cluster on a busy CI machine takes a few


class ServerError(RuntimeError):
    """A test server did not start; the message carries what it wrote."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bindir() -> Path:
    """Debian's newest server binaries, else whatever pg_config or PATH points at."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    if shutil.which("pg_config"):
        return Path(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip())
    if shutil.which("initdb"):
        return Path(shutil.which("initdb")).parent
    raise ServerError("PostgreSQL is not installed: no initdb (apt-get install postgresql)")


def _as_postgres() -> dict:
    """initdb and postgres refuse to run as root: as root, they run as Debian's postgres user."""
    return dict(user="postgres", group="postgres", extra_groups=[]) if os.geteuid() == 0 else {}


def _log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else "(no output)"


def _stop(process: subprocess.Popen, how: signal.Signals) -> None:
    if process.poll() is None:
        process.send_signal(how)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until(ready, process: subprocess.Popen, log: Path, name: str) -> None:
    """Poll `ready` until it answers; a server that exits or stays silent raises with what it wrote."""
    deadline = time.monotonic() + START_TIMEOUT
    while process.poll() is None:
        if ready():
            return
        if time.monotonic() > deadline:
            raise ServerError(f"{name} did not accept connections in {START_TIMEOUT} s:\n{_log_tail(log)}")
        time.sleep(0.05)
    raise ServerError(f"{name} exited with {process.returncode}:\n{_log_tail(log)}")


# Readiness is asked over the server's own unix socket: on the TCP port, a stranger that took it first could answer.
def _postgres_accepts(own_socket: dict) -> bool:
    try:
        psycopg.connect(connect_timeout=2, **own_socket).close()
        return True
    except psycopg.OperationalError:
        return False


def _redis_accepts(socket_path: Path) -> bool:
    with redis.Redis(unix_socket_path=str(socket_path), socket_timeout=2) as client:
        try:
            return client.ping()
        except redis.RedisError:
            return False


class _Server:
    """A server process of a test's own, in a work directory removed by `close()`; a context manager."""

    workdir: Path
    process: subprocess.Popen | None = None
    stop_signal = signal.SIGTERM

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self):
        raise NotImplementedError

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process, self.stop_signal)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()


class PostgresServer(_Server):
    """A cluster of its own, trusting local connections, with an empty `database`. `stop()` and `start()` keep its
    port and data directory, so clients reconnect to the same URL: an outage, or a restart that keeps the data.
    `stop()` is a fast shutdown (SIGINT): open connections are cut, as when the server goes away."""

    stop_signal = signal.SIGINT

    def __init__(self, database: str = "kivra_test"):
        self.database, self.bindir, self.run_as, self.port = database, postgres_bindir(), _as_postgres(), free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="kivra-postgres-"))
        if self.run_as:
            shutil.chown(self.workdir, "postgres", "postgres")
        self.data, self.log = self.workdir / "data", self.workdir / "postgres.log"
        self.process: subprocess.Popen | None = None
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"
        initdb = subprocess.run(
            [self.bindir / "initdb", "-D", self.data, "--auth=trust", "--username=postgres", "--encoding=UTF8",
             "--locale=C", "--no-sync"],
            cwd=self.workdir, capture_output=True, text=True, **self.run_as,
        )
        if initdb.returncode:
            self.close()
            raise ServerError(f"initdb exited with {initdb.returncode}:\n{initdb.stderr or initdb.stdout}")
        self._created = False

    def start(self) -> "PostgresServer":
        """Start (again) on the same port and data; the first start creates the database."""
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                [self.bindir / "postgres", "-D", self.data, "-p", str(self.port), "-k", self.workdir,
                 "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off"],
                cwd=self.workdir, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **self.run_as,
            )
        own_socket = dict(host=str(self.workdir), port=self.port, user="postgres", dbname="postgres")
        _wait_until(lambda: _postgres_accepts(own_socket), self.process, self.log, "postgres")
        if not self._created:
            with psycopg.connect(autocommit=True, **own_socket) as connection:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
            self._created = True
        return self



class RedisServer(_Server):
    """A Redis that keeps nothing on disk. `stop()` and `start()` keep its port, so clients reconnect to the same URL;
    `restart()` is a restart without persistence: the server comes back empty."""

    def __init__(self):
        if not shutil.which("redis-server"):
            raise ServerError("Redis is not installed: no redis-server (apt-get install redis-server)")
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="kivra-redis-"))
        self.log, self.unix_socket = self.workdir / "redis.log", self.workdir / "redis.sock"
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--unixsocket", self.unix_socket,
                 "--save", "", "--appendonly", "no", "--dir", self.workdir],
                cwd=self.workdir, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        _wait_until(lambda: _redis_accepts(self.unix_socket), self.process, self.log, "redis-server")
        return self

    def restart(self) -> "RedisServer":
        """Stop (Redis shuts down at once on SIGTERM, saving nothing with --save '') and start empty."""
        self.stop()
        return self.start()


@contextlib.contextmanager
def postgres_server(database="kivra_test"):
    """A throwaway cluster; yields a SQLAlchemy URL to an empty `database`."""
    with PostgresServer(database) as server:
        yield server.url


@contextlib.contextmanager
def redis_server():
    """A Redis that keeps nothing on disk; yields its URL."""
    with RedisServer() as server:
        yield server.url
