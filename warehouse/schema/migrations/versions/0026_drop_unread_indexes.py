"""Two indexes no query reads go, so that a load maintains two fewer: `ix_event_geom` and `feed_event_feed`.

`ix_event_geom` (a GiST index on every event's point) would serve a search for the events inside a shape; the
warehouse never makes one: areas are found from an event's point (`ST_Intersects(a.geom, e.geom)` probes the
area's index), and field retention coarsens points by event, by key. `feed_event_feed` (dataset, partner) is never
read either: `feed_event` is read and written by event id only (the data-quality trigger), the per-feed figures are
in their own tables. Maintaining them was a GiST insertion per loaded event and a B-tree insertion per new event.

Revision ID: 0026
Revises: 0024 (the lead renumbers after 0025 at merge)
"""

from __future__ import annotations

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_event_geom")
    op.execute("DROP INDEX IF EXISTS feed_event_feed")


def downgrade() -> None:
    op.execute("CREATE INDEX feed_event_feed ON feed_event (dataset, partner)")
    op.execute("CREATE INDEX ix_event_geom ON event USING gist (geom)")
