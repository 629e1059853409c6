"""The status page's first page of a big month without sorting it: employees indexed by (company_id, name, id), and
a run's rows by (run_id, dispatched_at) in place of run_id alone, so the month's run filter probes each run

Revision ID: 0019_status_page_order
Revises: 0018_status_month_index
Create Date: 2026-12-01 17:00:00

"""
from alembic import op


revision = '0019_status_page_order'
down_revision = '0018_status_month_index'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_employee_company_name', 'employee', ['company_id', 'name', 'id'], unique=False)
    op.create_index('ix_dispatch_run_month', 'dispatch', ['run_id', 'dispatched_at'], unique=False)
    op.drop_index('ix_dispatch_run_id', table_name='dispatch')


def downgrade():
    op.create_index('ix_dispatch_run_id', 'dispatch', ['run_id'], unique=False)
    op.drop_index('ix_dispatch_run_month', table_name='dispatch')
    op.drop_index('ix_employee_company_name', table_name='employee')
