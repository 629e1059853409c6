"""Exports with full personnummer are recorded: who (user and name as it was), when, the month, the filter and the
number of rows; the Kivra status page lists a company's latest

Revision ID: 0016_export_audit
Revises: 0015_tenant_name
Create Date: 2026-12-01 10:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0016_export_audit'
down_revision = '0015_tenant_name'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'personnummer_export',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('user_name', sa.String(length=200), nullable=False),
        sa.Column('exported_at', sa.DateTime(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=True),
        sa.Column('searched', sa.Boolean(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_personnummer_export_company_id_company')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_personnummer_export_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_personnummer_export')),
    )
    with op.batch_alter_table('personnummer_export', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_personnummer_export_company_id'), ['company_id'], unique=False)


def downgrade():
    with op.batch_alter_table('personnummer_export', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_personnummer_export_company_id'))
    op.drop_table('personnummer_export')
