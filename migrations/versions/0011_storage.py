"""Finished dispatch rows no longer keep their payload bytes (the checksum and the version's PDF stay)

Rows that reached an outcome never sent again drop their stored Kivra payload as they finish (kivra/dispatch/engine.py);
this drops it from the rows finished before. A batch per transaction, outside the migration's own transaction, so a
big table is never locked at once and an interrupted run carries on where it stopped. Failed rows keep their bytes
("Resend failed" sends them again). The downgrade changes nothing: the schema is the same, and dropped bytes are gone.

Revision ID: 0011_storage
Revises: 0010
Create Date: 2026-11-30 23:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011_storage'
down_revision = '0010'
branch_labels = None
depends_on = None

BATCH = 1000
DROP = sa.text(
    "UPDATE dispatch SET payload = NULL WHERE id IN (SELECT id FROM dispatch WHERE payload IS NOT NULL "
    "AND state IN ('delivered', 'retained', 'published', 'rejected', 'cancelled') ORDER BY id LIMIT :batch)"
)


def upgrade():
    with op.get_context().autocommit_block():
        while op.get_bind().execute(DROP, {"batch": BATCH}).rowcount:
            pass  # each batch empties rows the next one no longer finds: it ends


def downgrade():
    pass
