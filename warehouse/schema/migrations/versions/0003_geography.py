"""Reference geography: area roll-up lookups and postcodes.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "area_lookup",
        sa.Column("vintage", sa.String(), primary_key=True),
        sa.Column("child_level", sa.String(), primary_key=True),
        sa.Column("child_code", sa.String(), primary_key=True),
        sa.Column("parent_level", sa.String(), primary_key=True),
        sa.Column("parent_code", sa.String(), primary_key=True),
    )
    op.create_index("ix_area_lookup_parent", "area_lookup", ["vintage", "parent_level", "parent_code"])
    op.create_table(
        "postcode",
        sa.Column("postcode_norm", sa.String(), primary_key=True),
        sa.Column("postcode", sa.String(), nullable=False),
        sa.Column("easting", sa.Float(), nullable=False),
        sa.Column("northing", sa.Float(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("lad_code", sa.String(), nullable=True),
        sa.Column("ward_code", sa.String(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sector", sa.Text(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=27700, spatial_index=False), nullable=False),
    )
    op.create_index("ix_postcode_sector", "postcode", ["sector"])
    op.create_index("ix_postcode_district", "postcode", ["district"])
    op.create_index("ix_postcode_geom", "postcode", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_table("postcode")
    op.drop_table("area_lookup")
