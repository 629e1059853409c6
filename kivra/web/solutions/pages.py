"""What the agreement's pages and the status pages of Fler lösningar all show: the company's Kivra agreement and sender."""
from kivra import agreement
from kivra.agreement import kivra_calls, onboarding
from kivra.agreement.models import JobKind
from kivra.dispatch import service as dispatch
from kivra.payroll.kivra_payload import missing_employer_details
from kivra.web import current_company


def context(**extra) -> dict:
    company = current_company()
    run = extra.get("run")
    return dict(
        company=company,
        agreement=agreement.in_force(company.id),
        history=agreement.history(company.id),
        kivra_history=dispatch.has_kivra_history(company),
        admins=agreement.admins(company.id),
        sender=onboarding.sender_of(company.id),
        access_job=kivra_calls.open_job(company.id, JobKind.ACCESS),  # a worker is registering or asking Kivra
        missing_details=missing_employer_details(company),
        sole_trader=agreement.is_sole_trader(company),  # Kivra does not take them
        # The agreement opened from a run already sent: approving changes nothing for that run.
        run_sent=run is not None and dispatch.send_of(run) is not None,
        version=agreement.VERSION,
        version_date=agreement.VERSION_DATE,
        **extra,
    )
