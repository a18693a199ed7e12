"""Indexes of the release record for the differencing guard: it reads only the earlier figures on a line of the new
answer (alike in months and areas, months and categories, or areas and categories; every category kept as `{}`),
and the categories an organisation has been shown apart, so that its work per answer does not grow with
everything the organisation was shown. released_figure itself is unchanged (append-only).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_INDEXES = {
    "ix_released_figure_months_areas": "org, level, dataset, first_month, last_month, areas",
    "ix_released_figure_categories_months": (
        "org, level, dataset, (coalesce(categories, '{}'::text[])), first_month, last_month"
    ),
    "ix_released_figure_areas_categories": "org, level, dataset, areas, (coalesce(categories, '{}'::text[]))",
}


def upgrade() -> None:
    for name, columns in _INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON released_figure ({columns})")


def downgrade() -> None:
    for name in _INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
