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


@contextlib.contextmanager
def postgres_server(database="kivra_test"):
    """A cluster of its own, trusting local connections; yields a SQLAlchemy URL to an empty `database`."""
    bindir, run_as, port = postgres_bindir(), _as_postgres(), free_port()
    workdir = Path(tempfile.mkdtemp(prefix="kivra-postgres-"))
    if run_as:
        shutil.chown(workdir, "postgres", "postgres")
    data, log = workdir / "data", workdir / "postgres.log"
    try:
        initdb = subprocess.run(
            [bindir / "initdb", "-D", data, "--auth=trust", "--username=postgres", "--encoding=UTF8", "--locale=C",
             "--no-sync"],
            cwd=workdir, capture_output=True, text=True, **run_as,
        )
        if initdb.returncode:
            raise ServerError(f"initdb exited with {initdb.returncode}:\n{initdb.stderr or initdb.stdout}")
        with open(log, "wb") as output:
            server = subprocess.Popen(
                [bindir / "postgres", "-D", data, "-p", str(port), "-k", workdir,
                 "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off"],
                cwd=workdir, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **run_as,
            )
        try:
            own_socket = dict(host=str(workdir), port=port, user="postgres", dbname="postgres")
            _wait_until(lambda: _postgres_accepts(own_socket), server, log, "postgres")
            with psycopg.connect(autocommit=True, **own_socket) as connection:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"
        finally:
            _stop(server, signal.SIGINT)  # fast shutdown, which does not wait for pooled connections to close
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def redis_server():
    """A Redis that keeps nothing on disk; yields its URL."""
    if not shutil.which("redis-server"):
        raise ServerError("Redis is not installed: no redis-server (apt-get install redis-server)")
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="kivra-redis-"))
    log, unix_socket = workdir / "redis.log", workdir / "redis.sock"
    try:
        with open(log, "wb") as output:
            server = subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--unixsocket", unix_socket,
                 "--save", "", "--appendonly", "no", "--dir", workdir],
                cwd=workdir, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        try:
            _wait_until(lambda: _redis_accepts(unix_socket), server, log, "redis-server")
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            _stop(server, signal.SIGTERM)  # Redis shuts down at once, saving nothing with --save ''
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
