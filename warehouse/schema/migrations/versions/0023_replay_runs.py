"""`hub replay`'s IG record, and its decisions told apart from the worker's.

`replay_run` records each replay: when it started and finished, why (`reason`), its scope (dataset, partner, the
topics and the end offsets it read up to), who ran it, the protocol versions in force, and what the messages became.
It is append-only except that a run not yet finished may be finished once (its end time and counts); nothing may
delete it.

`decision.replay_id` names the replay that made a decision (NULL: the worker). The decisions' uniqueness includes
it (NULLs equal): the worker still records a redelivered message's decision once, and a replay records its own even
when the worker's decision for the same event, content, outcome and clauses exists.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_COUNTS = ("messages", "released", "withheld", "retracted", "dead_lettered")


def upgrade() -> None:
    op.create_table(
        "replay_run",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), sa.CheckConstraint("length(btrim(reason)) > 0"), nullable=False),
        sa.Column("dataset", sa.String(), nullable=True),
        sa.Column("partner", sa.String(), nullable=True),
        sa.Column("topics", ARRAY(sa.Text()), nullable=False),
        sa.Column("end_offsets", JSONB(), nullable=False),
        sa.Column("run_by", sa.String(), nullable=False),
        sa.Column("protocols", ARRAY(sa.Text()), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=True) for name in _COUNTS),
    )
    op.execute(
        """
        CREATE FUNCTION hub_replay_run_finish_once() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.finished_at IS NOT NULL OR NEW.finished_at IS NULL
               OR (NEW.id, NEW.started_at, NEW.reason, NEW.dataset, NEW.partner, NEW.topics, NEW.end_offsets,
                   NEW.run_by, NEW.protocols)
                  IS DISTINCT FROM (OLD.id, OLD.started_at, OLD.reason, OLD.dataset, OLD.partner, OLD.topics,
                   OLD.end_offsets, OLD.run_by, OLD.protocols) THEN
                RAISE EXCEPTION 'replay_run is append-only: a run may only be finished, once';
            END IF;
            RETURN NEW;
        END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER replay_run_finish_once BEFORE UPDATE ON replay_run "
        "FOR EACH ROW EXECUTE FUNCTION hub_replay_run_finish_once()"
    )
    op.execute(
        "CREATE TRIGGER replay_run_append_only BEFORE DELETE ON replay_run "
        "FOR EACH ROW EXECUTE FUNCTION hub_append_only()"
    )
    op.add_column("decision", sa.Column("replay_id", sa.BigInteger(), sa.ForeignKey("replay_run.id"), nullable=True))
    op.execute(
        "CREATE UNIQUE INDEX decision_once ON decision (event_id, content_hash, outcome, protocols, replay_id) "
        "NULLS NOT DISTINCT"
    )
    op.drop_constraint("decision_event_id_content_hash_outcome_protocols_key", "decision", type_="unique")


def downgrade() -> None:
    op.execute("DELETE FROM decision WHERE replay_id IS NOT NULL")  # refused by the audit trigger if any exist
    op.create_unique_constraint(
        "decision_event_id_content_hash_outcome_protocols_key",
        "decision",
        ["event_id", "content_hash", "outcome", "protocols"],
    )
    op.drop_index("decision_once", table_name="decision")
    op.drop_column("decision", "replay_id")
    op.execute("DROP TRIGGER IF EXISTS replay_run_append_only ON replay_run")
    op.execute("DROP TRIGGER IF EXISTS replay_run_finish_once ON replay_run")
    op.execute("DROP FUNCTION IF EXISTS hub_replay_run_finish_once()")
    op.drop_table("replay_run")
