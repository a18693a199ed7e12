"""`feed_id_scheme`: the id scheme each (dataset, partner) publishes its event ids under (its first).

`hub publish` names the scheme on every record (`hub-id-scheme`: `public`, or `keyed:` and 16 hex digits of a
fingerprint of the partner's record-id key; sharing_protocols.id_scheme). The worker keeps a feed's first scheme here
and dead-letters messages under another, so one file published with and without the key is not loaded twice. The
worker may insert and read it, not change it: an operator who means a feed to change scheme deletes its row.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_id_scheme",
        sa.Column("dataset", sa.String(), primary_key=True),
        sa.Column("partner", sa.String(), primary_key=True),
        sa.Column("scheme", sa.String(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("scheme ~ '^(public|keyed:[0-9a-f]{16})$'", name="feed_id_scheme_grammar"),
    )


def downgrade() -> None:
    op.drop_table("feed_id_scheme")
