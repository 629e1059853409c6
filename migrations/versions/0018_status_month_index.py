"""The status pages' month counts from one covering index: (company_id, state, dispatched_at) and the columns they
read (channel, reason, run_id, employee_id), so a bureau-sized table costs a month's index entries and no row reads

Revision ID: 0018_status_month_index
Revises: 0017_payslip_letterhead
Create Date: 2026-12-01 13:45:00

"""
from alembic import op


revision = '0018_status_month_index'
down_revision = '0017_payslip_letterhead'
branch_labels = None
depends_on = None

COLUMNS = ['company_id', 'state', 'dispatched_at', 'channel', 'reason', 'run_id', 'employee_id']


def upgrade():
    op.create_index('ix_dispatch_company_state_month', 'dispatch', COLUMNS, unique=False)


def downgrade():
    op.drop_index('ix_dispatch_company_state_month', table_name='dispatch')
