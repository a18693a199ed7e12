"""Covering indexes on `event_count` for analyst queries filtered by an area, and one for its first/last month.

An analyst query filters on one area column (a district, CSP, county or force) and a month range, and groups by
that column or a finer one. Each area column gets an index (dataset, area, period_month) that also carries the
finer area columns, the category, location status, clause set and total, so the query is an index-only scan
instead of one heap page per row (`event_count` rows of one area are spread over the whole table); the county and
force had no index at all. 0006's district and CSP indexes are replaced by covering ones of the same names.

The first and last month with data (`min`/`max(period_month)` for some datasets and clauses) get an index led
by the month: a `dataset = ANY(...)` condition cannot use the (dataset, period_month, ...) key's order.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# event_count's area columns, finest first, and the index on each (the ward is filtered through the unique key).
AREAS = ("ward_code", "district_code", "csp_code", "county_code", "pfa_code")
INDEXES = {
    "district_code": "ix_event_count_district",
    "csp_code": "ix_event_count_csp",
    "county_code": "ix_event_count_county",
    "pfa_code": "ix_event_count_pfa",
}
CARRIED = ("category", "location_status", "protocols", "total")  # what a count query reads besides the areas


def upgrade() -> None:
    op.execute("DROP INDEX ix_event_count_csp")
    op.execute("DROP INDEX ix_event_count_district")
    for column, name in INDEXES.items():
        finer = AREAS[: AREAS.index(column)]
        op.execute(
            f"CREATE INDEX {name} ON event_count (dataset, {column}, period_month) "
            f"INCLUDE ({', '.join(finer + CARRIED)})"
        )
    op.execute("CREATE INDEX ix_event_count_month ON event_count (period_month, dataset) INCLUDE (protocols, events)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_event_count_month")
    for name in INDEXES.values():
        op.execute(f"DROP INDEX {name}")
    op.execute("CREATE INDEX ix_event_count_csp ON event_count (dataset, csp_code, period_month)")
    op.execute("CREATE INDEX ix_event_count_district ON event_count (dataset, district_code, period_month)")
