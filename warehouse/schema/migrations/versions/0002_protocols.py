"""Protocol enforcement: released-view columns on events, decision audit, access log, API keys, retention runs.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("event", "category", nullable=True)  # a protocol may not release the category
    op.add_column("event", sa.Column("lsoa_code", sa.String(), nullable=True))
    op.add_column("event", sa.Column("district_code", sa.String(), nullable=True))
    op.add_column("event", sa.Column("spatial_precision", sa.String(), nullable=True))
    op.add_column("event", sa.Column("temporal_precision", sa.String(), nullable=True))
    op.add_column("event", sa.Column("period_label", sa.String(), nullable=True))
    op.add_column("event", sa.Column("protocols", ARRAY(sa.Text()), nullable=False, server_default="{}"))
    op.add_column("event", sa.Column("retain_until", sa.Date(), nullable=True))
    op.create_index("ix_event_retain_until", "event", ["retain_until"])
    op.create_table(
        "decision",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("dataset", sa.String(), nullable=False),
        sa.Column("partner", sa.String(), nullable=False),
        sa.Column("period_month", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("code", sa.String(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("protocols", ARRAY(sa.Text()), nullable=False),
        sa.Column("fields_dropped", ARRAY(sa.Text()), nullable=False),
        sa.Column("spatial_precision", ARRAY(sa.Text()), nullable=False),
        sa.Column("temporal_precision", sa.String(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("event_id", "content_hash", "outcome", "protocols"),
    )
    op.create_index("ix_decision_outcome_month", "decision", ["outcome", "period_month"])
    op.create_table(
        "access_log",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("org", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("endpoint", sa.String(), nullable=False),
        sa.Column("query", JSONB(), nullable=False),
        sa.Column("protocols", ARRAY(sa.Text()), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
    )
    op.create_table(
        "api_key",
        sa.Column("key_id", sa.String(), primary_key=True),
        sa.Column("org", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("secret_sha256", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(  # events deleted by retention: never loaded again, even if re-published
        "retired_event",
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "retention_run",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("today", sa.Date(), nullable=False),
        sa.Column("dataset", sa.String(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
    )
    # The audit trail is append-only: refuse updates and deletes at the database.
    op.execute(
        """
        CREATE FUNCTION hub_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;
        """
    )
    for table in ("decision", "access_log", "retention_run", "retired_event"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION hub_append_only()"
        )


def downgrade() -> None:
    for table in ("decision", "access_log", "retention_run", "retired_event"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    op.execute("DROP FUNCTION IF EXISTS hub_append_only()")
    op.drop_table("retention_run")
    op.drop_table("retired_event")
    op.drop_table("api_key")
    op.drop_table("access_log")
    op.drop_table("decision")
    op.drop_index("ix_event_retain_until", "event")
    for column in (
        "retain_until",
        "protocols",
        "period_label",
        "temporal_precision",
        "spatial_precision",
        "district_code",
        "lsoa_code",
    ):
        op.drop_column("event", column)
