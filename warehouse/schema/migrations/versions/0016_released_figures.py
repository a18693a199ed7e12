"""The release record: every figure of a threshold-and-round answer released (or suppressed) to an organisation.

One row per figure (cell, margin or total), written in the same transaction as the answer's access_log row
(`access_id`); append-only like the access log. See sharing_protocols.release_record.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "released_figure",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("access_id", sa.BigInteger(), sa.ForeignKey("access_log.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("org", sa.String(), nullable=False),
        sa.Column("dataset", sa.String(), nullable=False),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("areas", ARRAY(sa.Text()), nullable=False),
        sa.Column("categories", ARRAY(sa.Text()), nullable=True),
        sa.Column("first_month", sa.Date(), nullable=False),
        sa.Column("last_month", sa.Date(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("min_cell_count", sa.Integer(), nullable=False),
        sa.Column("round_to", sa.Integer(), nullable=False),
        sa.Column("clauses", ARRAY(sa.Text()), nullable=False),
    )
    op.create_index("ix_released_figure_org_dataset_level", "released_figure", ["org", "dataset", "level", "at"])
    op.execute(
        "CREATE TRIGGER released_figure_append_only BEFORE UPDATE OR DELETE ON released_figure "
        "FOR EACH ROW EXECUTE FUNCTION hub_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS released_figure_append_only ON released_figure")
    op.drop_table("released_figure")
