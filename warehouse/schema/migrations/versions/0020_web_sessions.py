"""Web sessions (issue 15): a person signed in with their API key; only a SHA-256 of the session's random token is
kept, with its absolute expiry, its last use (for the idle limit) and when it was ended (signed out).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("token_sha256", sa.String(), primary_key=True),
        sa.Column("key_id", sa.String(), sa.ForeignKey("api_key.key_id"), nullable=False),
        sa.Column("org", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_web_session_key_id", "web_session", ["key_id"])


def downgrade() -> None:
    op.drop_index("ix_web_session_key_id", table_name="web_session")
    op.drop_table("web_session")
