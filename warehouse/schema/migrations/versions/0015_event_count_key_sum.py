"""Cell keys from `event_count`: `key_sum`, the sum of the record keys of each row's events, kept by the triggers.

The sum is kept unreduced (a bigint), so that the triggers can add and subtract exactly; a query takes its cell
key modulo 65536 (sharing_protocols.perturbation.RECORD_KEY_MODULUS). Existing rows are recomputed from `event`
with writes to `event` locked out; the covering indexes of 0009 carry `key_sum` too, so counts stay index-only.
The count functions are replaced (the trigger definitions name them) and keep 0013's SECURITY DEFINER.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

KEY = (
    "dataset, period_month, category, ward_code, ward_vintage, district_code, csp_code, county_code, pfa_code, "
    "location_status, protocols"
)
AREAS = ("ward_code", "district_code", "csp_code", "county_code", "pfa_code")
INDEXES = {
    "district_code": "ix_event_count_district",
    "csp_code": "ix_event_count_csp",
    "county_code": "ix_event_count_county",
    "pfa_code": "ix_event_count_pfa",
}
CARRIED = ("category", "location_status", "protocols", "total")
ADDED = f"SELECT {KEY}, weight, record_key, 1 AS sign FROM new_rows"
REMOVED = f"SELECT {KEY}, weight, record_key, -1 AS sign FROM old_rows"
FUNCTIONS = {"hub_event_count_added": ADDED, "hub_event_count_removed": REMOVED}
FUNCTIONS["hub_event_count_changed"] = f"{ADDED} UNION ALL {REMOVED}"


def _function(name: str, rows: str, with_keys: bool) -> str:
    sums = "sum(sign), sum(sign * weight)" + (", sum(sign * record_key::bigint)" if with_keys else "")
    columns = "events, total" + (", key_sum" if with_keys else "")
    update = "events = c.events + EXCLUDED.events, total = c.total + EXCLUDED.total" + (
        ", key_sum = c.key_sum + EXCLUDED.key_sum" if with_keys else ""
    )
    if not with_keys:
        rows = rows.replace(", record_key,", ",")
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO event_count AS c ({KEY}, {columns})
    SELECT {KEY}, {sums} FROM ({rows}) changed
    GROUP BY {KEY}
    ON CONFLICT ({KEY}) DO UPDATE SET {update};
    RETURN NULL;
END $$
"""


def _indexes(carried: tuple[str, ...]) -> None:
    for column, name in INDEXES.items():
        finer = AREAS[: AREAS.index(column)]
        op.execute(f"DROP INDEX {name}")
        op.execute(
            f"CREATE INDEX {name} ON event_count (dataset, {column}, period_month) "
            f"INCLUDE ({', '.join(finer + carried)})"
        )


def upgrade() -> None:
    op.execute("LOCK TABLE event IN SHARE MODE")
    op.execute("ALTER TABLE event_count ADD COLUMN key_sum bigint NOT NULL DEFAULT 0")
    op.execute("DELETE FROM event_count")
    op.execute(
        f"INSERT INTO event_count ({KEY}, events, total, key_sum) "
        f"SELECT {KEY}, count(*), sum(weight), sum(record_key::bigint) FROM event GROUP BY {KEY}"
    )
    for name, rows in FUNCTIONS.items():
        op.execute(_function(name, rows, with_keys=True))
    _indexes((*CARRIED, "key_sum"))


def downgrade() -> None:
    for name, rows in FUNCTIONS.items():
        op.execute(_function(name, rows, with_keys=False))
    _indexes(CARRIED)
    op.execute("ALTER TABLE event_count DROP COLUMN key_sum")
