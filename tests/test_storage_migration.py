"""Migration 0011_storage: rows finished before it drop their payload bytes, in batches; PostgreSQL and SQLite."""
import hashlib
from datetime import date

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, update

from kivra.dispatch import service
from kivra.dispatch.models import Dispatch
from kivra.extensions import db
from kivra.payroll import service as payroll
from tests.conftest import make_company, make_employee, make_user
from tests.test_postgres import migrated_app, pg_app  # noqa: F401 - fixtures

STATES = ("delivered", "retained", "published", "rejected", "cancelled", "failed", "queued", "sending")


def rows_in_every_state() -> dict[str, int]:
    """A sent run's rows, one per state, each holding a payload as every row did before 0011."""
    company = make_company()
    for number in range(len(STATES)):
        make_employee(company, name=f"Person {number}", personnummer=f"19121212{number:04d}")
    run = payroll.create_run(company, date(2026, 10, 1), date(2026, 10, 25))
    payroll.calculate_run(run)
    service.request_send(run, make_user(company), min_lon_only=True)
    ids = db.session.scalars(select(Dispatch.id).where(Dispatch.run_id == run.id).order_by(Dispatch.id)).all()
    for state, dispatch_id in zip(STATES, ids, strict=True):
        body = f'{{"payslip": {dispatch_id}}}'.encode()
        db.session.execute(update(Dispatch).where(Dispatch.id == dispatch_id).values(
            state=state, payload=body, payload_sha256=hashlib.sha256(body).hexdigest()))
    db.session.commit()
    return dict(zip(STATES, ids))


def stored() -> dict[int, tuple[bytes | None, str | None]]:
    db.session.expire_all()
    found = {row.id: (row.payload, row.payload_sha256)
             for row in db.session.execute(select(Dispatch.id, Dispatch.payload, Dispatch.payload_sha256))}
    db.session.commit()
    return found


def test_0011_drops_the_bytes_of_rows_never_sent_again_keeps_the_rest_and_goes_down_again(migrated_app):
    # The rows are made with today's models at the newest revision and taken down to 0010 with the schema (a model
    # cannot write a table as an old revision has it); each still holds its payload there, as every row did.
    upgrade()
    ids = rows_in_every_state()
    before = stored()
    db.session.remove()
    downgrade(revision="0010")
    assert stored() == before
    db.session.remove()  # the migration commits batch by batch on its own connection

    upgrade(revision="0011_storage")
    after = stored()
    for state, dispatch_id in ids.items():
        payload, checksum = after[dispatch_id]
        assert checksum == before[dispatch_id][1], f"{state}: the checksum must stay"
        if state in ("failed", "queued", "sending"):
            assert payload == before[dispatch_id][0], f"{state}: may be sent (again): its bytes must stay"
        else:
            assert payload is None, f"{state}: never sent again, yet its bytes are kept"

    db.session.remove()
    downgrade(revision="0010")
    assert stored() == after  # nothing to undo: the schema is the same and dropped bytes are gone
    db.session.remove()
    upgrade()
    assert stored() == after
