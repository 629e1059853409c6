"""Kivra calls a page asks a worker to make (registration, access checks, the register's usermatch)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 20:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

OPEN = "state IN ('queued', 'running')"


def upgrade():
    op.create_table('kivra_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('found', sa.Integer(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('error_code', sa.String(length=20), nullable=True),
    sa.Column('correlation_id', sa.String(length=64), nullable=True),
    sa.CheckConstraint("kind IN ('access', 'usermatch')", name=op.f('ck_kivra_job_kind')),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_kivra_job_state')),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_kivra_job_company_id_company')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_kivra_job_requested_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kivra_job'))
    )
    with op.batch_alter_table('kivra_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kivra_job_company_id'), ['company_id'], unique=False)
        batch_op.create_index('uq_kivra_job_open', ['company_id', 'kind'], unique=True,
                              sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade():
    with op.batch_alter_table('kivra_job', schema=None) as batch_op:
        batch_op.drop_index('uq_kivra_job_open', sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
        batch_op.drop_index(batch_op.f('ix_kivra_job_company_id'))

    op.drop_table('kivra_job')
