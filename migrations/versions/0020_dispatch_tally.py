"""The dispatch tally: each company's dispatch rows counted per hour, run, channel, outcome and reason, kept by triggers
on dispatch and filled from the rows already there, so the status pages sum a month from a few tally rows instead of
counting a row per payslip (issue 19.4)

Revision ID: 0020_dispatch_tally
Revises: 0019_status_page_order
Create Date: 2026-12-01 20:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0020_dispatch_tally'
down_revision = '0019_status_page_order'
branch_labels = None
depends_on = None

TRIGGERS = ('dispatch_tally_insert', 'dispatch_tally_delete', 'dispatch_tally_update')
# As kivra/dispatch/tally.py wrote them when this migration was made.
SQLITE = (
    """CREATE TRIGGER dispatch_tally_insert AFTER INSERT ON dispatch WHEN NEW.state != 'cancelled'
BEGIN INSERT INTO dispatch_tally (company_id, run_id, hour, channel, outcome, reason, n, fresh) VALUES (NEW.company_id, NEW.run_id, CAST(strftime('%s', substr(NEW.dispatched_at, 1, 14) || '00') AS INTEGER) / 3600, NEW.channel, CASE WHEN NEW.state IN ('sending', 'queued', 'held') THEN 'pending' ELSE NEW.state END, coalesce(NEW.reason, ''), 1, 1); END""",
    """CREATE TRIGGER dispatch_tally_delete AFTER DELETE ON dispatch WHEN OLD.state != 'cancelled'
BEGIN INSERT INTO dispatch_tally (company_id, run_id, hour, channel, outcome, reason, n, fresh) VALUES (OLD.company_id, OLD.run_id, CAST(strftime('%s', substr(OLD.dispatched_at, 1, 14) || '00') AS INTEGER) / 3600, OLD.channel, CASE WHEN OLD.state IN ('sending', 'queued', 'held') THEN 'pending' ELSE OLD.state END, coalesce(OLD.reason, ''), -1, 1); END""",
    """CREATE TRIGGER dispatch_tally_update AFTER UPDATE OF company_id, run_id, dispatched_at, channel, state, reason ON dispatch
WHEN (OLD.company_id, OLD.run_id, CAST(strftime('%s', substr(OLD.dispatched_at, 1, 14) || '00') AS INTEGER) / 3600, OLD.channel, CASE WHEN OLD.state IN ('sending', 'queued', 'held') THEN 'pending' WHEN OLD.state = 'cancelled' THEN NULL ELSE OLD.state END, coalesce(OLD.reason, '')) IS NOT (NEW.company_id, NEW.run_id, CAST(strftime('%s', substr(NEW.dispatched_at, 1, 14) || '00') AS INTEGER) / 3600, NEW.channel, CASE WHEN NEW.state IN ('sending', 'queued', 'held') THEN 'pending' WHEN NEW.state = 'cancelled' THEN NULL ELSE NEW.state END, coalesce(NEW.reason, ''))
BEGIN
  INSERT INTO dispatch_tally (company_id, run_id, hour, channel, outcome, reason, n, fresh) SELECT OLD.company_id, OLD.run_id, CAST(strftime('%s', substr(OLD.dispatched_at, 1, 14) || '00') AS INTEGER) / 3600, OLD.channel, CASE WHEN OLD.state IN ('sending', 'queued', 'held') THEN 'pending' ELSE OLD.state END, coalesce(OLD.reason, ''), -1, 1 WHERE OLD.state != 'cancelled';
  INSERT INTO dispatch_tally (company_id, run_id, hour, channel, outcome, reason, n, fresh) SELECT NEW.company_id, NEW.run_id, CAST(strftime('%s', substr(NEW.dispatched_at, 1, 14) || '00') AS INTEGER) / 3600, NEW.channel, CASE WHEN NEW.state IN ('sending', 'queued', 'held') THEN 'pending' ELSE NEW.state END, coalesce(NEW.reason, ''), 1, 1 WHERE NEW.state != 'cancelled';
