"""Storage per payslip: a send of 1 000 payslips through the engine, with the stored payloads kept (as before 0011)
and dropped once each row is delivered (now), in the dispatch and payslip_version tables and the rest.

Run: .venv/bin/python bench/storage.py [--payslips 1000] [--postgres]
Each send goes to the Kivra sandbox (its own process, no latency) through `tasks.drain` in this process, on a fresh
database: a SQLite file, and with --postgres a throwaway PostgreSQL (tests/servers.py). Prints, per database and
mode, bytes per payslip by table (SQLite: the dbstat pages of each table and its indexes, after VACUUM; PostgreSQL:
pg_total_relation_size, table + TOAST + indexes, as written and after VACUUM FULL), the file or database size, and the
average stored payload and PDF. "before" keeps each row's payload as the engine did before (every outcome kept its
bytes), "after" is the engine as it is.
"""
import argparse
import contextlib
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402

from bench.dispatch_send import calculated_run, make_app, orgnr, outcomes, personnummer, start_sandbox  # noqa: E402
from kivra.dispatch import engine, models, tasks  # noqa: E402
from kivra.dispatch import service as dispatch  # noqa: E402
from kivra.dispatch.models import Dispatch  # noqa: E402
from kivra.extensions import db  # noqa: E402
from kivra.payroll.models import PayslipVersion  # noqa: E402

MAIN = ("dispatch", "payslip_version")


def sqlite_sizes(path: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Bytes by table (its indexes included) after VACUUM, and the file before and after it."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))  # WAL mode: what is written, in the file
        before = path.stat().st_size
        connection.execute(text("VACUUM"))
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        rows = connection.execute(text(
            "SELECT coalesce(m.tbl_name, s.name), sum(s.pgsize) FROM dbstat s "
            "LEFT JOIN sqlite_master m ON m.name = s.name GROUP BY 1")).all()
    return dict(rows), {"file as written": before, "file after VACUUM": path.stat().st_size}


def postgres_sizes() -> tuple[dict[str, int], dict[str, int]]:
    """Bytes by table (TOAST and indexes included) after VACUUM FULL, and the database before and after it."""
    tables = "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n " \
             "ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public'"
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        written = dict(connection.execute(text(tables)).all())
        connection.execute(text("VACUUM FULL"))
        vacuumed = dict(connection.execute(text(tables)).all())
    return vacuumed, {"tables as written": sum(written.values()), "tables after VACUUM FULL": sum(vacuumed.values()),
                      "dispatch as written": written["dispatch"]}


def one_send(database_url: str, sandbox_url: str, payslips: int, serial: int, keep_payloads: bool, sizes) -> dict:
    app = make_app(database_url, sandbox_url)
    engine.NEVER_SENT_AGAIN = () if keep_payloads else models.NEVER_SENT_AGAIN  # before: every outcome kept them
    try:
        with app.app_context(), app.test_request_context():
            run, admin = calculated_run("Bygg & Lön AB", orgnr(serial), personnummer(payslips), sandbox_url)
            send = dispatch.request_send(run, admin)
            tasks.drain()
            assert outcomes(send.id) == {"delivered": payslips}, outcomes(send.id)
            payload = db.session.scalar(select(func.avg(func.length(Dispatch.payload))))
            pdf = db.session.scalar(select(func.avg(func.length(PayslipVersion.pdf))))
            db.session.remove()
            by_table, totals = sizes()
            db.engine.dispose()
    finally:
        engine.NEVER_SENT_AGAIN = models.NEVER_SENT_AGAIN
    return {"by_table": by_table, "totals": totals, "payload": payload or 0, "pdf": pdf or 0}


def report(database: str, payslips: int, results: dict[str, dict]) -> None:
    print(f"\n{database}: bytes per payslip, {payslips} payslips delivered")
    print(f"{'':12}" + "".join(f"{name:>16}" for name in (*MAIN, "others", "all tables")))
    for mode, result in results.items():
        by_table = defaultdict(int, result["by_table"])
        others = sum(size for name, size in by_table.items() if name not in MAIN)
        figures = [by_table["dispatch"], by_table["payslip_version"], others, sum(by_table.values())]
        print(f"{mode:12}" + "".join(f"{size / payslips:16,.0f}" for size in figures))
    for mode, result in results.items():
        totals = ", ".join(f"{name} {size / payslips:,.0f}" for name, size in result["totals"].items())
        print(f"{mode:12}per payslip: {totals}; average stored payload {result['payload']:,.0f}, "
              f"PDF {result['pdf']:,.0f}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payslips", type=int, default=1000)
    parser.add_argument("--postgres", action="store_true", help="also on a throwaway PostgreSQL (tests/servers.py)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-storage-") as workdir, contextlib.ExitStack() as stack:
        sandbox, sandbox_url = start_sandbox(Path(workdir) / "sandbox.log", latency_ms=0)
        stack.callback(sandbox.stop)
        results = {}
        for serial, mode in enumerate(("before", "after"), start=1):
            path = Path(workdir) / f"{mode}.db"
            results[mode] = one_send(f"sqlite:///{path}", sandbox_url, args.payslips, serial, mode == "before",
                                     lambda path=path: sqlite_sizes(path))
        report("SQLite", args.payslips, results)
        if args.postgres:
            from tests.servers import postgres_server

            results = {}
            for serial, mode in enumerate(("before", "after"), start=3):
                url = stack.enter_context(postgres_server(database=f"storage_{mode}"))
                results[mode] = one_send(url, sandbox_url, args.payslips, serial, mode == "before", postgres_sizes)
            report("PostgreSQL", args.payslips, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
