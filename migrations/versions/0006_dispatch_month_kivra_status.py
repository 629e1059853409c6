"""Dispatch time for the status pages' months; each employee's Kivra status from the last usermatch

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 22:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dispatch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dispatched_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE dispatch SET dispatched_at = COALESCE(finished_at, created_at)")
    with op.batch_alter_table('dispatch', schema=None) as batch_op:
        batch_op.alter_column('dispatched_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index('ix_dispatch_company_dispatched', ['company_id', 'dispatched_at'], unique=False)

    with op.batch_alter_table('employee', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kivra_status', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('kivra_checked_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('employee', schema=None) as batch_op:
        batch_op.drop_column('kivra_checked_at')
        batch_op.drop_column('kivra_status')

    with op.batch_alter_table('dispatch', schema=None) as batch_op:
        batch_op.drop_index('ix_dispatch_company_dispatched')
        batch_op.drop_column('dispatched_at')
