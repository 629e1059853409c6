"""Kivra's agreement for a company: approve, widen or narrow its scope, discontinue. Only admins may."""
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from kivra import identity
from kivra.accounts.models import Company, User, utcnow
from kivra.agreement.models import AgreementEnd, AgreementSource, KivraAgreement
from kivra.extensions import db

# The texts are templates/solutions/agreement_texts/<VERSION>.<locale>.html; a new version gets new files.
VERSION = "2026.1"
VERSION_DATE = date(2026, 10, 1)


class NotAllowed(PermissionError):
    """Only a company admin may approve or end the Kivra agreement."""


class AgreementConflict(ValueError):
    """The agreement changed meanwhile (approved or ended in another tab)."""


class SoleTraderRefused(ValueError):
    """Kivra does not onboard sole traders (enskild firma, whose org.nr is the owner's personnummer): their payslips
    go to Min lön."""


def is_sole_trader(company: Company) -> bool:
    return identity.Organisationsnummer(company.orgnr).is_sole_trader


def refuse_sole_trader(company: Company) -> None:
    if is_sole_trader(company):
        raise SoleTraderRefused(company.id)


def in_force(company_id: int) -> KivraAgreement | None:
    return db.session.scalar(
        select(KivraAgreement).where(KivraAgreement.company_id == company_id, KivraAgreement.ended_at.is_(None))
    )


def history(company_id: int) -> list[KivraAgreement]:
    return list(db.session.scalars(
        select(KivraAgreement).where(KivraAgreement.company_id == company_id).order_by(KivraAgreement.id.desc())
    ))


def admins(company_id: int) -> list[User]:
    """The admins a payroll user can ask to approve the agreement: those who can sign in."""
    return list(db.session.scalars(
        select(User).where(User.company_id == company_id, User.role == "admin", User.deactivated_at.is_(None),
                           User.password_hash.is_not(None)).order_by(User.name)
    ))


def _require_admin(user: User) -> None:
    if not user.is_admin:
        raise NotAllowed(user.id)


def approve(company: Company, user: User, payslips: bool = True, invoices: bool = False) -> KivraAgreement:
    """Record the approval of the current version for the chosen scope; a scope change ends the previous one."""
    _require_admin(user)
    refuse_sole_trader(company)
    if not (payslips or invoices):
        raise ValueError("an agreement covers payslips, invoices or both")
    current = in_force(company.id)
    if current and (current.covers_payslips, current.covers_invoices, current.version) == (payslips, invoices, VERSION):
        return current
    if current:
        _end(current, user, AgreementEnd.SCOPE_CHANGED)
    agreement = KivraAgreement(
        company_id=company.id, version=VERSION, covers_payslips=payslips, covers_invoices=invoices,
        approved_by_id=user.id, approved_by_name=user.name, approved_at=utcnow(),
    )
    db.session.add(agreement)
    try:
        db.session.commit()
    except IntegrityError:  # approved at the same moment elsewhere: the database let one through
        db.session.rollback()
        raise AgreementConflict(company.id) from None
    return agreement


def activate_for_new_customer(company: Company) -> KivraAgreement | None:
    """New customers have Kivra active from the start: their sign-up included Kivra's terms. Only once: a company
    that has had an agreement (and perhaps discontinued it) is not given a new one. Never a sole trader: Kivra
    does not onboard them."""
    if is_sole_trader(company):
        return None
    current = in_force(company.id)
    if current is not None or history(company.id):
        return current
    agreement = KivraAgreement(
        company_id=company.id, version=VERSION, covers_payslips=True, covers_invoices=False,
        approved_by_name=company.name, approved_at=company.created_at, source=AgreementSource.SIGNUP,
    )
    db.session.add(agreement)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return in_force(company.id)
    return agreement


def discontinue(company: Company, user: User) -> KivraAgreement:
    _require_admin(user)
    current = in_force(company.id)
    if current is None:
        raise AgreementConflict(company.id)
    _end(current, user, AgreementEnd.DISCONTINUED)
    db.session.commit()
    return current


def _end(agreement: KivraAgreement, user: User, reason: str) -> None:
    """End it once: a conditional update, so a second ending at the same moment cannot rewrite who ended it."""
    ended = db.session.execute(
        update(KivraAgreement)
        .where(KivraAgreement.id == agreement.id, KivraAgreement.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_by_id=user.id, ended_by_name=user.name, end_reason=reason)
    ).rowcount
    if not ended:
        db.session.rollback()
        raise AgreementConflict(agreement.company_id)
    db.session.refresh(agreement)
