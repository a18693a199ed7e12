"""The differencing guard's history as the warehouse reads it (warehouse.queries.releases): random histories written
to the release record, read back by line, are what the in-memory reading (tests/support/guard_history.py) gives,
and the guard given them withholds what the guard before it did given everything. The history is `known_figure`,
kept by a trigger on the release record (migration 0025, which also fills it from the record as it was): each
figure an organisation was shown once, in the order first released, and what the guard's shortcut looks up."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import text

import warehouse.schema
from sharing_protocols.differencing import MAX_EARLIER, alike, asked, guard, lines
from sharing_protocols.release_record import ReleasedAnswer, ReleasedFigure
from tests.support import differencing_reference as reference
from tests.support.guard_history import random_history, read
from tests.support.hub import HubEnv
from warehouse.governance.access_log import write_access
from warehouse.queries.releases import categories_asked, earlier_figures, shown_alike
from warehouse.schema.db import session_scope

pytestmark = pytest.mark.integration

SEEDS = range(40)


def _columns(figures: Sequence[ReleasedFigure]) -> list[tuple[object, ...]]:
    """What the guard uses of each figure (the period label and clauses are the record's, not the guard's)."""
    return [
        (f.dataset, f.level, f.areas, f.categories, f.first, f.last, f.value, f.min_cell_count, f.round_to)
        for f in figures
    ]


@pytest.fixture(scope="module")
def written(hub_env: HubEnv) -> dict[int, tuple[list[ReleasedFigure], list[ReleasedFigure]]]:
    """Each seed's history released to its own organisation, an answer at a time, with another organisation's
    figures in between."""
    histories = {seed: random_history(seed) for seed in SEEDS}
    for seed, (earlier, new) in histories.items():
        for start in range(0, len(earlier), 7):
            part = ReleasedAnswer.of(earlier[start : start + 7])
            write_access(hub_env.engine, f"guard-{seed}", "analyst", "/v1/counts", {}, [], 0, 200, part)
            write_access(
                hub_env.engine, f"other-{seed}", "analyst", "/v1/counts", {}, [], 0, 200, ReleasedAnswer.of(new)
            )
    return histories


def test_the_figures_read_on_the_answers_lines_are_those_worked_out_in_memory(
    written: dict[int, tuple[list[ReleasedFigure], list[ReleasedFigure]]], hub_env: HubEnv
) -> None:
    compared = 0
    with session_scope(hub_env.engine) as session:
        for seed, (earlier, new) in written.items():
            datasets = sorted({f.dataset for f in new})
            shown = categories_asked(session, f"guard-{seed}", datasets, "lad")
            expected = asked(earlier)
            assert shown == {(d, "lad"): expected.get((d, "lad"), frozenset()) for d in datasets}, seed
            history = earlier_figures(session, f"guard-{seed}", "lad", lines(new, shown), MAX_EARLIER + 1)
            assert _columns(history) == _columns(read(earlier, new)), seed
            compared += len(history)
            released, withheld = guard(history, new, shown)
            before = reference.guard(earlier, new)
            assert released == before[0], seed
            assert withheld == before[1], seed
    assert compared >= 200


def test_at_most_the_limit_is_read_first_released_first(
    written: dict[int, tuple[list[ReleasedFigure], list[ReleasedFigure]]], hub_env: HubEnv
) -> None:
    seed, (earlier, new) = max(written.items(), key=lambda item: len(read(*item[1])))
    with session_scope(hub_env.engine) as session:
        shown = categories_asked(session, f"guard-{seed}", sorted({f.dataset for f in new}), "lad")
        assert _columns(earlier_figures(session, f"guard-{seed}", "lad", lines(new, shown), 3)) == _columns(
            read(earlier, new)[:3]
        )


_KNOWN = (
    "SELECT dataset, base_level, base_areas, categories, first_month, last_month, value, min_cell_count, round_to, "
    "first_id, period FROM known_figure WHERE org LIKE 'guard-%' ORDER BY org, first_id"
)


def test_each_figure_shown_is_known_once_in_the_order_first_released_and_looked_up_alike(
    written: dict[int, tuple[list[ReleasedFigure], list[ReleasedFigure]]], hub_env: HubEnv
) -> None:
    looked_up = 0
    with session_scope(hub_env.engine) as session:
        for seed, (earlier, new) in written.items():
            org = f"guard-{seed}"
            rows = hub_env.query(
                "SELECT dataset, base_level, base_areas, categories, first_month, last_month, value, min_cell_count, "
                "round_to FROM known_figure WHERE org = :org ORDER BY first_id",
                org=org,
            )
            known = [
                (d, lv, frozenset(a), None if c is None else frozenset(c), f, la, v, m, r)
                for d, lv, a, c, f, la, v, m, r in rows
            ]
            assert known == list(dict.fromkeys(alike(f) for f in earlier)), seed
            found = shown_alike(session, org, "lad", [*new, *earlier[:5]])
            assert found == {alike(f) for f in [*new, *earlier[:5]]} & set(known), seed
            if earlier:  # the other organisation was shown the new answer (with each part of the history)
                assert shown_alike(session, f"other-{seed}", "lad", new) == {alike(f) for f in new}, seed
            looked_up += len(found)
    assert looked_up >= 100


def test_the_migration_fills_known_figures_from_the_record_as_the_trigger_keeps_them(
    written: dict[int, tuple[list[ReleasedFigure], list[ReleasedFigure]]], hub_env: HubEnv
) -> None:
    path = Path(warehouse.schema.__file__).parent / "migrations" / "versions" / "0025_known_figures.py"
    spec = importlib.util.spec_from_file_location("known_figures_0025", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with hub_env.engine.connect() as conn:
        kept = conn.execute(text(_KNOWN)).all()
        assert len(kept) >= 200
        conn.execute(text("DELETE FROM known_figure WHERE org LIKE 'guard-%'"))
        assert conn.execute(text(_KNOWN)).all() == []
        conn.execute(text(migration._fold("released_figure")))
        assert conn.execute(text(_KNOWN)).all() == kept
        conn.rollback()
