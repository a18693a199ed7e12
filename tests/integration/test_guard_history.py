"""The differencing guard's history as the warehouse reads it (warehouse.queries.releases): random histories written
to the release record, read back by line, are what the in-memory reading (tests/support/guard_history.py) gives,
and the guard given them withholds what the guard before it did given everything."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from sharing_protocols.differencing import MAX_EARLIER, asked, guard, lines
from sharing_protocols.release_record import ReleasedFigure
from tests.support import differencing_reference as reference
from tests.support.guard_history import random_history, read
from tests.support.hub import HubEnv
from warehouse.governance.access_log import write_access
from warehouse.queries.releases import categories_asked, earlier_figures
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
            write_access(
                hub_env.engine, f"guard-{seed}", "analyst", "/v1/counts", {}, [], 0, 200, earlier[start : start + 7]
            )
            write_access(hub_env.engine, f"other-{seed}", "analyst", "/v1/counts", {}, [], 0, 200, new)
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
