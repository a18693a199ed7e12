"""The one way every endpoint releases counts: under its rule's method, the cell key method or the threshold rule.

`protect_cells` releases a table of counts with their cell keys; `protect_count` a lone figure. Under a cell_key
rule each cell is perturbed by its cell key (`sharing_protocols.cell_key_release`) with the rule's table, looked up
in the `tables` the app built at start (`api.perturbation_tables`), so the same events give the same figure on
every endpoint; under a threshold rule `sharing_protocols.disclosure.protect` suppresses and rounds, a table of at
most `api.bounds.MAX_SUPPRESSED_TABLE_CELLS` cells (a 400 beyond: the work of secondary suppression is bounded).
Given a memo (`api.memo.AnswerMemos.tables`), the same true cells, cell keys, rule and dimensions give the table
made before (a repeated answer: the work is pure).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from api.bounds import check_table_cells
from api.perturbation_tables import PerturbationTables
from sharing_protocols.cell_key_release import KeyedCount, perturbed_table
from sharing_protocols.disclosure import Key, ProtectedTable, Rule, protect, protect_value
from sharing_protocols.perturbation import perturb

if TYPE_CHECKING:
    from api.memo import Memo

# What a protected table depends on: its cells (key, true count, cell key), in order, the rule, the dimensions.
TableKey = tuple[tuple[tuple[Key, int, int], ...], Rule, int]


def protect_cells(
    cells: Mapping[Key, KeyedCount],
    rule: Rule,
    dimensions: int,
    tables: PerturbationTables,
    memo: Memo[TableKey, ProtectedTable] | None = None,
) -> ProtectedTable:
    """The table of `cells` (key -> true count and cell key) as it may be released under `rule` (the one `memo`
    kept for the same cells and rule, if any); BadRequest when a threshold rule's table has too many cells
    (`api.bounds.check_table_cells`)."""
    if memo is None:
        return _protected(cells, rule, dimensions, tables)
    if not (rule.method == "cell_key" and rule.table is not None):
        check_table_cells(len(cells))  # before the memo: the bound holds for every answer
    key = tuple((k, cell.count, cell.key) for k, cell in cells.items()), rule, dimensions
    return memo.made(key, lambda: _protected(cells, rule, dimensions, tables))


def _protected(
    cells: Mapping[Key, KeyedCount], rule: Rule, dimensions: int, tables: PerturbationTables
) -> ProtectedTable:
    if rule.method == "cell_key" and rule.table is not None:
        return perturbed_table(cells, tables[rule.table], rule, dimensions)
    check_table_cells(len(cells))
    return protect({key: cell.count for key, cell in cells.items()}, rule, dimensions)


def protect_count(cell: KeyedCount, rule: Rule, tables: PerturbationTables) -> int | None:
    """A lone figure as it may be released under `rule` (None: suppressed)."""
    if rule.method == "cell_key" and rule.table is not None:
        return perturb(cell.count, cell.key, tables[rule.table])
    return protect_value(cell.count, rule)


def perturbation_variance(rule: Rule, tables: PerturbationTables) -> float:
    """The variance the rule's perturbation adds to a released count (0 under the threshold method)."""
    if rule.method == "cell_key" and rule.table is not None:
        return tables[rule.table].variance
    return 0.0
