"""States named once: the database refuses any state, channel, source or end reason the code does not name; the
never-written payslip_send.cancelled_at goes (a scheduled send called off is deleted, not marked)

The values are written out here, as they are at this revision (the enums are in kivra/dispatch/models.py and
kivra/solutions/models.py); kivra_job's kind and state have had their CHECK constraints since 0010.

Revision ID: 0012_states
Revises: 0011_storage
Create Date: 2026-12-01 03:00:00

"""
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


revision = '0012_states'
down_revision = '0011_storage'
branch_labels = None
depends_on = None

CHANNELS = ('kivra', 'minlon')
CHECKS = {
    'payslip_send': {'channel': CHANNELS, 'state': ('awaiting_agreement', 'waiting_for_kivra', 'queued')},
    'dispatch': {'channel': CHANNELS, 'state': ('held', 'queued', 'sending', 'delivered', 'retained', 'published',
                                                'rejected', 'failed', 'cancelled')},
    'kivra_sender': {'state': ('active', 'pending', 'rejected', 'failed')},
    'kivra_agreement': {'source': ('payroll', 'vla', 'signup'), 'end_reason': ('discontinued', 'scope_changed')},
}


def _one_of(column, values):
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


@contextmanager
def _foreign_keys_off_on_sqlite():
    """SQLite's batch mode copies a table and drops the old one, which the rows referring to it would refuse; the
    pragma is read outside a transaction only, so the work between is committed on its own."""
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
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == 'payslip_send':
                batch_op.drop_column('cancelled_at')
            for column, values in columns.items():
                batch_op.create_check_constraint(op.f(f'ck_{table}_{column}'), _one_of(column, values))


@_foreign_keys_off_on_sqlite()
def downgrade():
    for table, columns in reversed(CHECKS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(columns):
                batch_op.drop_constraint(op.f(f'ck_{table}_{column}'), type_='check')
            if table == 'payslip_send':
                batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(), nullable=True))
