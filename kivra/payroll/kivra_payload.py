"""A payslip version as a Kivra `salaryslip` content: subject, structured object, PDF and HTML part."""
from datetime import date
from functools import lru_cache

from flask import current_app, render_template
from flask_babel import force_locale, format_date, gettext as _, lazy_gettext

from kivra import clock
from kivra.accounts.models import Company
from kivra.money import kivra_amount, swedish_kronor
from kivra.payroll.models import PayslipVersion
from kivra.payroll.pdf import both
from kivra.payroll.service import last_day, version_pdf
from kivra.sender_api.client import vat_number
from kivra.sender_api.content import PayloadError, salaryslip_content

SOURCE_SYSTEM = "Lön (kivra-payroll 0.1)"
EMPLOYER_DETAILS = ("street_address", "postal_code", "city", "email", "phone")


def money(ore: int) -> dict:
    return {"monetary_amount": kivra_amount(ore), "currency": "SEK"}


def subject(version: PayslipVersion, correction: bool) -> str:
    """`Lönebesked november 2026`; a correction (of a version the employee received) says so. Never a name or a
    personnummer."""
    return _subject(current_app.config.get("BABEL_TRANSLATION_DIRECTORIES"), version.payslip.run.period, correction)


@lru_cache(maxsize=64)  # one per month and kind in the process: switching locale took 0.07 ms per payslip
def _subject(_translations: str | None, period: date, correction: bool) -> str:
    with force_locale("sv"):
        month = format_date(period, "LLLL yyyy")
        if correction:
            return _("Corrected payslip %(month)s", month=month)
        return _("Payslip %(month)s", month=month)


def missing_employer_details(company: Company) -> list[str]:
    """The employer details Kivra's salaryslip requires that the company has not filled in."""
    return [f for f in EMPLOYER_DETAILS if not getattr(company, f)]


def salaryslip(version: PayslipVersion, company: Company) -> dict:
    run = version.payslip.run
    missing = missing_employer_details(company)
    if missing:
        raise PayloadError(f"the employer's {', '.join(missing)} must be filled in: Kivra requires them")
    salary = sum(l["amount_ore"] for l in version.lines if l["kind"] == "salary")
    extra = [
        {"type": l["description"], **money(-l["amount_ore"] if l["kind"] == "deduction" else l["amount_ore"])}
        for l in version.lines
        if l["kind"] != "salary"
    ]
    employment = {
        "employer": {
            "legal_name": version.company_name,
            "legal_identifiers": {"vat_number": vat_number(version.orgnr), "org_number": f"{version.orgnr[:6]}-{version.orgnr[6:]}"},
            "contact_information": {
                "address": {
                    "street_address": company.street_address,
                    "postal_code": company.postal_code,
                    "city": company.city,
                    "country": "Sweden",
                },
                "email_address": company.email,
                "telephone_number": company.phone,
            },
        }
    }
    if version.employment_start:
        employment["start_date"] = version.employment_start.isoformat()
    pay_period = {
        "start_date": run.period.isoformat(),
        "end_date": last_day(run.period).isoformat(),
        "payout_date": run.payout_date.isoformat(),
        "basic_contractual_salary": money(salary),
        "gross_pay": money(version.gross_ore),
        "tax_deducted": money(version.tax_ore),
        "net_pay": money(version.net_ore),
        "effective_tax_rate_percentage": f"{version.tax_rate:.2f}",
    }
    if extra:
        pay_period["additional_payments"] = extra
    document = {
        "document_metadata": {
            "creation_timestamp": clock.as_utc(version.created_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "source_system": SOURCE_SYSTEM,
        },
        "employment": employment,
        "pay_period": pay_period,
    }
    if version.bank_account:
        document["recipient_account"] = {"identifier": version.bank_account}
    return document


def html_part(version: PayslipVersion, correction: bool) -> str:
    """The responsive part: the figures that matter on a phone, inline CSS, no script, no links."""
    return render_template(
        "kivra/payslip_part.html", version=version, run=version.payslip.run, correction=correction, both=both, kr=swedish_kronor,
        _l=lazy_gettext,
    )


def payslip_content(version: PayslipVersion, company: Company, correction: bool, retain: bool = False,
                    retention_days: int = 390, pdf: bytes | None = None) -> bytes:
    """The whole content body, made once per version; store these bytes and resend them unchanged. `pdf` is the
    version's PDF when the caller has it (stored or about to be); by default the stored one, rendered if need be.
    `correction`: an earlier version reached the employee (kivra.dispatch.corrections decides)."""
    return salaryslip_content(
        ssn=version.personnummer,
        subject=subject(version, correction),
        generated_at=clock.swedish_date(version.created_at),
        pdf=version_pdf(version, correction) if pdf is None else pdf,
        salaryslip=salaryslip(version, company),
        html=html_part(version, correction),
        retain=retain,
        retention_days=retention_days,
        personal=(version.employee_name,),
        file_name=f"lonebesked-{version.payslip.run.period:%Y-%m}.pdf",
    )
