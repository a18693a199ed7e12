"""Secondary suppression as it was before its candidates were made as needed (commit fcecdc3): the reference
`sharing_protocols.disclosure.protect` must agree with, for the equivalence test and the benchmark. Not production
code.

Every phase's candidate moves were built in full before the first was scored, and each rectangle's partner cells
were found by sorting the whole line, so a table with long lines (every LSOA of three forces in one month) cost
seconds per suppressed figure. The search itself (`raise_figure`, costs, the phases' order) is the module's own, and
so are the rectangles (which before also sorted a line for partners along a dimension with no other value: the
reference is a little faster than the code it stands for, and the ratio a benchmark prints a little lower).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from sharing_protocols.disclosure import (
    _SHORTLIST,
    Key,
    ProtectedTable,
    Rule,
    Value,
    _Move,
    _pair,
    _protect,
    _single,
    _Suppressor,
)


class _Eager(_Suppressor):
    """The suppressor with its candidates made eagerly, as before."""

    def suppress(self, keys: Iterable[Key]) -> None:
        self.cells_out.update(keys)

    def line(self, cell: Key, dim: int) -> Iterator[Key]:
        return iter([k for k in self.lines[(dim, cell[:dim] + cell[dim + 1 :])] if k != cell])

    def partners(self, cell: Key, dim: int) -> list[Key]:
        def rank(k: Key) -> tuple[int, int, int]:
            if k in self.cells_out:
                return (0 if self.cells[k] > 1 else 2, -self.cells[k], self.position[k])
            return (1, self.cells[k], self.position[k])

        return sorted(self.line(cell, dim), key=rank)[:_SHORTLIST]

    def line_pairs(self, cell: Key, dims: Iterable[int]) -> Iterator[_Move]:
        return iter([_pair(cell, other) for j in dims for other in self.line(cell, j)])

    def far_pairs(self, plus: Iterable[Key], allowed: Callable[[Key], bool]) -> Iterator[_Move]:
        return iter(
            [
                _pair(cell, other)
                for cell in plus
                for other in self.ordered
                if allowed(other) and sum(x != y for x, y in zip(cell, other, strict=True)) >= 2
            ]
        )

    def margin_phases(self, dim: int, value: Value) -> list[Callable[[], Iterable[_Move]]]:
        inside = self.slices[(dim, value)]
        return [
            lambda: [move for cell in inside for move in self.line_pairs(cell, [dim])],
            lambda: self.far_pairs(inside, lambda k: k[dim] != value),
            lambda: [_single(k) for k in inside],
        ]


def protect(cells: Mapping[Key, int], rule: Rule, dimensions: int | None = None) -> ProtectedTable:
    """`sharing_protocols.disclosure.protect` as it was."""
    return _protect(cells, rule, dimensions, _Eager)
