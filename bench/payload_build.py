"""A payslip's whole Kivra content as the engine makes it (`engine.stored_payload`, a fresh PDF each time) vs its PDF
alone.

Run: .venv/bin/python bench/payload_build.py [--payslips 200] [--rounds 5]
Prints ms per payslip and payslips per second on one core for: the PDF alone (`payroll.render_pdf`, its data
loaded beforehand), the content with a PDF to make (a worker's first attempt at a row, in a fresh session: read the
version, render the PDF, schema-check the salaryslip, render the HTML part, base64 and JSON, store the PDF and the
payload in one commit), and the same when the version's PDF was stored before (someone opened it); and the ratio of
the whole content to the PDF alone. All three run in this process on the same payslips of one send in a SQLite file,
interleaved in rounds so machine noise hits them alike; each round starts with every PDF and payload cleared (outside
the timing). The machine's load average is printed with the figures.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, update  # noqa: E402

from bench.dispatch_send import calculated_run, make_app, orgnr, personnummer  # noqa: E402
from kivra.dispatch import engine  # noqa: E402
from kivra.dispatch import service as dispatch  # noqa: E402
from kivra.dispatch.models import Dispatch  # noqa: E402
from kivra.extensions import db  # noqa: E402
from kivra.payroll import service as payroll  # noqa: E402
from kivra.payroll.models import Payslip, PayslipVersion  # noqa: E402


def claims(send_id: int) -> list[engine.Claim]:
    """Each row of the send as a worker holds it for its first attempt."""
    return [
        engine.Claim(id=row.id, send_id=send_id, company_id=row.company_id, employee_id=row.employee_id,
                     version_id=row.version_id, channel="kivra", reason=None, routed=True, attempts=1,
                     payload_sha256=None, token="bench", sender_state="active", tenant_key=None)
        for row in db.session.execute(
            select(Dispatch.id, Dispatch.company_id, Dispatch.employee_id, Dispatch.version_id)
            .where(Dispatch.send_id == send_id).order_by(Dispatch.id))
    ]


def clear(run_id: int, send_id: int, pdfs: bool = True) -> None:
    db.session.execute(update(Dispatch).where(Dispatch.send_id == send_id).values(payload=None, payload_sha256=None))
    if pdfs:
        db.session.execute(update(PayslipVersion).where(PayslipVersion.payslip_id.in_(
            select(Payslip.id).where(Payslip.run_id == run_id))).values(pdf=None, pdf_sha256=None))
    db.session.commit()


def content(claim: engine.Claim, settings: engine.Settings) -> int:
    """As a worker builds it: a fresh session, the row's version and company read, the content made and stored."""
    try:
        return len(engine.stored_payload(claim, settings))
    finally:
        db.session.remove()


def per_payslip(build, items) -> float:
    start = time.perf_counter()
    for item in items:
        build(item)
    return (time.perf_counter() - start) / len(items)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payslips", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-payload-") as workdir:
        app = make_app(f"sqlite:///{Path(workdir) / 'payroll.db'}", "http://127.0.0.1:9")  # Kivra is never called
        with app.app_context(), app.test_request_context():
            run, admin = calculated_run("Bygg & Lön AB", orgnr(1), personnummer(args.payslips))
            run_id, send_id = run.id, dispatch.request_send(run, admin).id
            rows, settings = claims(send_id), engine.settings()
            for claim in rows[:5]:  # warm the per-process font, label and template caches
                content(claim, settings)
            pdf_times, fresh_times, stored_times, sizes = [], [], [], []
            load_before = os.getloadavg()
            for _ in range(args.rounds):
                clear(run_id, send_id)
                loaded = [db.session.get(PayslipVersion, claim.version_id) for claim in rows]
                for version in loaded:
                    version.payslip.run  # noqa: B018 - loaded first: the PDF alone reads no database
                pdf_times.append(per_payslip(lambda version: payroll.render_pdf(version, False), loaded))
                db.session.remove()
                fresh_times.append(per_payslip(lambda claim: content(claim, settings), rows))
                clear(run_id, send_id, pdfs=False)
                stored_times.append(per_payslip(lambda claim: sizes.append(content(claim, settings)), rows))
            load_after = os.getloadavg()
            db.session.remove()
            db.engine.dispose()

    pdf_ms, fresh_ms, stored_ms = (statistics.median(t) * 1000 for t in (pdf_times, fresh_times, stored_times))
    print(f"{args.payslips} payslips x {args.rounds} rounds, median round; content {statistics.median(sizes):.0f} bytes")
    for name, ms in (("PDF alone                  ", pdf_ms), ("content, PDF made and stored", fresh_ms),
                     ("content, PDF stored before  ", stored_ms)):
        print(f"{name}: {ms:6.2f} ms per payslip, {1000 / ms:5.0f} payslips/s per core")
    print(f"ratio whole content / PDF alone: {fresh_ms / pdf_ms:.2f}  "
          f"(the content around a stored PDF, read and stored included, {stored_ms:.2f} ms; rendering and storing the "
          f"PDF {fresh_ms - stored_ms:.2f} ms)")
    print("load average (1, 5, 15 min): before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
        *load_before, *load_after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
