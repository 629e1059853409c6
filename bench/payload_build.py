"""A payslip's whole Kivra content (`kivra_payload.payslip_content`, a fresh PDF each time) vs its PDF alone.

Run: .venv/bin/python bench/payload_build.py [--payslips 200] [--rounds 5]
Prints ms per payslip and payslips per second on one core for: the PDF alone (`payroll.render_pdf`, its data
loaded beforehand), the content with a PDF to make (what a worker does on a payslip's first attempt, each in a fresh
session: read the version, render the PDF, store it with a commit, schema-check the salaryslip, render the HTML part,
base64 and JSON), and the same once the PDF is stored; and the ratio of the whole content to the PDF alone.
All three run in this process on the same payslips of one run in a SQLite file, interleaved in rounds so machine
noise hits them alike; each round starts with every PDF cleared (outside the timing).
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, update  # noqa: E402

from bench.dispatch_send import calculated_run, make_app, orgnr, personnummer  # noqa: E402
from kivra.accounts.models import Company  # noqa: E402
from kivra.extensions import db  # noqa: E402
from kivra.payroll import service as payroll  # noqa: E402
from kivra.payroll.kivra_payload import payslip_content  # noqa: E402
from kivra.payroll.models import Payslip, PayslipVersion  # noqa: E402


def version_ids(run_id: int) -> list[int]:
    return list(db.session.scalars(
        select(PayslipVersion.id).join(Payslip).where(Payslip.run_id == run_id).order_by(PayslipVersion.id)))


def clear_pdfs(run_id: int) -> None:
    db.session.execute(update(PayslipVersion).where(PayslipVersion.payslip_id.in_(
        select(Payslip.id).where(Payslip.run_id == run_id))).values(pdf=None, pdf_sha256=None))
    db.session.commit()


def content(version_id: int, company_id: int) -> int:
    """As a worker builds it: a fresh session, the version and the company read by id, the content made."""
    try:
        return len(payslip_content(db.session.get(PayslipVersion, version_id), db.session.get(Company, company_id)))
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
            run, _ = calculated_run("Bygg & Lön AB", orgnr(1), personnummer(args.payslips))
            run_id, company_id = run.id, run.company_id
            ids = version_ids(run_id)
            for version_id in ids[:5]:  # warm the per-process font, label and template caches
                content(version_id, company_id)
            pdf_times, fresh_times, stored_times, sizes = [], [], [], []
            for _ in range(args.rounds):
                clear_pdfs(run_id)
                loaded = [db.session.get(PayslipVersion, version_id) for version_id in ids]
                for version in loaded:
                    version.payslip.run  # noqa: B018 - loaded first: the PDF alone reads no database
                pdf_times.append(per_payslip(payroll.render_pdf, loaded))
                db.session.remove()
                fresh_times.append(per_payslip(lambda version_id: content(version_id, company_id), ids))
                stored_times.append(per_payslip(lambda version_id: sizes.append(content(version_id, company_id)), ids))
            db.session.remove()
            db.engine.dispose()

    pdf_ms, fresh_ms, stored_ms = (statistics.median(t) * 1000 for t in (pdf_times, fresh_times, stored_times))
    print(f"{args.payslips} payslips x {args.rounds} rounds, median round; content {statistics.median(sizes):.0f} bytes")
    for name, ms in (("PDF alone                 ", pdf_ms), ("content, PDF made and kept", fresh_ms),
                     ("content, PDF already kept ", stored_ms)):
        print(f"{name}: {ms:6.2f} ms per payslip, {1000 / ms:5.0f} payslips/s per core")
    print(f"ratio whole content / PDF alone: {fresh_ms / pdf_ms:.2f}  "
          f"(the rest of the content {stored_ms:.2f} ms; loading the version for the PDF, storing the PDF with a commit "
          f"and reloading what the commit expired {fresh_ms - pdf_ms - stored_ms:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
