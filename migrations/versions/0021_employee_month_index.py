"""An employee's dispatch rows indexed by (employee_id, dispatched_at) in place of employee_id alone, so the status
page probes each employee, in name order, for its rows of the month; and the employee table's company_id index
dropped, the first column of two other indexes already

Revision ID: 0021_employee_month_index
Revises: 0020_dispatch_tally
Create Date: 2026-12-01 20:30:00

"""
from alembic import op


revision = '0021_employee_month_index'
down_revision = '0020_dispatch_tally'
branch_labels = None
depends_on = None


def upgrade():
    # dispatch is the biggest table: on PostgreSQL its index is built and dropped CONCURRENTLY, outside a transaction,
    # so the workers keep writing meanwhile (docs/operations.md, "Upgrading").
    postgresql = op.get_bind().dialect.name == 'postgresql'
    with op.get_context().autocommit_block():
        # A concurrent build that failed leaves an invalid index behind: dropped first, so the migration can run again.
        op.drop_index('ix_dispatch_employee_month', table_name='dispatch', postgresql_concurrently=postgresql,
                      if_exists=True)
        op.create_index('ix_dispatch_employee_month', 'dispatch', ['employee_id', 'dispatched_at'], unique=False,
                        postgresql_concurrently=postgresql)
        op.drop_index('ix_dispatch_employee_id', table_name='dispatch', postgresql_concurrently=postgresql,
                      if_exists=True)
    op.drop_index('ix_employee_company_id', table_name='employee')


def downgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    op.create_index('ix_employee_company_id', 'employee', ['company_id'], unique=False)
    with op.get_context().autocommit_block():
        op.drop_index('ix_dispatch_employee_id', table_name='dispatch', postgresql_concurrently=postgresql,
                      if_exists=True)
        op.create_index('ix_dispatch_employee_id', 'dispatch', ['employee_id'], unique=False,
                        postgresql_concurrently=postgresql)
        op.drop_index('ix_dispatch_employee_month', table_name='dispatch', postgresql_concurrently=postgresql,
                      if_exists=True)
