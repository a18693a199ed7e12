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
    first = ", ".join(_0017._pick(c, _0017._FIRST_WINS) for c in ("dataset", "partner", "period_end", "first_id"))
    chosen = ("outcome", "fields_present", "fingerprint", "geocoded", "latest_id")
    latest_wins = ", ".join(_0017._pick(c, _0017._LATEST_WINS) for c in chosen)
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
    ON CONFLICT (event_id) DO UPDATE SET
        decisions = f.decisions + EXCLUDED.decisions,
        hashes = ARRAY(SELECT DISTINCT h FROM unnest(f.hashes || EXCLUDED.hashes) AS h ORDER BY h),
        {first}, first_decided_at = LEAST(f.first_decided_at, EXCLUDED.first_decided_at),
        {latest_wins}, latest_decided_at = GREATEST(f.latest_decided_at, EXCLUDED.latest_decided_at)
    RETURNING f.*
),
changed AS (SELECT -1 AS sign, * FROM old UNION ALL SELECT 1, * FROM new),
totals AS (
    INSERT INTO feed_total AS t ({_0017._TOTALS})
    SELECT dataset, partner, sum(sign * decisions), sum(sign * cardinality(hashes)), sum(sign),
           sum(CASE WHEN outcome = 'released' THEN sign ELSE 0 END),
           sum(CASE WHEN outcome = 'withheld' THEN sign ELSE 0 END), sum(CASE WHEN geocoded THEN sign ELSE 0 END),
           max(latest_decided_at)
    FROM changed GROUP BY dataset, partner
    ON CONFLICT (dataset, partner) DO UPDATE SET
        decisions = t.decisions + EXCLUDED.decisions, versions = t.versions + EXCLUDED.versions,
        events = t.events + EXCLUDED.events, released = t.released + EXCLUDED.released,
        withheld = t.withheld + EXCLUDED.withheld, geocoded = t.geocoded + EXCLUDED.geocoded,
        last_seen = GREATEST(t.last_seen, EXCLUDED.last_seen)
),
fields AS (
    INSERT INTO feed_field AS c (dataset, partner, field, events)
    SELECT dataset, partner, name, sum(sign) FROM changed, unnest(fields_present) AS name GROUP BY 1, 2, 3 {_SKIP}
    ON CONFLICT (dataset, partner, field) DO UPDATE SET events = c.events + EXCLUDED.events
),
fingerprints AS (
    INSERT INTO feed_fingerprint AS c (dataset, partner, fingerprint, events)
    SELECT dataset, partner, fingerprint, sum(sign) FROM changed WHERE fingerprint IS NOT NULL
    GROUP BY 1, 2, 3 {_SKIP}
    ON CONFLICT (dataset, partner, fingerprint) DO UPDATE SET events = c.events + EXCLUDED.events
)
INSERT INTO feed_lateness AS c (dataset, partner, days, events)
SELECT dataset, partner, CAST(first_decided_at AT TIME ZONE 'UTC' AS date) - period_end, sum(sign)
FROM changed WHERE period_end IS NOT NULL GROUP BY 1, 2, 3 {_SKIP}
ON CONFLICT (dataset, partner, days) DO UPDATE SET events = c.events + EXCLUDED.events
"""


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
