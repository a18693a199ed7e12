"""Figures of different levels compared by the differencing guard: each released figure also names its base
areas (the wards a ward, district, CSP, county or force is made of; an LSOA itself), so that a district minus some
of its wards is caught like a ward table's margin minus some of its cells (sharing_protocols.release_record).

Existing rows get their own level and areas as their base (figures recorded before this migration are compared
within their own level, as before); the guard's line indexes (0018) move to the base columns.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_OLD = {
    "ix_released_figure_months_areas": "org, level, dataset, first_month, last_month, areas",
    "ix_released_figure_categories_months": (
        "org, level, dataset, (coalesce(categories, '{}'::text[])), first_month, last_month"
    ),
    "ix_released_figure_areas_categories": "org, level, dataset, areas, (coalesce(categories, '{}'::text[]))",
}
_NEW = {
    "ix_released_figure_base_months_areas": "org, base_level, dataset, first_month, last_month, base_areas",
    "ix_released_figure_base_categories_months": (
        "org, base_level, dataset, (coalesce(categories, '{}'::text[])), first_month, last_month"
    ),
    "ix_released_figure_base_areas_categories": (
        "org, base_level, dataset, base_areas, (coalesce(categories, '{}'::text[]))"
    ),
}


def _indexes(drop: dict[str, str], create: dict[str, str]) -> None:
    for name in drop:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, columns in create.items():
        op.execute(f"CREATE INDEX {name} ON released_figure ({columns})")


def upgrade() -> None:
    op.execute("ALTER TABLE released_figure ADD COLUMN base_level text, ADD COLUMN base_areas text[]")
    op.execute("ALTER TABLE released_figure DISABLE TRIGGER released_figure_append_only")
    op.execute("UPDATE released_figure SET base_level = level, base_areas = areas")
    op.execute("ALTER TABLE released_figure ENABLE TRIGGER released_figure_append_only")
    op.execute("ALTER TABLE released_figure ALTER COLUMN base_level SET NOT NULL, ALTER COLUMN base_areas SET NOT NULL")
    _indexes(_OLD, _NEW)


def downgrade() -> None:
    _indexes(_NEW, _OLD)
    op.execute("ALTER TABLE released_figure DROP COLUMN base_level, DROP COLUMN base_areas")
