"""A correction is only a correction for someone who received the original: subject, HTML part and PDF agree.

Version 2 of a payslip whose version 1 never went out is, for the employee, simply their payslip."""
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import update

from kivra.dispatch import resends, service, tasks
from kivra.dispatch.corrections import corrects_received
from kivra.dispatch.models import Dispatch
from kivra.extensions import db
from kivra.payroll import service as payroll
from kivra.payroll.models import PayslipLine, PayslipVersion
from tests.dispatch.test_engine import USER, calculated_run, sender  # noqa: F401 - sender is a fixture

pytestmark = pytest.mark.both_databases

PLAIN, CORRECTED = "Lönebesked november 2026", "Rättat lönebesked november 2026"
CORRECTION_WORDS = ("Rättelse", "Correction", "Rättat")


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).replace("\xa0", " ")


def corrected(payslip) -> PayslipVersion:
    payslip.lines.append(PayslipLine(kind="addition", description="Bonus", amount_ore=100_000))
    db.session.commit()
    return payroll.correct(payslip)


def received_by_kivra(kivra, number: str) -> list:
    """What the sandbox got for this person, oldest first."""
    with kivra.state.lock:
        return sorted((c for c in kivra.state.contents.values() if c.recipient == number), key=lambda c: c.received_at)


def test_corrected_before_the_first_send_goes_out_as_the_payslip(company, sender, kivra):
    run = calculated_run(company, USER)
    version = corrected(run.payslips[0])
    assert version.number == 2
    service.request_send(run, sender)
    tasks.drain()
    [content] = received_by_kivra(kivra, USER)
    assert content.subject == PLAIN
    assert not any(word in pdf_text(content.pdf) for word in CORRECTION_WORDS), pdf_text(content.pdf)
    assert not any(word in content.html.decode() for word in CORRECTION_WORDS)
    assert "Lönebesked / Payslip" in pdf_text(content.pdf) and "Bonus" in pdf_text(content.pdf)  # version 2 went


def test_corrected_after_delivery_goes_out_as_a_correction(company, sender, kivra):
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    tasks.drain()
    corrected(run.payslips[0])
    assert resends.send_corrections(run) == 1
    tasks.drain()
    first, correction = received_by_kivra(kivra, USER)
    assert (first.subject, correction.subject) == (PLAIN, CORRECTED)
    assert "Rättelse, version 2 / Correction, version 2" in pdf_text(correction.pdf)
    assert "Rättelse, version 2 / Correction, version 2" in correction.html.decode()
    assert not any(word in pdf_text(first.pdf) for word in CORRECTION_WORDS)


def test_a_pdf_the_admin_opened_before_the_send_says_what_the_employee_gets(company, sender, kivra, client):
    as_admin = client.login(sender)
    run = calculated_run(company, USER)
    payslip = run.payslips[0]
    corrected(payslip)
    preview = as_admin.get(f"/payslips/{payslip.id}/v2.pdf").data  # rendered and stored now, before any send
    assert not any(word in pdf_text(preview) for word in CORRECTION_WORDS)
    service.request_send(run, sender)
    tasks.drain()
    [content] = received_by_kivra(kivra, USER)
    assert (content.subject, content.pdf) == (PLAIN, preview)


def test_a_pdf_the_admin_opens_after_delivery_is_the_correction_kivra_gets(company, sender, kivra, client):
    as_admin = client.login(sender)
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    tasks.drain()
    payslip = run.payslips[0]
    corrected(payslip)
    preview = as_admin.get(f"/payslips/{payslip.id}/v2.pdf").data
    assert "Rättelse, version 2 / Correction, version 2" in pdf_text(preview)
    resends.send_corrections(run)
    tasks.drain()
    assert received_by_kivra(kivra, USER)[-1].pdf == preview



@pytest.mark.parametrize("outcome", ["rejected", "failed"])
def test_an_original_kivra_refused_was_still_received_in_min_lon_so_its_correction_says_so(company, sender, kivra,
                                                                                         outcome):
    """Min lön shows a version Kivra refused or that failed there (the employee never loses one): a later version is a
    correction of what they read."""
    run = calculated_run(company, USER)
    service.request_send(run, sender)
    tasks.drain()
    db.session.execute(update(Dispatch).values(state=outcome, reason="kivra_rejected"))  # as if Kivra had refused it
    db.session.commit()
    version = corrected(run.payslips[0])
    assert corrects_received(version)
