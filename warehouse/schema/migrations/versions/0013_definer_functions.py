"""The functions the loader needs done as the owner run as the owner (SECURITY DEFINER, fixed search_path).

The worker's role may neither create tables nor write `event_count` (warehouse.schema.privileges):
`hub_event_partition` makes a month's partition of `event` (owned by the owner), and the `event_count` triggers
keep the counts whoever changes `event`.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

FUNCTIONS = (
    "hub_event_partition(date)",
    "hub_event_count_added()",
    "hub_event_count_removed()",
    "hub_event_count_changed()",
)


def upgrade() -> None:
    for function in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} SECURITY DEFINER SET search_path = public, pg_temp")


def downgrade() -> None:
    for function in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} SECURITY INVOKER RESET search_path")
