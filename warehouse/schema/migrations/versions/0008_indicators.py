"""Reference tables: the scorecard indicator registry and its targets.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicator",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),  # an organisation id
        sa.Column("dataset", sa.String(), nullable=False),
        sa.Column("measure", sa.String(), nullable=False),  # count, rate
        sa.Column("direction", sa.String(), nullable=False),  # lower_is_better, higher_is_better
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("data_lag_months", sa.Integer(), nullable=False),
        sa.Column("provisional_months", sa.Integer(), nullable=False),
        sa.Column("tolerance_pct", sa.Numeric(), nullable=False),
        sa.Column("baseline_year", sa.String(), nullable=False),  # financial year, "2023/24"
        sa.Column("baseline_value", sa.Numeric(), nullable=True),  # NULL: the baselines are by area only
        sa.Column("document", JSONB(), nullable=False),  # the whole indicator document, as loaded
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "indicator_target",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("indicator_id", sa.String(), sa.ForeignKey("indicator.id", ondelete="CASCADE"), nullable=False),
        sa.Column("area_code", sa.String(), nullable=True),  # NULL: the target for every area
        sa.Column("year", sa.String(), nullable=False),  # financial year, "2025/26"
        sa.Column("value", sa.Numeric(), nullable=False),
        # NULLS NOT DISTINCT (PostgreSQL 15): one all-areas target per indicator and year, too.
        sa.UniqueConstraint(
            "indicator_id", "area_code", "year", name="uq_indicator_target", postgresql_nulls_not_distinct=True
        ),
    )


def downgrade() -> None:
    op.drop_table("indicator_target")
    op.drop_table("indicator")
