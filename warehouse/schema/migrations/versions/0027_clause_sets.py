"""`event_clause_set`: the distinct clause sets of each dataset's events, with the area codes a scope looks at.

The disclosure rule of every answer needs the clause sets that justify a dataset's events (a scoped clause only
inside its scope: `warehouse.queries.aggregates.justifying_sets`). Worked out over the dataset's
`event_count_district` rows, that was 23-27 ms of each answer at 10M events. This table holds what that read
distinct: per dataset, clause set (`protocols`) and district, CSP, county and force codes (the scope columns),
the number of events; a few rows per dataset. A row counted down to 0 justifies nothing (readers filter
`events > 0`; it is kept, as `event_count`'s are, so that no statement deletes rows another loader may be adding
to).

The three count functions (0022's) are replaced: from the same grouped changes they upsert `event_count` and
`event_count_district`, they now also upsert this table, summed to its key, skipping keys whose count does not
change (a version that moved month or category, a retention that rewrote attributes), in key order. The table is
filled from `event_count_district` with writes to `event` locked out. Downgrade restores 0022's functions.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

KEY = (
    "dataset, period_month, category, ward_code, ward_vintage, district_code, csp_code, county_code, pfa_code, "
    "location_status, protocols"
)
DISTRICT_KEY = (
    "dataset, period_month, category, district_code, csp_code, county_code, pfa_code, location_status, protocols"
)
CLAUSE_KEY = "dataset, protocols, district_code, csp_code, county_code, pfa_code"
FILLFACTOR = 70  # as event_count_district's: room on each page for a HOT update
ADDED = f"SELECT {KEY}, weight, record_key, 1 AS sign FROM new_rows"
REMOVED = f"SELECT {KEY}, weight, record_key, -1 AS sign FROM old_rows"
FUNCTIONS = {"hub_event_count_added": ADDED, "hub_event_count_removed": REMOVED}
FUNCTIONS["hub_event_count_changed"] = f"{ADDED} UNION ALL {REMOVED}"
_SUMS = "events = c.events + EXCLUDED.events, total = c.total + EXCLUDED.total, key_sum = c.key_sum + EXCLUDED.key_sum"


def _function(name: str, rows: str, clause_sets: bool) -> str:
    """A count function: 0022's (`event_count`, then `event_count_district`), and with `clause_sets` this table
    last."""
    district = f"""INSERT INTO event_count_district AS c ({DISTRICT_KEY}, events, total, key_sum)
    SELECT {DISTRICT_KEY}, sum(events), sum(total), sum(key_sum) FROM changed
    GROUP BY {DISTRICT_KEY} ORDER BY {DISTRICT_KEY}
    ON CONFLICT ({DISTRICT_KEY}) DO UPDATE SET {_SUMS}"""
    clause_set = f"""INSERT INTO event_clause_set AS c ({CLAUSE_KEY}, events)
    SELECT {CLAUSE_KEY}, sum(events) FROM changed
    GROUP BY {CLAUSE_KEY} HAVING sum(events) <> 0 ORDER BY {CLAUSE_KEY}
    ON CONFLICT ({CLAUSE_KEY}) DO UPDATE SET events = c.events + EXCLUDED.events"""
    # 0022's text exactly when not `clause_sets` (the downgrade's functions are 0022's, as pg_proc keeps them)
    last = (
        f"""), district AS (
    {district}
    )
    {clause_set}"""
        if clause_sets
        else f""")
    {district}"""
    )
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
    {last};
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute("LOCK TABLE event IN SHARE MODE")  # no write to `event` between the copy below and the new functions
    op.execute(
        f"""
        CREATE TABLE event_clause_set (
            dataset text NOT NULL, protocols text[] NOT NULL, district_code text, csp_code text, county_code text,
            pfa_code text, events bigint NOT NULL,
            CONSTRAINT event_clause_set_key UNIQUE NULLS NOT DISTINCT ({CLAUSE_KEY})
        ) WITH (fillfactor = {FILLFACTOR})
        """
    )
    op.execute(
        f"INSERT INTO event_clause_set ({CLAUSE_KEY}, events) "
        f"SELECT {CLAUSE_KEY}, sum(events) FROM event_count_district GROUP BY {CLAUSE_KEY} HAVING sum(events) <> 0"
    )
    for name, rows in FUNCTIONS.items():
        op.execute(_function(name, rows, clause_sets=True))


def downgrade() -> None:
    for name, rows in FUNCTIONS.items():
        op.execute(_function(name, rows, clause_sets=False))
    op.execute("DROP TABLE event_clause_set")
