"""The data-quality report's figures kept by a trigger on `decision`, so that the report as of now reads a few
rows per feed instead of sorting every decision (warehouse.queries.quality).

`feed_event` holds each event's state: its feed (dataset, partner: of its first decision), how many decisions and
which content hashes it has had, its first decision (when, and the period's end) and its latest (outcome, fields
present, fingerprint, geocoded). Each INSERT into decision folds its rows into it and adds the change of every
event's state (the old state taken away, the new one added) to the per-feed tables: `feed_total` (decisions,
versions, events, released, withheld, geocoded, last seen), `feed_field` (events with each field present),
`feed_fingerprint` (events per fingerprint: duplicates) and `feed_lateness` (events by days from the end of their
period to their first decision: late records for any threshold). The owner's trigger function (SECURITY DEFINER,
like the event_count triggers) keeps them; neither run-time role writes them. An index on `decision.decided_at`
bounds the weekly volume and the "anything decided after now?" check.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_TOTALS = "dataset, partner, decisions, versions, events, released, withheld, geocoded, last_seen"
_COLUMNS = (
    "event_id, dataset, partner, decisions, hashes, first_decided_at, first_id, period_end, "
    "latest_decided_at, latest_id, outcome, fields_present, fingerprint, geocoded"
)


_LATEST_WINS = "(EXCLUDED.latest_decided_at, EXCLUDED.latest_id) > (f.latest_decided_at, f.latest_id)"
_FIRST_WINS = "(EXCLUDED.first_decided_at, EXCLUDED.first_id) < (f.first_decided_at, f.first_id)"


def _pick(column: str, wins: str) -> str:
    return f"{column} = CASE WHEN {wins} THEN EXCLUDED.{column} ELSE f.{column} END"


def _event_upsert() -> str:
    """The ON CONFLICT of the insert into feed_event: a stored event's state merged with the statement's."""
    first = ", ".join(_pick(c, _FIRST_WINS) for c in ("dataset", "partner", "period_end", "first_id"))
    latest = ", ".join(
        _pick(c, _LATEST_WINS) for c in ("outcome", "fields_present", "fingerprint", "geocoded", "latest_id")
    )
    return f"""    ON CONFLICT (event_id) DO UPDATE SET
        decisions = f.decisions + EXCLUDED.decisions,
        hashes = ARRAY(SELECT DISTINCT h FROM unnest(f.hashes || EXCLUDED.hashes) AS h ORDER BY h),
        {first}, first_decided_at = LEAST(f.first_decided_at, EXCLUDED.first_decided_at),
        {latest}, latest_decided_at = GREATEST(f.latest_decided_at, EXCLUDED.latest_decided_at)
    RETURNING f.*
),"""


def _per_feed(having: str) -> str:
    """The statement's end: the change of each event's state (`old` taken away, `new` added) into the per-feed
    tables; `having` (with its leading space) filters the field, fingerprint and lateness keys."""
    return f"""changed AS (SELECT -1 AS sign, * FROM old UNION ALL SELECT 1, * FROM new),
totals AS (
    INSERT INTO feed_total AS t ({_TOTALS})
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
    SELECT dataset, partner, name, sum(sign) FROM changed, unnest(fields_present) AS name GROUP BY 1, 2, 3{having}
    ON CONFLICT (dataset, partner, field) DO UPDATE SET events = c.events + EXCLUDED.events
),
fingerprints AS (
    INSERT INTO feed_fingerprint AS c (dataset, partner, fingerprint, events)
    SELECT dataset, partner, fingerprint, sum(sign) FROM changed WHERE fingerprint IS NOT NULL GROUP BY 1, 2, 3{having}
    ON CONFLICT (dataset, partner, fingerprint) DO UPDATE SET events = c.events + EXCLUDED.events
)
INSERT INTO feed_lateness AS c (dataset, partner, days, events)
SELECT dataset, partner, CAST(first_decided_at AT TIME ZONE 'UTC' AS date) - period_end, sum(sign)
FROM changed WHERE period_end IS NOT NULL GROUP BY 1, 2, 3{having}
ON CONFLICT (dataset, partner, days) DO UPDATE SET events = c.events + EXCLUDED.events
"""


def _merge(source: str) -> str:
    """Fold the decisions of `source` (a table or transition table) into feed_event, and the change of each
    event's state (its old state taken away, its new one added) into the per-feed tables, in one statement."""
    return f"""
WITH per_event AS (
    SELECT event_id, count(*) AS decisions, array_agg(DISTINCT content_hash ORDER BY content_hash) AS hashes
    FROM {source} GROUP BY event_id
),
first_decision AS (SELECT DISTINCT ON (event_id) * FROM {source} ORDER BY event_id, decided_at, id),
latest_decision AS (SELECT DISTINCT ON (event_id) * FROM {source} ORDER BY event_id, decided_at DESC, id DESC),
old AS (SELECT f.* FROM feed_event AS f JOIN per_event USING (event_id)),
new AS (
    INSERT INTO feed_event AS f ({_COLUMNS})
    SELECT p.event_id, fd.dataset, fd.partner, p.decisions, p.hashes, fd.decided_at, fd.id, fd.period_end,
           ld.decided_at, ld.id, ld.outcome, ld.fields_present, ld.fingerprint, ld.geocoded
    FROM per_event AS p JOIN first_decision AS fd USING (event_id) JOIN latest_decision AS ld USING (event_id)
{_event_upsert()}
{_per_feed(having="")}"""


_PER_FEED = (
    ("feed_field", "field", "text"),
    ("feed_fingerprint", "fingerprint", "text"),
    ("feed_lateness", "days", "integer"),
)


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
    op.execute(
        """
CREATE TABLE feed_total (
    dataset text, partner text, decisions bigint NOT NULL, versions bigint NOT NULL, events bigint NOT NULL,
    released bigint NOT NULL, withheld bigint NOT NULL, geocoded bigint NOT NULL, last_seen timestamptz NOT NULL,
    PRIMARY KEY (dataset, partner)
)"""
    )
    for table, column, kind in _PER_FEED:
        op.execute(
            f"CREATE TABLE {table} (dataset text, partner text, {column} {kind}, events bigint NOT NULL, "
            f"PRIMARY KEY (dataset, partner, {column}))"
        )
    op.execute("CREATE INDEX feed_fingerprint_repeated ON feed_fingerprint (dataset, partner) WHERE events > 1")
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
    for table in ("feed_event", "feed_total", *(t for t, _, _ in _PER_FEED)):
        op.execute(f"DROP TABLE IF EXISTS {table}")
