"""Retractions (a partner withdrawing a record), and what data-quality reports need in each decision.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retraction",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("dataset", sa.String(), nullable=False),
        sa.Column("partner", sa.String(), nullable=True),
        sa.Column("source_topic", sa.String(), nullable=False),
        sa.Column("source_partition", sa.Integer(), nullable=False),
        sa.Column("source_offset", sa.BigInteger(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("source_topic", "source_partition", "source_offset", name="retraction_source_key"),
    )
    op.execute(
        "CREATE TRIGGER retraction_append_only BEFORE UPDATE OR DELETE ON retraction "
        "FOR EACH ROW EXECUTE FUNCTION hub_append_only()"
    )
    op.add_column("decision", sa.Column("fields_present", ARRAY(sa.Text()), nullable=False, server_default="{}"))
    op.add_column("decision", sa.Column("fingerprint", sa.String(), nullable=True))
    op.add_column("decision", sa.Column("period_end", sa.Date(), nullable=True))
    op.add_column("decision", sa.Column("geocoded", sa.Boolean(), nullable=True))
    op.create_index("decision_feed", "decision", ["dataset", "partner", "decided_at"])


def downgrade() -> None:
    op.drop_index("decision_feed", table_name="decision")
    for name in ("geocoded", "period_end", "fingerprint", "fields_present"):
        op.drop_column("decision", name)
    op.execute("DROP TRIGGER IF EXISTS retraction_append_only ON retraction")
    op.drop_table("retraction")
