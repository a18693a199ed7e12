"""Initial warehouse: reference areas, events, dead letters.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "area",
        sa.Column("vintage", sa.String(), primary_key=True),
        sa.Column("code", sa.String(), primary_key=True),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("properties", JSONB(), nullable=False),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=27700, spatial_index=False), nullable=False),
    )
    op.create_index("ix_area_geom", "area", ["geom"], postgresql_using="gist")
    op.create_index("ix_area_level_vintage", "area", ["level", "vintage"])
    op.create_table(
        "event",
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("dataset", sa.String(), nullable=False),
        sa.Column("partner", sa.String(), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("period_precision", sa.String(), nullable=False),
        sa.Column("period_month", sa.Date(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("attributes", JSONB(), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=27700, spatial_index=False), nullable=True),
        sa.Column("location_status", sa.String(), nullable=False),
        sa.Column("ward_code", sa.String(), nullable=True),
        sa.Column("ward_vintage", sa.String(), nullable=True),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("source_topic", sa.String(), nullable=False),
        sa.Column("source_partition", sa.Integer(), nullable=False),
        sa.Column("source_offset", sa.BigInteger(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_event_counts", "event", ["dataset", "period_month", "ward_code", "category"])
    op.create_index("ix_event_geom", "event", ["geom"], postgresql_using="gist")
    op.create_table(
        "dead_letter",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("source_topic", sa.String(), nullable=False),
        sa.Column("source_partition", sa.Integer(), nullable=False),
        sa.Column("source_offset", sa.BigInteger(), nullable=False),
        sa.Column("event_key", sa.String(), nullable=True),
        sa.Column("dataset", sa.String(), nullable=True),
        sa.Column("partner", sa.String(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("source_topic", "source_partition", "source_offset"),
    )


def downgrade() -> None:
    op.drop_table("dead_letter")
    op.drop_table("event")
    op.drop_table("area")
