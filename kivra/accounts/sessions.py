"""Ending a person's sessions. A company user and an employee's Min lön account each carry a session version, which
their session cookie names (`get_id`); counting it up ends every session signed in before, wherever its cookie is
(load_user in kivra/web/accounts/routes.py finds no one for an older version)."""
from sqlalchemy import update

from kivra.extensions import db


def end_sessions(principal) -> None:
    """Every session of `principal` (a User or a PortalAccount) ends now; one signed in afterwards is unaffected."""
    model = type(principal)
    db.session.execute(update(model).where(model.id == principal.id)
                       .values(session_version=model.session_version + 1)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    db.session.refresh(principal)
