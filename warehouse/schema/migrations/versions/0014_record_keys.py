"""Record keys for the cell key method: `event.record_key`, a uniform random integer in 0..65535 per event.

A key is drawn when an event is first loaded and kept for the life of the event: the sink carries the stored key
to every later version (sharing_protocols.perturbation, warehouse.sink). It is never derived from the event's
content. Existing events get keys here; the column's default, from the same strong random source as
gen_random_uuid() (the first 16 bits of a version 4 UUID are random), covers any writer other than the sink.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# 16 random bits: the first four hex digits of a random (version 4) UUID.
RANDOM_KEY = "(('x' || left(gen_random_uuid()::text, 4))::bit(16)::int)"
MODULUS = 65536  # sharing_protocols.perturbation.RECORD_KEY_MODULUS


def upgrade() -> None:
    op.execute(f"ALTER TABLE event ADD COLUMN record_key integer DEFAULT {RANDOM_KEY}")
    op.execute(f"UPDATE event SET record_key = {RANDOM_KEY}")
    op.execute("ALTER TABLE event ALTER COLUMN record_key SET NOT NULL")
    op.execute(
        f"ALTER TABLE event ADD CONSTRAINT event_record_key_range CHECK (record_key >= 0 AND record_key < {MODULUS})"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE event DROP COLUMN record_key")
