"""A repeated answer in the release record as one row: `released_digest`, `released_again` and the view
`release_record`.

`released_digest` keeps, per organisation, the digest of each answer's figures (`sharing_protocols.release_record.
ReleasedAnswer`) with the first access that released exactly those figures and the range of ids its
`released_figure` rows lie in (written in the same statement as those rows). An answer whose digest the
organisation was given before is recorded as one `released_again` row, "the figures of access M again", instead of
a row per figure; nothing goes to `known_figure`, which knows each of them already. Both are append-only.

`release_record` is the IG record as before, every figure shown to whom and when: the rows of `released_figure`, and
each repeated access's figures (those of the access it repeats, at its own time; `again_of` names that access).
An answer recorded before this migration has no digest: its first repeat after it is written out once more.

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

_FIGURE = (
    "dataset, level, areas, categories, first_month, last_month, period, value, min_cell_count, round_to, clauses, "
    "base_level, base_areas"
)
_F = ", ".join(f"f.{column.strip()}" for column in _FIGURE.split(","))


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE released_digest (
    org text NOT NULL,
    digest bytea NOT NULL CHECK (octet_length(digest) = 32),
    access_id bigint NOT NULL UNIQUE REFERENCES access_log (id),
    first_figure_id bigint NOT NULL,
    last_figure_id bigint NOT NULL,
    PRIMARY KEY (org, digest)
)"""
    )
    op.execute(
        """
CREATE TABLE released_again (
    access_id bigint PRIMARY KEY REFERENCES access_log (id),
    of_access_id bigint NOT NULL REFERENCES released_digest (access_id),
    at timestamptz NOT NULL DEFAULT now(),
    org text NOT NULL
)"""
    )
    for table in ("released_digest", "released_again"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION hub_append_only()"
        )
    # A repeated access's figures: those of the access it repeats, found by the id range of its digest (the
    # primary key), not by an index of released_figure's access_id, which every answer's rows would maintain.
    op.execute(
        f"""
CREATE VIEW release_record AS
SELECT f.access_id, f.id AS figure_id, f.at, f.org, {_F}, NULL::bigint AS again_of
FROM released_figure f
UNION ALL
SELECT r.access_id, f.id, r.at, r.org, {_F}, r.of_access_id
FROM released_again r
JOIN released_digest d ON d.access_id = r.of_access_id
JOIN released_figure f ON f.id BETWEEN d.first_figure_id AND d.last_figure_id AND f.access_id = d.access_id"""
    )


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS release_record")
    op.execute("DROP TABLE IF EXISTS released_again")
    op.execute("DROP TABLE IF EXISTS released_digest")
