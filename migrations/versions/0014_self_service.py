"""Companies that run themselves: sign-up with a confirmed e-mail address, company settings (bank account, payout
day), users invited by a colleague, deactivated, their roles changed, and every such change recorded

Every company and user before this revision was made by an operator (`flask demo`, provisioning), not by signing up:
they are confirmed as of their creation, so nothing that could send before is stopped by it.

Revision ID: 0014_self_service
Revises: 0013_mail
Create Date: 2026-12-01 07:00:00

"""
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


revision = '0014_self_service'
down_revision = '0013_mail'
branch_labels = None
depends_on = None

ACTIONS = ('signed_up', 'invited', 'invitation_resent', 'joined', 'role_changed', 'deactivated', 'reactivated')
KINDS_BEFORE = ('invitation', 'payslip_notice', 'password_reset')
KINDS = (*KINDS_BEFORE, 'signup_confirmation', 'user_invitation')


def _one_of(column, values):
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


@contextmanager
def _foreign_keys_off_on_sqlite():
    """SQLite's batch mode copies a table and drops the old one, which the rows referring to it would refuse."""
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
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('bankgiro', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('clearing_number', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('account_number', sa.String(length=15), nullable=True))
        batch_op.add_column(sa.Column('payout_day', sa.Integer(), server_default='25', nullable=False))
    op.execute("UPDATE company SET confirmed_at = created_at")

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('password_hash', existing_type=sa.String(length=256), nullable=True)
        batch_op.add_column(sa.Column('email_confirmed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('invitation_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('invited_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('invited_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('deactivated_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_user_invited_by_id_user'), 'user', ['invited_by_id'], ['id'])
    op.execute('UPDATE "user" SET email_confirmed_at = (SELECT created_at FROM company '
               'WHERE company.id = "user".company_id)')

    op.create_table(
        'user_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_name', sa.String(length=200), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('detail', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint(_one_of('action', ACTIONS), name=op.f('ck_user_change_action')),
        sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_user_change_actor_id_user')),
        sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_user_change_company_id_company')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_change_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_change')),
    )
    with op.batch_alter_table('user_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_change_company_id'), ['company_id'], unique=False)

    with op.batch_alter_table('outbound_email', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_outbound_email_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_outbound_email_kind'), _one_of('kind', KINDS))


@_foreign_keys_off_on_sqlite()
def downgrade():
    # The e-mail of the two new kinds goes (0013 has no name for it); every other message stays.
    op.execute("DELETE FROM outbound_email WHERE kind IN ('signup_confirmation', 'user_invitation')")
    with op.batch_alter_table('outbound_email', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_outbound_email_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_outbound_email_kind'), _one_of('kind', KINDS_BEFORE))
    with op.batch_alter_table('user_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_change_company_id'))
    op.drop_table('user_change')
    # A user invited who never chose a password cannot exist at 0013 (the password is required there).
    op.execute('DELETE FROM "user" WHERE password_hash IS NULL')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_user_invited_by_id_user'), type_='foreignkey')
        for column in ('deactivated_at', 'invited_by_id', 'invited_at', 'invitation_hash', 'email_confirmed_at'):
            batch_op.drop_column(column)
        batch_op.alter_column('password_hash', existing_type=sa.String(length=256), nullable=False)
    with op.batch_alter_table('company', schema=None) as batch_op:
        for column in ('payout_day', 'account_number', 'clearing_number', 'bankgiro', 'confirmed_at'):
            batch_op.drop_column(column)
