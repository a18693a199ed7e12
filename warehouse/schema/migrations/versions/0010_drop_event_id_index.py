"""Drop `ix_event_event_id`: the primary key (event_id, period_month) already serves lookups by event id alone.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_event_event_id")


def downgrade() -> None:
    op.execute("CREATE INDEX ix_event_event_id ON event (event_id)")
