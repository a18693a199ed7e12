"""A count table released under a threshold rule is bounded in size (its secondary suppression grows faster than
the table): one cell more than `MAX_SUPPRESSED_TABLE_CELLS` is a 400 that states the bound and not the table's
size; the cell key method (linear) is not bounded by it."""

from __future__ import annotations

import pytest

from api.bounds import MAX_SUPPRESSED_TABLE_CELLS
from api.errors import BadRequest
from api.perturbation_tables import PerturbationTables, load_table
from api.protection import protect_cells
from sharing_protocols.cell_key_release import KeyedCount
from sharing_protocols.disclosure import DEFAULT_RULE, Key, Rule

CELL_KEY_RULE = Rule(8, 5, "protocol", ("p@1#c",), "cell_key", "hub-cell-key@1")


def _cells(n: int) -> dict[Key, KeyedCount]:
    # every cell under the threshold: the costliest table of its size to suppress
    return {(f"E0{i:07d}", "2019-01"): KeyedCount(1 + i % 7, i) for i in range(n)}


def test_a_threshold_table_one_cell_over_the_bound_is_refused_saying_the_bound_only() -> None:
    with pytest.raises(BadRequest) as refused:
        protect_cells(_cells(MAX_SUPPRESSED_TABLE_CELLS + 1), DEFAULT_RULE, 2, PerturbationTables([]))
    assert str(MAX_SUPPRESSED_TABLE_CELLS) in refused.value.detail
    assert str(MAX_SUPPRESSED_TABLE_CELLS + 1) not in refused.value.detail


def test_a_cell_key_table_over_the_bound_is_released() -> None:
    tables = PerturbationTables([load_table("hub-cell-key@1")])
    table = protect_cells(_cells(MAX_SUPPRESSED_TABLE_CELLS + 1), CELL_KEY_RULE, 2, tables)
    assert len(table.cells) == MAX_SUPPRESSED_TABLE_CELLS + 1
