"""PostgreSQL keeps PDFs and payloads as they are, without trying to compress them (issue 19): pglz compressed
neither by a byte, and trying tripled its CPU to write them (bench/blob_storage.py). Migration 0022 sets it, and a
database made from the models has it too."""
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from kivra.extensions import db
from tests.test_postgres import migrated_app, pg_app  # noqa: F401 - fixtures

BLOBS = (("payslip_version", "pdf"), ("dispatch", "payload"))


def storage() -> dict[tuple[str, str], str]:
    """Each blob column's storage on PostgreSQL: 'x' extended (compressed if it pays), 'e' external (as it is)."""
    return {blob: db.session.scalar(text(
        "SELECT attstorage FROM pg_attribute WHERE attrelid = CAST(:table AS regclass) AND attname = :column"
    ), {"table": blob[0], "column": blob[1]}) for blob in BLOBS}


def test_0022_stores_pdfs_and_payloads_uncompressed_and_goes_down_again(migrated_app):
    postgresql = db.engine.dialect.name == "postgresql"
    upgrade(revision="0021_employee_month_index")
    if postgresql:
        assert set(storage().values()) == {"x"}
    upgrade(revision="0022_blobs_stored_as_is")
    if postgresql:
        assert set(storage().values()) == {"e"}
    downgrade(revision="0021_employee_month_index")
    if postgresql:
        assert set(storage().values()) == {"x"}
    upgrade()
    if postgresql:
        assert set(storage().values()) == {"e"}
    db.session.remove()


def test_a_database_made_from_the_models_stores_them_uncompressed(pg_app):
    db.create_all()
    assert storage() == {blob: "e" for blob in BLOBS}
    db.session.remove()
