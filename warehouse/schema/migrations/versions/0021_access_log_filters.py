"""Indexes for the IG lead's access log (GET /v1/ig/access-log): one organisation's records newest first, and a
time range, each read without scanning the whole log.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_access_log_org_id", "access_log", ["org", "id"])
    op.create_index("ix_access_log_at", "access_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_access_log_at", table_name="access_log")
    op.drop_index("ix_access_log_org_id", table_name="access_log")
