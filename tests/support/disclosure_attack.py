"""A margin attack on a released table: how far linear programming narrows each suppressed figure.

The attacker knows the released cells, the released margins (the total per value of each dimension) and the grand
total, and the rule. One LP variable per cell that is not known to be 0: a released cell lies in the interval that
rounds to its released value (and is at least min_cell_count, or it would have been suppressed); a suppressed cell
is at least 1 (0 is always shown). Each released margin or total bounds the sum of its cells the same way. For each
suppressed cell, margin and total the attack minimises and maximises it; it is recovered when the bounds leave a
single integer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_array

from sharing_protocols.disclosure import Key, Margin, ProtectedTable, Value

_EPS = 1e-6


@dataclass(frozen=True)
class Recovery:
    """The suppressed figures the attack pinned to one value, with that value."""

    cells: dict[Key, int] = field(default_factory=dict)
    margins: dict[Margin, int] = field(default_factory=dict)
    total: int | None = None

    @property
    def anything(self) -> bool:
        return bool(self.cells or self.margins or self.total is not None)


def interval(released: int, min_cell_count: int, round_to: int) -> tuple[int, int]:
    """The true counts that are released as `released` (0 only from 0; positive counts are >= min_cell_count)."""
    if released == 0:
        return 0, 0
    low = released - round_to // 2
    return max(low, min_cell_count), low + round_to - 1


def margin_attack(
    cells: Mapping[Key, int | None],
    margins: Sequence[Mapping[Value, int | None]],
    total: int | None,
    min_cell_count: int,
    round_to: int,
) -> Recovery:
    """Every suppressed (None) cell, margin and total that the released figures pin to a single integer.

    Cells not listed, or listed as 0, are known to be 0.
    """
    unknown = [key for key, shown in cells.items() if shown != 0]
    column = {key: i for i, key in enumerate(unknown)}
    bounds: list[tuple[int, int | None]] = []
    for key in unknown:
        shown = cells[key]
        bounds.append((1, None) if shown is None else interval(shown, min_cell_count, round_to))

    groups: list[tuple[list[int], int | None, Margin | None]] = [
        ([column[k] for k in unknown if k[dim] == value], shown, (dim, value))
        for dim, values in enumerate(margins)
        for value, shown in values.items()
    ]
    groups.append((list(range(len(unknown))), total, None))

    rows: list[int] = []
    cols: list[int] = []
    data: list[int] = []
    upper: list[int] = []
    for members, shown, _ in groups:
        if shown is None:
            continue
        low, high = interval(shown, min_cell_count, round_to)
        for sign, limit in ((1, high), (-1, -low)):
            rows.extend([len(upper)] * len(members))
            cols.extend(members)
            data.extend([sign] * len(members))
            upper.append(limit)
    a_ub = csr_array((data, (rows, cols)), shape=(len(upper), len(unknown))) if upper else None
    b_ub = np.array(upper, dtype=float) if upper else None

    def pinned(members: list[int]) -> int | None:
        objective = np.zeros(len(unknown))
        objective[members] = 1.0
        lowest = linprog(objective, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        highest = linprog(-objective, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        if lowest.status == 2 or highest.status == 2:
            raise ValueError("the released figures contradict each other")
        if highest.status == 3:  # unbounded above
            return None
        if lowest.status != 0 or highest.status != 0:
            raise RuntimeError(f"linprog failed: {lowest.message} / {highest.message}")
        low, high = math.ceil(lowest.fun - _EPS), math.floor(-highest.fun + _EPS)
        return low if high <= low else None

    recovered_cells = {
        key: value for key in unknown if cells[key] is None and (value := pinned([column[key]])) is not None
    }
    recovered_margins: dict[Margin, int] = {}
    recovered_total = None
    for members, shown, margin in groups:
        if shown is not None or not members:
            continue
        value = pinned(members)
        if value is None:
            continue
        if margin is None:
            recovered_total = value
        else:
            recovered_margins[margin] = value
    return Recovery(recovered_cells, recovered_margins, recovered_total)


def attack_table(table: ProtectedTable) -> Recovery:
    """The margin attack on a table from `sharing_protocols.disclosure.protect`."""
    return margin_attack(table.cells, table.margins, table.total, table.rule.min_cell_count, table.rule.round_to)
