"""Reference tables: loaded geography vintages and population denominators.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "geography_vintage",
        sa.Column("vintage", sa.String(), primary_key=True),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("areas", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.execute(
        "INSERT INTO geography_vintage (vintage, level, source, areas) "
        "SELECT vintage, min(level), 'loaded before geography_vintage was recorded', count(*) FROM area "
        "GROUP BY vintage"
    )
    op.create_table(
        "population",
        sa.Column("level", sa.String(), primary_key=True),  # lsoa, ward, lad, csp, county, pfa
        sa.Column("area_code", sa.String(), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("sex", sa.String(), primary_key=True),  # persons, female, male
        sa.Column("age_band", sa.String(), primary_key=True),  # "all ages", "16+", "18+", "16-64", ...
        sa.Column("population", sa.Numeric(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),  # "published" or how it was derived (best-fit sum, ...)
    )
    op.create_index("ix_population_lookup", "population", ["level", "sex", "age_band", "year"])


def downgrade() -> None:
    op.drop_index("ix_population_lookup", table_name="population")
    op.drop_table("population")
    op.drop_table("geography_vintage")
