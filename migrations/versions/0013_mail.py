"""E-mail that leaves: the outbox gets its states, attempts, claims and whom each message is for; password resets and
session versions for company users and Min lön accounts; Min lön's payslip notices can be turned off

The outbox's rows so far were never sent (nothing sent them). An invitation written within the last week still
carries a working link, so it is queued and now goes; an older one's link has expired, so it is marked failed with
that reason (the admin invites again), rather than sending a link that no longer works.

Revision ID: 0013_mail
Revises: 0012_states
Create Date: 2026-12-01 06:00:00

"""
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


revision = '0013_mail'
down_revision = '0012_states'
branch_labels = None
depends_on = None

STATES = ('queued', 'sending', 'sent', 'failed')  # kivra/mail/models.py at this revision
KINDS = ('invitation', 'payslip_notice', 'password_reset')
NEVER_SENT = "Not sent: written before the app sent e-mail, and its invitation link has expired since. Invite again."


def _one_of(column, values):
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


@contextmanager
def _foreign_keys_off_on_sqlite():
    """SQLite's batch mode copies a table and drops the old one, which the rows referring to it would refuse (a
    company user is referred to by much); the pragma is read outside a transaction only."""
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


def _reset_columns(batch_op):
    batch_op.add_column(sa.Column('reset_hash', sa.String(length=64), nullable=True))
    batch_op.add_column(sa.Column('reset_requested_at', sa.DateTime(), nullable=True))
    batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


@_foreign_keys_off_on_sqlite()
def upgrade():
    with op.batch_alter_table('outbound_email', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='invitation', nullable=False))
        batch_op.add_column(sa.Column('company_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('employee_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('once_key', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('state', sa.String(length=10), server_default='queued', nullable=False))
        batch_op.add_column(sa.Column('due_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbound_email_company_id_company'), 'company', ['company_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_outbound_email_employee_id_employee'), 'employee', ['employee_id'],
                                    ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_outbound_email_user_id_user'), 'user', ['user_id'], ['id'])
        batch_op.create_unique_constraint(batch_op.f('uq_outbound_email_once_key'), ['once_key'])
        batch_op.create_index(batch_op.f('ix_outbound_email_employee_id'), ['employee_id'], unique=False)
        batch_op.create_index('ix_outbound_email_due', ['state', 'due_at'], unique=False)
        batch_op.create_check_constraint(batch_op.f('ck_outbound_email_state'), _one_of('state', STATES))
        batch_op.create_check_constraint(batch_op.f('ck_outbound_email_kind'), _one_of('kind', KINDS))

    # Whom each earlier invitation was for: the invited employee with that address (the oldest, if two share it).
    op.execute("""
        UPDATE outbound_email SET employee_id = (
            SELECT MIN(employee.id) FROM employee JOIN portal_account ON portal_account.employee_id = employee.id
            WHERE LOWER(employee.email) = LOWER(outbound_email.to_address))
    """)
    op.execute("UPDATE outbound_email SET company_id = (SELECT company_id FROM employee "
               "WHERE employee.id = outbound_email.employee_id)")
    op.execute("UPDATE outbound_email SET due_at = created_at")
    week_ago = sa.func.now() - sa.text("INTERVAL '7 days'") if op.get_bind().dialect.name == 'postgresql' \
        else sa.text("datetime('now', '-7 days')")
    outbound = sa.table('outbound_email', sa.column('created_at', sa.DateTime()), sa.column('state', sa.String()),
                        sa.column('failed_at', sa.DateTime()), sa.column('last_error', sa.Text()))
    op.execute(outbound.update().where(outbound.c.created_at < week_ago)
               .values(state='failed', failed_at=outbound.c.created_at, last_error=NEVER_SENT))

    with op.batch_alter_table('outbound_email', schema=None) as batch_op:
        batch_op.alter_column('due_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.alter_column('kind', existing_type=sa.String(length=20), server_default=None)
        batch_op.alter_column('state', existing_type=sa.String(length=10), server_default=None)
        batch_op.alter_column('attempts', existing_type=sa.Integer(), server_default=None)

    with op.batch_alter_table('portal_account', schema=None) as batch_op:
        _reset_columns(batch_op)
        batch_op.add_column(sa.Column('notify_new_payslips', sa.Boolean(), server_default=sa.true(), nullable=False))
    with op.batch_alter_table('user', schema=None) as batch_op:
        _reset_columns(batch_op)


@_foreign_keys_off_on_sqlite()
def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        for column in ('session_version', 'reset_requested_at', 'reset_hash'):
            batch_op.drop_column(column)
    with op.batch_alter_table('portal_account', schema=None) as batch_op:
        for column in ('notify_new_payslips', 'session_version', 'reset_requested_at', 'reset_hash'):
            batch_op.drop_column(column)
    # Every message stays (0012 sends none of them); what goes is where each stood.
    with op.batch_alter_table('outbound_email', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_outbound_email_kind'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_outbound_email_state'), type_='check')
        batch_op.drop_index('ix_outbound_email_due')
        batch_op.drop_index(batch_op.f('ix_outbound_email_employee_id'))
        batch_op.drop_constraint(batch_op.f('uq_outbound_email_once_key'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_outbound_email_user_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_outbound_email_employee_id_employee'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_outbound_email_company_id_company'), type_='foreignkey')
        for column in ('last_error', 'failed_at', 'sent_at', 'claimed_until', 'claimed_by', 'attempts', 'due_at',
                       'state', 'once_key', 'user_id', 'employee_id', 'company_id', 'kind'):
            batch_op.drop_column(column)
