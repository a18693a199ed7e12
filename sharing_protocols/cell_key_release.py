"""A table of counts released under the cell key method: every cell perturbed by its cell key, totals summed.

Each cell is released as `perturb(count, cell key, table)`: the same events (the same cell key and count) always
give the same figure, whatever the query, level or endpoint. Nothing is suppressed (the table never releases 1..js,
so no secondary suppression is needed). The margins and the grand total are the sums of the released cells, so they
add up and carry no figure that was not already released; a cell absent from the table is a true 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sharing_protocols.disclosure import Key, ProtectedTable, Rule, Value
from sharing_protocols.perturbation import RECORD_KEY_MODULUS, PerturbationTable, perturb


@dataclass(frozen=True)
class KeyedCount:
    """A cell's true count and its cell key (the sum of its events' record keys, modulo RECORD_KEY_MODULUS)."""

    count: int
    key: int

    def __add__(self, other: KeyedCount) -> KeyedCount:
        """The cell holding the events of both (disjoint) cells."""
        return KeyedCount(self.count + other.count, (self.key + other.key) % RECORD_KEY_MODULUS)


def _order(key: Key) -> tuple[tuple[bool, str], ...]:
    return tuple((v is not None, v or "") for v in key)


def perturbed_table(
    cells: Mapping[Key, KeyedCount], table: PerturbationTable, rule: Rule, dimensions: int
) -> ProtectedTable:
    """`cells` (key -> true count and cell key) released under `rule`, a cell_key rule whose table is `table`."""
    if rule.method != "cell_key" or rule.table != table.label:
        raise ValueError(f"the rule does not perturb by table {table.label}")
    if any(len(key) != dimensions for key in cells):
        raise ValueError("every cell needs one value per dimension")
    released = {key: perturb(cells[key].count, cells[key].key, table) for key in sorted(cells, key=_order)}
    margins: list[dict[Value, int | None]] = [{} for _ in range(dimensions)]
    for key, count in released.items():
        for dim, value in enumerate(key):
            found = margins[dim].get(value) or 0
            margins[dim][value] = found + count
    ordered = tuple({v: m[v] for v in sorted(m, key=lambda v: (v is not None, v or ""))} for m in margins)
    return ProtectedTable(
        cells=dict(released),
        margins=ordered,
        total=sum(released.values()),
        primary=0,
        secondary=0,
        rule=rule,
    )
