"""PostgreSQL's CPU to write a payslip's PDF and its payload, with the storage the columns had (EXTENDED: pglz tries to
compress every value over 2 kB) and the storage migration 0022 gives them (EXTERNAL: out of line, as they are).

Run: .venv/bin/python bench/blob_storage.py [--writes 1000] [--rounds 2]
A real payslip's PDF and content body are made in process (a SQLite file, `batch.stored_payloads`, as a worker makes
them); then, on a throwaway PostgreSQL (tests/servers.py), each is written --writes times by UPDATE into a table of
its own under each storage, in turn, --rounds times. Prints the backend's CPU per write (from /proc: the server
process that served the connection) and the bytes stored per value (pg_column_size) against the value's own size.
Both storages run in the same round on the same server, so the ratio holds on a noisy machine.
"""
import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from bench.dispatch_send import calculated_run, cpu_seconds, make_app, orgnr, personnummer  # noqa: E402
from bench.payload_build import claims  # noqa: E402
from kivra.dispatch import batch, engine  # noqa: E402
from kivra.dispatch import service as dispatch  # noqa: E402
from kivra.extensions import db  # noqa: E402
from kivra.payroll.models import PayslipVersion  # noqa: E402
from tests.servers import PostgresServer  # noqa: E402

STORAGES = ("EXTENDED", "EXTERNAL")


def a_payslips_bytes() -> dict[str, bytes]:
    """One payslip's PDF and content body, made as a worker makes them."""
    with tempfile.TemporaryDirectory() as workdir:
        app = make_app(f"sqlite:///{Path(workdir) / 'payroll.db'}", "http://127.0.0.1:9")
        with app.app_context(), app.test_request_context():
            run, admin = calculated_run("Bygg & Lön AB", orgnr(1), personnummer(1))
            row = claims(dispatch.request_send(run, admin).id)[0]
            body = batch.stored_payloads([row], engine.settings())[row.id]
            pdf = db.session.get(PayslipVersion, row.version_id).pdf
            db.session.remove()
            db.engine.dispose()
    return {"PDF": pdf, "payload": body}


def cpu_per_write(connection, backend: int, storage: str, value: bytes, writes: int) -> tuple[float, int]:
    """The backend's CPU milliseconds per UPDATE writing `value`, and the bytes it stored per value."""
    connection.execute("DROP TABLE IF EXISTS blob; CREATE TABLE blob (id int PRIMARY KEY, b bytea)")
    connection.execute(f"ALTER TABLE blob ALTER COLUMN b SET STORAGE {storage}")
    connection.execute("INSERT INTO blob SELECT g, NULL FROM generate_series(1, %s) g", (writes,))
    before = cpu_seconds(backend)
    for n in range(1, writes + 1):
        connection.execute("UPDATE blob SET b = %s WHERE id = %s", (value, n))
    spent = cpu_seconds(backend) - before
    stored = connection.execute("SELECT avg(pg_column_size(b))::int FROM blob").fetchone()[0]
    return spent * 1000 / writes, stored


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    values = a_payslips_bytes()
    figures: dict[tuple[str, str], list[float]] = {}
    with PostgresServer("bench") as postgres:
        with psycopg.connect(postgres.url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as connection:
            backend = connection.execute("SELECT pg_backend_pid()").fetchone()[0]
            for round_ in range(1, args.rounds + 1):
                for name, value in values.items():
                    for storage in STORAGES:
                        ms, stored = cpu_per_write(connection, backend, storage, value, args.writes)
                        figures.setdefault((name, storage), []).append(ms)
                        print(f"round {round_}: {name:8s} {storage:8s} {len(value)} B, {stored} B stored; "
                              f"PostgreSQL's CPU {ms:.2f} ms per write", flush=True)
    print()
    for name in values:
        extended, external = (min(figures[name, storage]) for storage in STORAGES)
        print(f"{name}: {extended:.2f} ms per write as EXTENDED, {external:.2f} ms as EXTERNAL "
              f"({extended / external:.1f}x; the best of {args.rounds} rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
