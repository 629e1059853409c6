"""Companies and their users made by an operator (`flask create-company`, `create-user`, `set-password`): beside
`demo`, above the domain packages."""
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select

from kivra import identity
from kivra.accounts.models import ROLES, Company, User
from kivra.extensions import db

MIN_PASSWORD_LENGTH = 10  # as for Min lön's passwords


class ProvisioningError(ValueError):
    """What the operator asked for cannot be done; the message says why."""


ORGNR_PROBLEMS = {
    "format": "10 digits, as NNNNNN-NNNN",
    "checksum": "its check digit is wrong",
    "group": "its third digit must be at least 2 (a sole trader's org.nr is their personnummer, and this is not one)",
}


def parse_orgnr(text: str) -> str:
    """A Swedish organisation number as stored: 10 digits, no hyphen (kivra.identity: NNNNNN-NNNN, the 12-digit
    form with the prefix 16, or a sole trader's personnummer)."""
    try:
        return identity.parse_orgnr(text).digits
    except identity.OrgnrError as error:
        raise ProvisioningError(f"{text!r} is not an organisation number: {ORGNR_PROBLEMS[error.reason]}") from None


def company_by_orgnr(text: str) -> Company:
    orgnr = parse_orgnr(text)
    company = db.session.scalar(select(Company).where(Company.orgnr == orgnr))
    if company is None:
        raise ProvisioningError(f"no company with org.nr {orgnr[:6]}-{orgnr[6:]}")
    return company


def create_company(name: str, orgnr_text: str) -> Company:
    """A new customer: Min lön/Kivra is active from its start (KIVRA_NEW_CUSTOMERS_SINCE)."""
    orgnr = parse_orgnr(orgnr_text)
    if not name.strip():
        raise ProvisioningError("the company needs a name")
    existing = db.session.scalar(select(Company).where(Company.orgnr == orgnr))
    if existing is not None:
        raise ProvisioningError(f"a company with org.nr {existing.orgnr_formatted} already exists: {existing.name}")
    company = Company(name=name.strip(), orgnr=orgnr,
                      employer_contribution_rate=current_app.config["EMPLOYER_CONTRIBUTION_RATE"])
    db.session.add(company)
    db.session.commit()
    return company


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ProvisioningError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")


def _user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(email: str, company: Company, role: str, name: str, password: str) -> User:
    """A company's admin (may approve Kivra's agreement) or payroll administrator, signing in with this password."""
    if role not in ROLES:
        raise ProvisioningError(f"the role must be one of {', '.join(ROLES)}")
    try:
        address = validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ProvisioningError(f"{email!r} is not an e-mail address: {error}") from None
    if not name.strip():
        raise ProvisioningError("the user needs a name")
    if _user_by_email(address) is not None:
        raise ProvisioningError(f"a user with the e-mail address {address} already exists (set-password changes it)")
    check_password(password)
    user = User(company_id=company.id, email=address, name=name.strip(), role=role, locale="sv")
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def set_password(email: str, password: str) -> User:
    user = _user_by_email(email)
    if user is None:
        raise ProvisioningError(f"no user with the e-mail address {email.strip()}")
    check_password(password)
    user.set_password(password)
    db.session.commit()
    return user
