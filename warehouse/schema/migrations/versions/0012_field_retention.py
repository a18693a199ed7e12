"""Field-level retention: each event's per-field expiry map, what retention has removed, and the log per field.

`event.field_retain_until` maps each released part of the event (`category`, attribute names,
`location:<precision>`, `period:<precision>`, `clause:<ref>`) to the last day a clause holds it;
`event.fields_retired` lists what retention has removed from the event (the sink never rewrites such an event);
`retention_run.field` names the part removed (NULL: whole events deleted).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Whether a field-retention map still holds `key` on `today` (an absent key is not held).
_HOLDS = """
CREATE FUNCTION hub_holds(kept jsonb, key text, today date) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT COALESCE((kept ->> key)::date >= today, false) $$
"""
# A re-delivered event's map, never later than what was stored: each key at most its stored date (or, for a key
# that was not stored, the stored event's retain_until).
_EARLIEST = """
CREATE FUNCTION hub_earliest_retention(stored jsonb, incoming jsonb, stored_until date) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
SELECT COALESCE(jsonb_object_agg(n.key, to_jsonb(LEAST(n.value::date,
    COALESCE((stored ->> n.key)::date, stored_until, n.value::date)))), '{}'::jsonb)
FROM jsonb_each_text(incoming) n
$$
"""


def upgrade() -> None:
    op.add_column("event", sa.Column("field_retain_until", JSONB(), nullable=False, server_default="{}"))
    op.add_column("event", sa.Column("fields_retired", ARRAY(sa.Text()), nullable=False, server_default="{}"))
    op.add_column("retention_run", sa.Column("field", sa.Text(), nullable=True))
    op.execute(_HOLDS)
    op.execute(_EARLIEST)


def downgrade() -> None:
    op.execute("DROP FUNCTION hub_earliest_retention(jsonb, jsonb, date)")
    op.execute("DROP FUNCTION hub_holds(jsonb, text, date)")
    op.drop_column("retention_run", "field")
    op.drop_column("event", "fields_retired")
    op.drop_column("event", "field_retain_until")
