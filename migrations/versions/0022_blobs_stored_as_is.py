"""PostgreSQL keeps a version's PDF and a dispatch row's payload out of line without trying to compress them (STORAGE
EXTERNAL): pglz compressed neither by a byte, and trying tripled PostgreSQL's CPU to write them (bench/blob_storage.py).
Only values written from now on are affected; nothing is rewritten. SQLite has no such setting: nothing to do there.

Revision ID: 0022_blobs_stored_as_is
Revises: 0021_employee_month_index
Create Date: 2026-12-02 03:10:00

"""
from alembic import op


revision = '0022_blobs_stored_as_is'
down_revision = '0021_employee_month_index'
branch_labels = None
depends_on = None

COLUMNS = (('payslip_version', 'pdf'), ('dispatch', 'payload'))


def _storage(kind):
    if op.get_bind().dialect.name != 'postgresql':
        return
    # A change of the catalogue only, but under an exclusive lock on the table: rather than queue behind a long
    # transaction (and every worker behind it), give up after 5 s; run the upgrade again (docs/operations.md).
    op.execute("SET LOCAL lock_timeout = '5s'")
    for table, column in COLUMNS:
        op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE {kind}')
    op.execute('RESET lock_timeout')


def upgrade():
    _storage('EXTERNAL')


def downgrade():
    _storage('EXTENDED')  # bytea's own: compressed when PostgreSQL finds it worth trying
