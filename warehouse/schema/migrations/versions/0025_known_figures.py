"""`known_figure`: what the differencing guard reads, one row per figure an organisation was shown (its dataset,
base level and areas, categories, months, value and rule), however often; kept by a trigger on `released_figure`.

The release record (`released_figure`) stays the IG record, one row per figure of every answer, repeats included;
the guard read it grouping the repeats on every answer, which grew with everything an organisation was shown. Each
INSERT into released_figure folds its rows into known_figure (the first release's id, for the guard's order, and
its period label); the owner's trigger function (SECURITY DEFINER, like the feed_event trigger of 0017) keeps
it, and the API only reads it. The guard's line indexes (0018, 0019) move here: nothing else read them.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

_IDENTITY = "org, dataset, base_level, base_areas, categories, first_month, last_month, value, min_cell_count, round_to"

_OLD = {
    "ix_released_figure_base_months_areas": "org, base_level, dataset, first_month, last_month, base_areas",
    "ix_released_figure_base_categories_months": (
        "org, base_level, dataset, (coalesce(categories, '{}'::text[])), first_month, last_month"
    ),
    "ix_released_figure_base_areas_categories": (
        "org, base_level, dataset, base_areas, (coalesce(categories, '{}'::text[]))"
    ),
}
# the key (org, base_level, dataset, first_month, last_month, base_areas, ...) serves the line of months and areas
_NEW = {
    "ix_known_figure_categories_months": (
        "org, base_level, dataset, (coalesce(categories, '{}'::text[])), first_month, last_month"
    ),
    "ix_known_figure_areas_categories": "org, base_level, dataset, base_areas, (coalesce(categories, '{}'::text[]))",
}


def _fold(source: str) -> str:
    """Fold the rows of `source` (released_figure or the trigger's transition table) into known_figure: a figure not
    yet known with its first release's id and period label; one known already is left alone (not locked, so
    concurrent answers of one organisation repeating figures do not wait on each other)."""
    return f"""
INSERT INTO known_figure (first_id, period, {_IDENTITY})
SELECT min(id), (array_agg(period ORDER BY id))[1], {_IDENTITY} FROM {source}
GROUP BY {_IDENTITY}
ORDER BY min(id)
ON CONFLICT DO NOTHING
"""


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE known_figure (
    first_id bigint PRIMARY KEY,
    org text NOT NULL,
    dataset text NOT NULL,
    base_level text NOT NULL,
    base_areas text[] NOT NULL,
    categories text[],
    first_month date NOT NULL,
    last_month date NOT NULL,
    period text NOT NULL,
    value integer,
    min_cell_count integer NOT NULL,
    round_to integer NOT NULL,
    CONSTRAINT known_figure_key UNIQUE NULLS NOT DISTINCT (org, base_level, dataset, first_month, last_month,
        base_areas, categories, value, min_cell_count, round_to)
)"""
    )
    for name, columns in _NEW.items():
        op.execute(f"CREATE INDEX {name} ON known_figure ({columns})")
    op.execute(
        f"""
CREATE FUNCTION hub_known_figure_added() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
{_fold("added")};
    RETURN NULL;
END $$"""
    )
    op.execute("REVOKE ALL ON FUNCTION hub_known_figure_added() FROM PUBLIC")
    op.execute(
        "CREATE TRIGGER released_figure_known AFTER INSERT ON released_figure REFERENCING NEW TABLE AS added "
        "FOR EACH STATEMENT EXECUTE FUNCTION hub_known_figure_added()"
    )
    op.execute(_fold("released_figure"))
    for name in _OLD:
        op.execute(f"DROP INDEX IF EXISTS {name}")


def downgrade() -> None:
    for name, columns in _OLD.items():
        op.execute(f"CREATE INDEX {name} ON released_figure ({columns})")
    op.execute("DROP TRIGGER IF EXISTS released_figure_known ON released_figure")
    op.execute("DROP FUNCTION IF EXISTS hub_known_figure_added()")
    op.execute("DROP TABLE IF EXISTS known_figure")
