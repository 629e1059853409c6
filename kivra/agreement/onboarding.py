"""Registering the company with Kivra as a sender (tenant), and following an access request Kivra must grant."""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kivra import agreement
from kivra.accounts.models import Company
from kivra.agreement.models import KivraSender, SenderState
from kivra.extensions import db
from kivra.sender_api import KivraClient, KivraError
from kivra.sender_api.errors import TenantConflict


def sender_of(company_id: int) -> KivraSender | None:
    return db.session.scalar(select(KivraSender).where(KivraSender.company_id == company_id))


def _sender_row(company: Company) -> KivraSender:
    """The company's sender row, created first: two requests registering at once share one row."""
    sender = sender_of(company.id)
    if sender is not None:
        return sender
    db.session.add(KivraSender(company_id=company.id, state=SenderState.PENDING))
    try:
        db.session.commit()
    except IntegrityError:  # the other request created it a moment ago
        db.session.rollback()
    return sender_of(company.id)


def register(company: Company, client: KivraClient) -> KivraSender:
    """Create the tenant by org.nr; if another sender owns it, ask Kivra for access and wait. A sole trader is
    refused before Kivra is asked (agreement.SoleTraderRefused)."""
    agreement.refuse_sole_trader(company)
    sender = _sender_row(company)
    if sender.state == SenderState.ACTIVE:
        return sender
    if sender.state == SenderState.PENDING and sender.access_request_key:
        return sender  # already asked; the periodic check follows the request
    try:
        try:
            tenant = client.create_tenant(company.name, company.orgnr)
        except TenantConflict:
            request = client.request_access(company.orgnr)
            sender.state, sender.access_request_key, sender.error = SenderState.PENDING, request.key, None
        else:
            sender.state, sender.tenant_key, sender.error = SenderState.ACTIVE, tenant.key, None
    except KivraError as error:  # unreachable or refusing: kept as failed, tried again by the periodic check
        sender.state, sender.error = SenderState.FAILED, f"{error.code} {error.correlation_id or ''}".strip()
    db.session.commit()
    return sender


def refresh(company: Company, client: KivraClient) -> KivraSender | None:
    """Try a failed registration again, or ask Kivra how a pending access request stands."""
    sender = sender_of(company.id)
    if sender is None or sender.state in (SenderState.ACTIVE, SenderState.REJECTED):
        return sender
    if sender.state == SenderState.FAILED or not sender.access_request_key:
        return register(company, client)
    try:
        request = client.access_request(sender.access_request_key)
    except KivraError:
        return sender  # ask again next time
    if request.status == "accepted":  # Kivra's words for an access request (kivra/sender_api), not a sender state
        sender.state, sender.tenant_key = SenderState.ACTIVE, request.tenant_key
    elif request.status == "rejected":
        sender.state = SenderState.REJECTED
    db.session.commit()
    return sender


def tenant_key(company_id: int) -> str | None:
    """The company's Kivra tenant, once registered (or granted): the one whose name follows the company's."""
    sender = sender_of(company_id)
    return sender.tenant_key if sender is not None and sender.state == SenderState.ACTIVE else None


def rename(company: Company, client: KivraClient, rounds: int = 3) -> None:
    """Give the tenant the company's name as it is now. A name saved again while Kivra was being told is told too
    (a few rounds at most); no tenant yet: registering will use the name."""
    key = tenant_key(company.id)
    for _ in range(rounds if key else 0):
        name = company.name
        client.update_tenant_name(key, name)
        db.session.commit()  # ends the read, so the next look sees a name saved meanwhile
        if company.name == name:
            return
