"""A district-grain aggregate, `event_count_district`, kept with `event_count` by one grouped read per statement.

`event_count_district` is `event_count` without the ward (and its vintage): events per dataset, month,
category, district, CSP, county, force, location status and clause set. District, CSP, county and force
queries, and the clause sets, months and categories a dataset has, read it instead of `event_count` (on 10M
generated events it holds about 16 times fewer rows). Its only index is its unique key, led by the dataset and
month (the range those queries read), and its pages are left 30 % free, so a count that changes is a HOT update:
no index entry to add.

The three count functions the statement-level triggers of 0006 run are replaced. Each groups the statement's
transition table once, by event_count's key, skipping groups whose change adds up to nothing (e.g. a field
retention that rewrites only attributes); that upserts `event_count`, and the same groups summed to the district
key upsert `event_count_district`, in one statement. Both upserts go in key order, so loaders writing at once
lock the rows they share in one order. `event_count`'s first/last-month index goes (only the dataset's first and
last month read it, and they now read the new table), so a load maintains one index fewer on the large table.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

KEY = (
    "dataset, period_month, category, ward_code, ward_vintage, district_code, csp_code, county_code, pfa_code, "
    "location_status, protocols"
)
DISTRICT_KEY = (
    "dataset, period_month, category, district_code, csp_code, county_code, pfa_code, location_status, protocols"
)
FILLFACTOR = 70  # room on each page for an updated row's new version (a HOT update: no index entry to add)
ADDED = f"SELECT {KEY}, weight, record_key, 1 AS sign FROM new_rows"
REMOVED = f"SELECT {KEY}, weight, record_key, -1 AS sign FROM old_rows"
FUNCTIONS = {"hub_event_count_added": ADDED, "hub_event_count_removed": REMOVED}
FUNCTIONS["hub_event_count_changed"] = f"{ADDED} UNION ALL {REMOVED}"
_SUMS = "events = c.events + EXCLUDED.events, total = c.total + EXCLUDED.total, key_sum = c.key_sum + EXCLUDED.key_sum"


def _function(name: str, rows: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    WITH changed AS (
        SELECT {KEY}, sum(sign) AS events, sum(sign * weight) AS total, sum(sign * record_key::bigint) AS key_sum
        FROM ({rows}) r
        GROUP BY {KEY}
        HAVING sum(sign) <> 0 OR sum(sign * weight) <> 0 OR sum(sign * record_key::bigint) <> 0
    ), ward AS (
        INSERT INTO event_count AS c ({KEY}, events, total, key_sum)
        SELECT {KEY}, events, total, key_sum FROM changed ORDER BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE SET {_SUMS}
    )
    INSERT INTO event_count_district AS c ({DISTRICT_KEY}, events, total, key_sum)
    SELECT {DISTRICT_KEY}, sum(events), sum(total), sum(key_sum) FROM changed
    GROUP BY {DISTRICT_KEY} ORDER BY {DISTRICT_KEY}
    ON CONFLICT ({DISTRICT_KEY}) DO UPDATE SET {_SUMS};
    RETURN NULL;
END $$
"""


def _previous_function(name: str, rows: str) -> str:
    """0015's function: one upsert of `event_count`."""
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO event_count AS c ({KEY}, events, total, key_sum)
    SELECT {KEY}, sum(sign), sum(sign * weight), sum(sign * record_key::bigint) FROM ({rows}) changed
    GROUP BY {KEY}
    ON CONFLICT ({KEY}) DO UPDATE SET {_SUMS};
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute("LOCK TABLE event IN SHARE MODE")  # no write to `event` between the copy below and the new functions
    op.execute(
        f"""
        CREATE TABLE event_count_district (
            dataset text NOT NULL, period_month date NOT NULL, category text, district_code text, csp_code text,
            county_code text, pfa_code text, location_status text NOT NULL, protocols text[] NOT NULL,
            events bigint NOT NULL, total bigint NOT NULL, key_sum bigint NOT NULL,
            CONSTRAINT event_count_district_key UNIQUE NULLS NOT DISTINCT ({DISTRICT_KEY})
        ) WITH (fillfactor = {FILLFACTOR})
        """
    )
    op.execute(
        f"INSERT INTO event_count_district ({DISTRICT_KEY}, events, total, key_sum) "
        f"SELECT {DISTRICT_KEY}, sum(events), sum(total), sum(key_sum) FROM event_count "
        f"GROUP BY {DISTRICT_KEY} HAVING sum(events) <> 0 OR sum(total) <> 0 OR sum(key_sum) <> 0"
    )
    op.execute("DROP INDEX ix_event_count_month")
    for name, rows in FUNCTIONS.items():
        op.execute(_function(name, rows))


def downgrade() -> None:
    for name, rows in FUNCTIONS.items():
        op.execute(_previous_function(name, rows))
    op.execute("CREATE INDEX ix_event_count_month ON event_count (period_month, dataset) INCLUDE (protocols, events)")
    op.execute("DROP TABLE event_count_district")
