"""Each event's data-quality state, kept by a trigger on `decision`, so the report as of now reads one row per
event instead of sorting every decision (warehouse.queries.quality).

`feed_event` holds per event id: its feed (dataset, partner), how many decisions and which content hashes it has
had, its first decision (when, and the period's end: late records) and its latest (outcome, fields present,
fingerprint, geocoded). The owner's trigger function (SECURITY DEFINER, like the event_count triggers) keeps it;
neither run-time role writes it. An index on `decision.decided_at` bounds the weekly volume and the "anything
decided after now?" check.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_COLUMNS = (
    "event_id, dataset, partner, decisions, hashes, first_decided_at, first_id, period_end, "
    "latest_decided_at, latest_id, outcome, fields_present, fingerprint, geocoded"
)


def _merge(source: str) -> str:
    """Fold the decisions of `source` (a table or transition table) into feed_event."""
    return f"""
WITH per_event AS (
    SELECT event_id, count(*) AS decisions, array_agg(DISTINCT content_hash ORDER BY content_hash) AS hashes
    FROM {source} GROUP BY event_id
),
first_decision AS (SELECT DISTINCT ON (event_id) * FROM {source} ORDER BY event_id, decided_at, id),
latest_decision AS (SELECT DISTINCT ON (event_id) * FROM {source} ORDER BY event_id, decided_at DESC, id DESC)
INSERT INTO feed_event AS f ({_COLUMNS})
SELECT p.event_id, fd.dataset, fd.partner, p.decisions, p.hashes, fd.decided_at, fd.id, fd.period_end,
       ld.decided_at, ld.id, ld.outcome, ld.fields_present, ld.fingerprint, ld.geocoded
FROM per_event AS p JOIN first_decision AS fd USING (event_id) JOIN latest_decision AS ld USING (event_id)
ON CONFLICT (event_id) DO UPDATE SET
    decisions = f.decisions + EXCLUDED.decisions,
    hashes = ARRAY(SELECT DISTINCT h FROM unnest(f.hashes || EXCLUDED.hashes) AS h ORDER BY h),
    dataset = CASE WHEN (EXCLUDED.first_decided_at, EXCLUDED.first_id) < (f.first_decided_at, f.first_id)
                   THEN EXCLUDED.dataset ELSE f.dataset END,
    partner = CASE WHEN (EXCLUDED.first_decided_at, EXCLUDED.first_id) < (f.first_decided_at, f.first_id)
                   THEN EXCLUDED.partner ELSE f.partner END,
    period_end = CASE WHEN (EXCLUDED.first_decided_at, EXCLUDED.first_id) < (f.first_decided_at, f.first_id)
                      THEN EXCLUDED.period_end ELSE f.period_end END,
    first_id = CASE WHEN (EXCLUDED.first_decided_at, EXCLUDED.first_id) < (f.first_decided_at, f.first_id)
                    THEN EXCLUDED.first_id ELSE f.first_id END,
    first_decided_at = LEAST(f.first_decided_at, EXCLUDED.first_decided_at),
    outcome = CASE WHEN (EXCLUDED.latest_decided_at, EXCLUDED.latest_id) > (f.latest_decided_at, f.latest_id)
                   THEN EXCLUDED.outcome ELSE f.outcome END,
    fields_present = CASE WHEN (EXCLUDED.latest_decided_at, EXCLUDED.latest_id) > (f.latest_decided_at, f.latest_id)
                          THEN EXCLUDED.fields_present ELSE f.fields_present END,
    fingerprint = CASE WHEN (EXCLUDED.latest_decided_at, EXCLUDED.latest_id) > (f.latest_decided_at, f.latest_id)
                       THEN EXCLUDED.fingerprint ELSE f.fingerprint END,
    geocoded = CASE WHEN (EXCLUDED.latest_decided_at, EXCLUDED.latest_id) > (f.latest_decided_at, f.latest_id)
                    THEN EXCLUDED.geocoded ELSE f.geocoded END,
    latest_id = CASE WHEN (EXCLUDED.latest_decided_at, EXCLUDED.latest_id) > (f.latest_decided_at, f.latest_id)
                     THEN EXCLUDED.latest_id ELSE f.latest_id END,
    latest_decided_at = GREATEST(f.latest_decided_at, EXCLUDED.latest_decided_at)
"""


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE feed_event (
    event_id uuid PRIMARY KEY,
    dataset text NOT NULL,
    partner text NOT NULL,
    decisions integer NOT NULL,
    hashes text[] NOT NULL,
    first_decided_at timestamptz NOT NULL,
    first_id bigint NOT NULL,
    period_end date,
    latest_decided_at timestamptz NOT NULL,
    latest_id bigint NOT NULL,
    outcome text NOT NULL,
    fields_present text[] NOT NULL,
    fingerprint text,
    geocoded boolean
)"""
    )
    op.execute("CREATE INDEX feed_event_feed ON feed_event (dataset, partner)")
    op.execute("CREATE INDEX decision_decided_at ON decision (decided_at)")
    op.execute(
        f"""
CREATE FUNCTION hub_feed_event_added() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
{_merge("added")};
    RETURN NULL;
END $$"""
    )
    op.execute(
        "CREATE TRIGGER decision_feed_event AFTER INSERT ON decision REFERENCING NEW TABLE AS added "
        "FOR EACH STATEMENT EXECUTE FUNCTION hub_feed_event_added()"
    )
    op.execute(_merge("decision"))


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS decision_feed_event ON decision")
    op.execute("DROP FUNCTION IF EXISTS hub_feed_event_added()")
    op.execute("DROP INDEX IF EXISTS decision_decided_at")
    op.execute("DROP TABLE IF EXISTS feed_event")
