"""A calculated run's payslip count, kept on the run: the run list reads it rather than count every payslip of every
run on each look (kivra/payroll/service.py, payslip_counts). Filled for the runs already calculated.

Revision ID: 0023_run_payslip_count
Revises: 0022_blobs_stored_as_is
Create Date: 2026-12-03 03:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0023_run_payslip_count'
down_revision = '0022_blobs_stored_as_is'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('payroll_run', sa.Column('payslip_count', sa.Integer(), nullable=True))
    # A calculated run's payslips are fixed: counted once here. A draft's stay counted on each look.
    op.execute("UPDATE payroll_run SET payslip_count = "
               "(SELECT count(*) FROM payslip WHERE payslip.run_id = payroll_run.id) WHERE status = 'calculated'")


def downgrade():
    # ALTER TABLE DROP COLUMN on both databases (SQLite has it since 3.35): a batch operation would copy payroll_run
    # to a new table, which the foreign keys of payslip and dispatch refuse while they are checked.
    op.drop_column('payroll_run', 'payslip_count')