END""",
)
POSTGRESQL = (
    """CREATE FUNCTION dispatch_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state <> 'cancelled' THEN
    INSERT INTO dispatch_tally (company_id, run_id, hour, channel, outcome, reason, n, fresh) VALUES (OLD.company_id, OLD.run_id, floor(extract(epoch FROM OLD.dispatched_at) / 3600)::integer, OLD.channel, CASE WHEN OLD.state IN ('sending', 'queued', 'held') THEN 'pending' ELSE OLD.state END, coalesce(OLD.reason, ''), -1, true);
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.state <> 'cancelled' THEN
    INSERT INTO dispatch_tally (company_id, run_id, hour, channel, outcome, reason, n, fresh) VALUES (NEW.company_id, NEW.run_id, floor(extract(epoch FROM NEW.dispatched_at) / 3600)::integer, NEW.channel, CASE WHEN NEW.state IN ('sending', 'queued', 'held') THEN 'pending' ELSE NEW.state END, coalesce(NEW.reason, ''), 1, true);
  END IF;
  RETURN NULL;
END $$""",
    """CREATE TRIGGER dispatch_tally_insert AFTER INSERT ON dispatch FOR EACH ROW EXECUTE FUNCTION dispatch_tally()""",
    """CREATE TRIGGER dispatch_tally_delete AFTER DELETE ON dispatch FOR EACH ROW EXECUTE FUNCTION dispatch_tally()""",
    """CREATE TRIGGER dispatch_tally_update AFTER UPDATE OF company_id, run_id, dispatched_at, channel, state, reason ON dispatch
FOR EACH ROW WHEN ((OLD.company_id, OLD.run_id, floor(extract(epoch FROM OLD.dispatched_at) / 3600)::integer, OLD.channel, CASE WHEN OLD.state IN ('sending', 'queued', 'held') THEN 'pending' WHEN OLD.state = 'cancelled' THEN NULL ELSE OLD.state END, coalesce(OLD.reason, '')) IS DISTINCT FROM (NEW.company_id, NEW.run_id, floor(extract(epoch FROM NEW.dispatched_at) / 3600)::integer, NEW.channel, CASE WHEN NEW.state IN ('sending', 'queued', 'held') THEN 'pending' WHEN NEW.state = 'cancelled' THEN NULL ELSE NEW.state END, coalesce(NEW.reason, '')))
EXECUTE FUNCTION dispatch_tally()""",
)
HOUR = {
    'sqlite': "CAST(strftime('%s', substr(dispatched_at, 1, 14) || '00') AS INTEGER) / 3600",
    'postgresql': "floor(extract(epoch FROM dispatched_at) / 3600)::integer",
}
FILL = """INSERT INTO dispatch_tally (company_id, run_id, hour, channel, outcome, reason, n, fresh)
SELECT company_id, run_id, {hour}, channel, CASE WHEN state IN ('sending', 'queued', 'held') THEN 'pending' ELSE state END, coalesce(reason, ''), count(*), {false}
FROM dispatch WHERE state != 'cancelled'
GROUP BY company_id, run_id, {hour}, channel, CASE WHEN state IN ('sending', 'queued', 'held') THEN 'pending' ELSE state END, coalesce(reason, '')"""


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        'dispatch_tally',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('hour', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('outcome', sa.String(length=12), nullable=False),
        sa.Column('reason', sa.String(length=30), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('fresh', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_tally')),
    )
    op.create_index('ix_dispatch_tally_key', 'dispatch_tally',
                    ['company_id', 'hour', 'run_id', 'channel', 'outcome', 'reason'], unique=False)
    op.create_index('ix_dispatch_tally_fresh', 'dispatch_tally', ['id'], unique=False,
                    sqlite_where=sa.text('fresh'), postgresql_where=sa.text('fresh'))
    # The triggers first, then the fill, with writers to dispatch locked out from the first trigger until this
    # commits, so no row is counted both by the fill and by a trigger, or by neither. PostgreSQL: creating a trigger
    # locks the table (SHARE ROW EXCLUSIVE) until the transaction ends. SQLite runs DDL outside a transaction unless
    # one is open, so a write that changes nothing opens it and takes the database's write lock first (a worker
    # finishing a row between the triggers and the fill would otherwise be counted twice).
    if dialect == 'sqlite':
        op.execute("UPDATE dispatch SET id = id WHERE 0")
    for statement in SQLITE if dialect == 'sqlite' else POSTGRESQL:
        op.execute(statement)
    op.execute(FILL.format(hour=HOUR[dialect], false='0' if dialect == 'sqlite' else 'false'))


def downgrade():
    for name in TRIGGERS:
        op.execute(f'DROP TRIGGER {name}' + ('' if op.get_bind().dialect.name == 'sqlite' else ' ON dispatch'))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION dispatch_tally()')
    op.drop_index('ix_dispatch_tally_fresh', table_name='dispatch_tally')
    op.drop_index('ix_dispatch_tally_key', table_name='dispatch_tally')
    op.drop_table('dispatch_tally')
