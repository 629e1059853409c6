"""Whether a payslip version is a correction for its employee: only if they had received an earlier version."""
from datetime import timedelta

from sqlalchemy import exists, select

from kivra.clock import as_stored
from kivra.dispatch.models import RECEIVED, Dispatch
from kivra.extensions import db
from kivra.payroll.models import PayslipVersion


def corrects_received(version: PayslipVersion) -> bool:
    """True when an earlier version of the payslip had reached the employee (any outcome: Min lön shows the ones
    Kivra refused or failed) by the time this version was made. Finished rows never change, so the answer is the
    same whenever it is asked: the PDF (made once, whoever asks first), the subject and the HTML part all agree."""
    if version.number == 1:
        return False
    # Versions are stamped to the second; a row finished within that second counts as before it.
    made = as_stored(version.created_at).replace(microsecond=0) + timedelta(seconds=1)
    return bool(db.session.scalar(select(exists().where(
        PayslipVersion.payslip_id == version.payslip_id, PayslipVersion.number < version.number,
        Dispatch.version_id == PayslipVersion.id, Dispatch.state.in_(RECEIVED), Dispatch.finished_at < made,
    ))))
