"""Min lön: employees' sign-ins (invited by e-mail) and the outbox of e-mail

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('portal_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=True),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('invitation_hash', sa.String(length=64), nullable=True),
    sa.Column('invited_at', sa.DateTime(), nullable=True),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('password_set_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employee.id'], name=op.f('fk_portal_account_employee_id_employee')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['user.id'], name=op.f('fk_portal_account_invited_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_account')),
    sa.UniqueConstraint('employee_id', name=op.f('uq_portal_account_employee_id'))
    )
    op.create_table('outbound_email',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_email'))
    )


def downgrade():
    op.drop_table('outbound_email')
    op.drop_table('portal_account')
