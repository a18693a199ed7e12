"""The data-quality trigger (0017's `hub_feed_event_added`) reads its transition table once, and skips no-ops.

0017's statement read the statement's decisions three times (a grouped count with a sorted distinct array of
content hashes per event, and two DISTINCT ONs, each sorting the rows: the first and the latest decision). This
one sorts them once, by event, time and id, and a window over each event gives its count, hashes and latest
decision beside its first row; the hashes of an event with one decision need no sort. The per-feed field,
fingerprint and lateness upserts then skip the keys whose change adds up to nothing (a new version with the same
fields, fingerprint or first decision: the row is already there, since the old state was added before), so no
row is rewritten to the same count. The figures kept are the same; the function stays SECURITY DEFINER, owned as
before. Downgrade restores 0017's function.

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

_0017 = importlib.import_module("warehouse.schema.migrations.versions.0017_feed_events")

_LATEST = ("decided_at", "id", "outcome", "fields_present", "fingerprint", "geocoded")
_SKIP = "HAVING sum(sign) <> 0"  # a key whose change adds up to nothing: its row is there already, unchanged


def merge(source: str) -> str:
    """0017's statement over `source`, with one sorted pass over it and no-op keys skipped."""
    latest = ", ".join(f"last_value({c}) OVER e AS latest_{c}" for c in _LATEST)
    return f"""
WITH ordered AS (
    SELECT event_id, dataset, partner, decided_at, id, period_end, row_number() OVER e AS n,
           count(*) OVER e AS decisions, array_agg(content_hash) OVER e AS hashes, {latest}
    FROM {source}
    WINDOW e AS (PARTITION BY event_id ORDER BY decided_at, id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
),
per_event AS (SELECT * FROM ordered WHERE n = 1),
old AS (SELECT f.* FROM feed_event AS f JOIN per_event USING (event_id)),
new AS (
    INSERT INTO feed_event AS f ({_0017._COLUMNS})
    SELECT event_id, dataset, partner, decisions,
           CASE WHEN decisions = 1 THEN hashes ELSE ARRAY(SELECT DISTINCT h FROM unnest(hashes) AS h ORDER BY h) END,
           decided_at, id, period_end, latest_decided_at, latest_id, latest_outcome, latest_fields_present,
           latest_fingerprint, latest_geocoded
    FROM per_event
{_0017._event_upsert()}
{_0017._per_feed(" " + _SKIP)}"""


def _function(body: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION hub_feed_event_added() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
{body};
    RETURN NULL;
END $$"""


def upgrade() -> None:
    op.execute(_function(merge("added")))


def downgrade() -> None:
    op.execute(_function(_0017._merge("added")))
