"""Money in öre is 64-bit: a run above 21.47 M kr no longer overflows PostgreSQL's INTEGER

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 19:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# Every öre column, by table (the models' `Ore` type).
ORE_COLUMNS = {
    'employee': ('monthly_salary_ore',),
    'payslip_line': ('amount_ore',),
    'payslip_version': ('gross_ore', 'tax_ore', 'net_ore', 'contributions_ore'),
    'voucher_row': ('amount_ore',),
}


def _retype(old, new):
    # SQLite's INTEGER is 64-bit already (the models keep it there): nothing to change, no table to rebuild.
    if op.get_bind().dialect.name == 'sqlite':
        return
    for table, columns in ORE_COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=new, existing_type=old, existing_nullable=False)


def upgrade():
    _retype(sa.Integer(), sa.BigInteger())


def downgrade():
    # Refused by PostgreSQL while any amount is beyond 32 bits: nothing is silently cut.
    _retype(sa.BigInteger(), sa.Integer())
