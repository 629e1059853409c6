"""Dispatch outbox, scheduled sends, Min lön only, Kivra retain

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 22:19:11.018477

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dispatch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('send_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('payslip_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=True),
    sa.Column('routed', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('correlation_id', sa.String(length=64), nullable=True),
    sa.Column('content_key', sa.String(length=64), nullable=True),
    sa.Column('payload', sa.LargeBinary(), nullable=True),
    sa.Column('payload_sha256', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_dispatch_company_id_company')),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], name=op.f('fk_dispatch_employee_id_employee')),
    sa.ForeignKeyConstraint(['payslip_id'], ['payslip.id'], name=op.f('fk_dispatch_payslip_id_payslip')),
    sa.ForeignKeyConstraint(['run_id'], ['payroll_run.id'], name=op.f('fk_dispatch_run_id_payroll_run')),
    sa.ForeignKeyConstraint(['send_id'], ['payslip_send.id'], name=op.f('fk_dispatch_send_id_payslip_send')),
    sa.ForeignKeyConstraint(['version_id'], ['payslip_version.id'], name=op.f('fk_dispatch_version_id_payslip_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch')),
    sa.UniqueConstraint('version_id', 'channel', name=op.f('uq_dispatch_version_id_channel'))
    )
    with op.batch_alter_table('dispatch', schema=None) as batch_op:
        batch_op.create_index('ix_dispatch_company_finished', ['company_id', 'finished_at'], unique=False)
        batch_op.create_index('ix_dispatch_due', ['state', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispatch_employee_id'), ['employee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispatch_payslip_id'), ['payslip_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispatch_run_id'), ['run_id'], unique=False)
        batch_op.create_index('ix_dispatch_send_state', ['send_id', 'state'], unique=False)

    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kivra_retain', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('employee', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_lon_only', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('payslip_send', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scheduled_for', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('payslip_send', schema=None) as batch_op:
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('scheduled_for')

    with op.batch_alter_table('employee', schema=None) as batch_op:
        batch_op.drop_column('min_lon_only')

    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.drop_column('kivra_retain')

    with op.batch_alter_table('dispatch', schema=None) as batch_op:
        batch_op.drop_index('ix_dispatch_send_state')
        batch_op.drop_index(batch_op.f('ix_dispatch_run_id'))
        batch_op.drop_index(batch_op.f('ix_dispatch_payslip_id'))
        batch_op.drop_index(batch_op.f('ix_dispatch_employee_id'))
        batch_op.drop_index('ix_dispatch_due')
        batch_op.drop_index('ix_dispatch_company_finished')

    op.drop_table('dispatch')
