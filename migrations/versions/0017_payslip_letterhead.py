"""A payslip version freezes the employer's address and contact and the year-to-date totals it prints; versions
made before keep NULL there, and their PDF leaves them out

Revision ID: 0017_payslip_letterhead
Revises: 0016_export_audit
Create Date: 2026-12-01 11:00:00

"""
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


revision = '0017_payslip_letterhead'
down_revision = '0016_export_audit'
branch_labels = None
depends_on = None

ORE = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
COLUMNS = (
    ('employer_street_address', sa.String(length=200)),
    ('employer_postal_code', sa.String(length=10)),
    ('employer_city', sa.String(length=100)),
    ('employer_email', sa.String(length=254)),
    ('employer_phone', sa.String(length=30)),
    ('ytd_gross_ore', ORE),
    ('ytd_tax_ore', ORE),
    ('ytd_net_ore', ORE),
)


@contextmanager
def _foreign_keys_off_on_sqlite():
    """SQLite's batch mode copies a table and drops the old one, which the rows referring to it (dispatch,
    payslip_pdf) would refuse."""
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
    with op.batch_alter_table('payslip_version', schema=None) as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))


@_foreign_keys_off_on_sqlite()
def downgrade():
    with op.batch_alter_table('payslip_version', schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
