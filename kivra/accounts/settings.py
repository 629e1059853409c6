"""Företagsinställningar: the company's name, org.nr, contact details, bank account, employer contribution rate and
payout day, as an admin saves them. Plain Python: the page (kivra/web/company) parses the form and calls `save`."""
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kivra import money
from kivra.accounts.models import Company
from kivra.extensions import db

PAYOUT_DAYS = range(1, 29)  # every month has them


class OrgnrTaken(ValueError):
    """Another company has this organisation number."""


def parse_postal_code(text: str) -> str:
    """Five digits, stored as Kivra's salaryslip writes them: `123 45`. Raises ValueError."""
    digits = re.sub(r"\s", "", text or "")
    if not re.fullmatch(r"\d{5}", digits, re.ASCII):
        raise ValueError(text)
    return f"{digits[:3]} {digits[3:]}"


def parse_rate(text: str) -> Decimal:
    """A per cent between 0 and 100 with at most two decimals; a decimal comma and a `%` are taken. Raises
    ValueError."""
    return money.parse_percent(text)


def proposed_payout_date(company: Company, period: date) -> date:
    """A new payroll run's payout date: the company's payout day in the month paid for."""
    return period.replace(day=company.payout_day or 25)


def orgnr_taken(orgnr: str, company_id: int) -> bool:
    return db.session.scalar(select(Company.id).where(Company.orgnr == orgnr, Company.id != company_id)) is not None


@dataclass(frozen=True)
class CompanySettings:
    """What the form said, parsed; `orgnr` None: not to be changed (locked after the first send)."""

    name: str
    orgnr: str | None
    street_address: str | None
    postal_code: str | None
    city: str | None
    email: str | None
    phone: str | None
    bankgiro: str | None
    clearing_number: str | None
    account_number: str | None
    employer_contribution_rate: Decimal
    payout_day: int


def save(company: Company, settings: CompanySettings) -> bool:
    """Save the settings; True if the name changed (Kivra's tenant name follows it). Raises OrgnrTaken."""
    if settings.orgnr is not None and orgnr_taken(settings.orgnr, company.id):
        raise OrgnrTaken(settings.orgnr)
    renamed = settings.name != company.name
    for field, value in vars(settings).items():
        if field != "orgnr" or value is not None:
            setattr(company, field, value)
    try:
        db.session.commit()
    except IntegrityError:  # the same org.nr saved by another company at the same moment
        db.session.rollback()
        raise OrgnrTaken(settings.orgnr) from None
    return renamed
