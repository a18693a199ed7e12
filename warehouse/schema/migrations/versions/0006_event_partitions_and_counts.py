"""Monthly partitions of `event`, an event weight, and the ward x month x dataset x category counts kept by trigger.

The counts table (`event_count`) is maintained by statement-level triggers with transition tables on `event`, so
every way an event changes (load, correction, withdrawal, retraction, retention) updates it in the same
transaction. Rows whose counts fall to zero are kept (queries skip them).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The grouping of event_count: everything an aggregate query filters or groups by, except the LSOA.
COUNT_KEY = (
    "dataset",
    "period_month",
    "category",
    "ward_code",
    "ward_vintage",
    "district_code",
    "csp_code",
    "county_code",
    "pfa_code",
    "location_status",
    "protocols",
)
_KEY = ", ".join(COUNT_KEY)

_PARTITION_FUNCTION = """
CREATE FUNCTION hub_event_partition(month date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    first date := date_trunc('month', month)::date;
    name text := format('event_y%sm%s', to_char(first, 'YYYY'), to_char(first, 'MM'));
BEGIN
    IF to_regclass(name) IS NULL THEN
        PERFORM pg_advisory_xact_lock(hashtext('hub_event_partition'));
        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS %I PARTITION OF event FOR VALUES FROM (%L) TO (%L)',
            name, first, (first + interval '1 month')::date
        );
    END IF;
END $$
"""


def _count_function(name: str, rows: str) -> str:
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_count AS c ({_KEY}, events, total)
    SELECT {_KEY}, sum(sign), sum(sign * weight) FROM ({rows}) changed
    GROUP BY {_KEY}
    ON CONFLICT ({_KEY}) DO UPDATE SET events = c.events + EXCLUDED.events, total = c.total + EXCLUDED.total;
    RETURN NULL;
END $$
"""


_ADDED = f"SELECT {_KEY}, weight, 1 AS sign FROM new_rows"
_REMOVED = f"SELECT {_KEY}, weight, -1 AS sign FROM old_rows"


def upgrade() -> None:
    op.execute("ALTER TABLE event ADD COLUMN weight integer NOT NULL DEFAULT 1")
    op.execute("ALTER TABLE event RENAME TO event_unpartitioned")
    for index in ("ix_event_counts", "ix_event_geom", "ix_event_retain_until"):
        op.execute(f"ALTER INDEX IF EXISTS {index} RENAME TO {index}_old")
    op.execute("ALTER TABLE event_unpartitioned RENAME CONSTRAINT event_pkey TO event_unpartitioned_pkey")
    op.execute(
        "CREATE TABLE event (LIKE event_unpartitioned INCLUDING DEFAULTS INCLUDING GENERATED) "
        "PARTITION BY RANGE (period_month)"
    )
    op.execute("ALTER TABLE event ADD CONSTRAINT event_pkey PRIMARY KEY (event_id, period_month)")
    op.execute("CREATE INDEX ix_event_event_id ON event (event_id)")
    op.execute("CREATE INDEX ix_event_counts ON event (dataset, period_month, ward_code, category)")
    op.execute("CREATE INDEX ix_event_geom ON event USING gist (geom)")
    op.execute("CREATE INDEX ix_event_retain_until ON event (retain_until)")
    op.execute(_PARTITION_FUNCTION)
    op.execute("SELECT hub_event_partition(m) FROM (SELECT DISTINCT period_month AS m FROM event_unpartitioned) s")
    op.execute("INSERT INTO event SELECT * FROM event_unpartitioned")
    op.execute("DROP TABLE event_unpartitioned")

    op.execute(
        f"""
        CREATE TABLE event_count (
            dataset text NOT NULL, period_month date NOT NULL, category text, ward_code text, ward_vintage text,
            district_code text, csp_code text, county_code text, pfa_code text, location_status text NOT NULL,
            protocols text[] NOT NULL, events bigint NOT NULL, total bigint NOT NULL,
            CONSTRAINT event_count_key UNIQUE NULLS NOT DISTINCT ({_KEY})
        )
        """
    )
    op.execute("CREATE INDEX ix_event_count_csp ON event_count (dataset, csp_code, period_month)")
    op.execute("CREATE INDEX ix_event_count_district ON event_count (dataset, district_code, period_month)")
    op.execute(
        f"INSERT INTO event_count ({_KEY}, events, total) "
        f"SELECT {_KEY}, count(*), sum(weight) FROM event GROUP BY {_KEY}"
    )
    op.execute(_count_function("hub_event_count_added", _ADDED))
    op.execute(_count_function("hub_event_count_removed", _REMOVED))
    op.execute(_count_function("hub_event_count_changed", f"{_ADDED} UNION ALL {_REMOVED}"))
    op.execute(
        "CREATE TRIGGER event_count_insert AFTER INSERT ON event REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION hub_event_count_added()"
    )
    op.execute(
        "CREATE TRIGGER event_count_delete AFTER DELETE ON event REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION hub_event_count_removed()"
    )
    op.execute(
        "CREATE TRIGGER event_count_update AFTER UPDATE ON event REFERENCING OLD TABLE AS old_rows "
        "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hub_event_count_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TABLE event_count")
    for name in ("added", "removed", "changed"):
        op.execute(f"DROP FUNCTION IF EXISTS hub_event_count_{name}() CASCADE")
    op.execute("CREATE TABLE event_flat (LIKE event INCLUDING DEFAULTS)")
    op.execute("INSERT INTO event_flat SELECT * FROM event")
    op.execute("DROP TABLE event")
    op.execute("DROP FUNCTION hub_event_partition(date)")
    op.execute("ALTER TABLE event_flat RENAME TO event")
    op.execute("ALTER TABLE event ADD CONSTRAINT event_pkey PRIMARY KEY (event_id)")
    op.execute("CREATE INDEX ix_event_counts ON event (dataset, period_month, ward_code, category)")
    op.execute("CREATE INDEX ix_event_geom ON event USING gist (geom)")
    op.execute("CREATE INDEX ix_event_retain_until ON event (retain_until)")
    op.execute("ALTER TABLE event DROP COLUMN weight")
