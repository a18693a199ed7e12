"""The one index on a table the loader writes that no read uses goes: `ix_retraction_event_id`.

Every index on the tables the sink and its triggers write was checked against the reads (docs/benchmarks.md, "The
warehouse write, statement by statement", 2026-12-04): index scans counted over the API, query, data-quality and
retention tests and the analyst-query benchmark, and each index with none looked up in the code and EXPLAINed.
`ix_retraction_event_id` (event_id) is read by nothing: retractions are read by time (the IG console, the
data-quality report), and a retraction's partner is found from `decision` by its event id. The others stay:
primary keys and the unique keys the upserts' ON CONFLICT name, and indexes a read uses (`decision_feed` by a
partner's own data-quality report and windowed reports, `event_count`'s covering indexes by ward counts within a
district, CSP, county or force).

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

# Each index dropped, with the statement that made it (for the downgrade).
DROPPED = {"ix_retraction_event_id": "CREATE INDEX ix_retraction_event_id ON retraction (event_id)"}


def upgrade() -> None:
    for name in DROPPED:
        op.execute(f"DROP INDEX IF EXISTS {name}")


def downgrade() -> None:
    for create in DROPPED.values():
        op.execute(create)
