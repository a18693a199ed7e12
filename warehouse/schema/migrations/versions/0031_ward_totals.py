"""`event_count_ward_total`: `event_count` without the category, keyed for a CSP's wards.

A CSP analyst's commonest question, ward x month counts of all categories for the CSP, read `event_count`'s
covering index: one row per category and clause set of each cell (at 10M generated events, 19,048 rows for the
largest CSP's 1,476 cells, most of its answer's statement time). This table holds the same sums without the
category: events per dataset, CSP, month, ward (and vintage), the other area codes a scope looks at, location
status and clause set (about 9 times fewer rows than `event_count`). Its only index is its unique key, led by the
dataset, CSP and month (the range that question reads), and its pages are left 30 % free, so a count that changes
is a HOT update, as `event_count_district`'s are.

The three count functions (0027's) are replaced: from the same grouped changes they also upsert this table,
summed to its key, skipping keys whose sums do not change, in key order. The table is filled from `event_count`
with writes to `event` locked out. Downgrade restores 0027's functions.

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

from alembic import op

revision = "0031"
down_revision = "0030"
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
WARD_TOTAL_KEY = (
    "dataset, csp_code, period_month, ward_code, ward_vintage, district_code, county_code, pfa_code, "
    "location_status, protocols"
)
FILLFACTOR = 70  # as event_count_district's: room on each page for a HOT update
ADDED = f"SELECT {KEY}, weight, record_key, 1 AS sign FROM new_rows"
REMOVED = f"SELECT {KEY}, weight, record_key, -1 AS sign FROM old_rows"
FUNCTIONS = {"hub_event_count_added": ADDED, "hub_event_count_removed": REMOVED}
FUNCTIONS["hub_event_count_changed"] = f"{ADDED} UNION ALL {REMOVED}"
_SUMS = "events = c.events + EXCLUDED.events, total = c.total + EXCLUDED.total, key_sum = c.key_sum + EXCLUDED.key_sum"
_CHANGED = "sum(events) <> 0 OR sum(total) <> 0 OR sum(key_sum) <> 0"


def _function(name: str, rows: str, ward_totals: bool) -> str:
    """A count function: 0027's (`event_count`, `event_count_district`, `event_clause_set`), and with `ward_totals`
    this table last."""
    district = f"""INSERT INTO event_count_district AS c ({DISTRICT_KEY}, events, total, key_sum)
    SELECT {DISTRICT_KEY}, sum(events), sum(total), sum(key_sum) FROM changed
    GROUP BY {DISTRICT_KEY} ORDER BY {DISTRICT_KEY}
    ON CONFLICT ({DISTRICT_KEY}) DO UPDATE SET {_SUMS}"""
    clause_set = f"""INSERT INTO event_clause_set AS c ({CLAUSE_KEY}, events)
    SELECT {CLAUSE_KEY}, sum(events) FROM changed
    GROUP BY {CLAUSE_KEY} HAVING sum(events) <> 0 ORDER BY {CLAUSE_KEY}
    ON CONFLICT ({CLAUSE_KEY}) DO UPDATE SET events = c.events + EXCLUDED.events"""
    ward_total = f"""INSERT INTO event_count_ward_total AS c ({WARD_TOTAL_KEY}, events, total, key_sum)
    SELECT {WARD_TOTAL_KEY}, sum(events), sum(total), sum(key_sum) FROM changed
    GROUP BY {WARD_TOTAL_KEY} HAVING {_CHANGED} ORDER BY {WARD_TOTAL_KEY}
    ON CONFLICT ({WARD_TOTAL_KEY}) DO UPDATE SET {_SUMS}"""
    # 0027's text exactly when not `ward_totals` (the downgrade's functions are 0027's, as pg_proc keeps them)
    last = (
        f"""), clause_set AS (
    {clause_set}
    )
    {ward_total}"""
        if ward_totals
        else f""")
    {clause_set}"""
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
    ), district AS (
    {district}
    {last};
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute("LOCK TABLE event IN SHARE MODE")  # no write to `event` between the copy below and the new functions
    op.execute(
        f"""
        CREATE TABLE event_count_ward_total (
            dataset text NOT NULL, csp_code text, period_month date NOT NULL, ward_code text, ward_vintage text,
            district_code text, county_code text, pfa_code text, location_status text NOT NULL,
            protocols text[] NOT NULL, events bigint NOT NULL, total bigint NOT NULL, key_sum bigint NOT NULL,
            CONSTRAINT event_count_ward_total_key UNIQUE NULLS NOT DISTINCT ({WARD_TOTAL_KEY})
        ) WITH (fillfactor = {FILLFACTOR})
        """
    )
    op.execute(
        f"INSERT INTO event_count_ward_total ({WARD_TOTAL_KEY}, events, total, key_sum) "
        f"SELECT {WARD_TOTAL_KEY}, sum(events), sum(total), sum(key_sum) FROM event_count "
        f"GROUP BY {WARD_TOTAL_KEY} HAVING {_CHANGED}"
    )
    for name, rows in FUNCTIONS.items():
        op.execute(_function(name, rows, ward_totals=True))


def downgrade() -> None:
    for name, rows in FUNCTIONS.items():
        op.execute(_function(name, rows, ward_totals=False))
    op.execute("DROP TABLE event_count_ward_total")
