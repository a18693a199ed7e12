"""Events keep every level they were geocoded to, and how: CSP, county, police force area, method, quality.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ("csp_code", "county_code", "pfa_code", "geocode_method")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("event", sa.Column(name, sa.String(), nullable=True))
    op.add_column("event", sa.Column("geocode_quality", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("event", "geocode_quality")
    for name in reversed(COLUMNS):
        op.drop_column("event", name)
