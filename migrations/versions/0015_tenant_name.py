"""Kivra's tenant name follows the company's: a new kind of Kivra job (`tenantname`), and Kivra's words for a job's
error, which the company settings page shows

Revision ID: 0015_tenant_name
Revises: 0014_self_service
Create Date: 2026-12-01 08:00:00

"""
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


revision = '0015_tenant_name'
down_revision = '0014_self_service'
branch_labels = None
depends_on = None

KINDS_BEFORE = ('access', 'usermatch')
KINDS = (*KINDS_BEFORE, 'tenantname')


def _one_of(column, values):
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


@contextmanager
def _foreign_keys_off_on_sqlite():
    """SQLite's batch mode copies a table and drops the old one, which the rows referring to it would refuse."""
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        with op.get_context().autocommit_block():
            op.execute('PRAGMA foreign_keys=OFF')
    try:
        yield
    finally:
        if sqlite:
            with op.get_context().autocommit_block():
                op.execute('PRAGMA foreign_keys=ON')


@_foreign_keys_off_on_sqlite()
def upgrade():
    with op.batch_alter_table('kivra_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_message', sa.String(length=200), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_kivra_job_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_kivra_job_kind'), _one_of('kind', KINDS))


@_foreign_keys_off_on_sqlite()
def downgrade():
    # The renames asked for go (0014 has no name for them); every other job stays.
    op.execute("DELETE FROM kivra_job WHERE kind = 'tenantname'")
    with op.batch_alter_table('kivra_job', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_kivra_job_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_kivra_job_kind'), _one_of('kind', KINDS_BEFORE))
        batch_op.drop_column('error_message')
