"""Statistical disclosure control: a clause's rule, which rule applies to a query, and protected figures and tables.

A protocol clause may set its own rule in its `disclosure:` block (`DisclosureControl`); without one it gets a
default (`sharing_protocols.clause_rule`), given here as None where it is the NHS rule: counts of 1-7 are
suppressed and all others are rounded to the nearest 5 (0 stays 0). A clause's own rule
overrides the default for that clause; a query answered under several clauses takes the strictest (largest
`min_cell_count`, largest `round_to`). A clause may choose the cell key method instead (`method: cell_key`, with
its perturbation `table`; `sharing_protocols.perturbation`): a rule of that method perturbs each cell by its cell
key (`sharing_protocols.cell_key_release`) instead of `protect`; where it meets a threshold clause in one figure
it counts as the NHS rule it carries.

`protect` publishes a table of counts together with its margins (the total for each value of each dimension) and
its grand total:

1. primary suppression: every cell, margin or total of 1..min_cell_count-1;
2. secondary suppression: for each primarily suppressed figure, more cells (and, where no cell will do, margins or
   the grand total) are suppressed until a perturbation of the suppressed cells that keeps every released figure
   unchanged can raise that figure to at least min_cell_count. So no suppressed figure can be worked out, or shown
   to be small, from the released cells and totals by linear algebra (a margin attack);
3. rounding of every released figure to the nearest round_to, halves up.

The perturbations used are rectangles of four cells (+1, -1, -1, +1: every row, column and other one-dimensional
total is unchanged), pairs of cells whose differing dimensions' totals are suppressed, and a single cell whose
totals are all suppressed. Figures derived from a count (a rate, a change, a share) must be computed from the
released count, and suppressed with it: see `released_rate`.

The protection covers exactly what `ProtectedTable` holds: cells, one-dimensional margins and the grand total. A
response must not add other sums of the same counts (two-way subtotals of a three-way table, the same counts at
another level, unlocated counts beside located ones) unless they are part of the one protected table, e.g. as a
value None of the area dimension.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from sharing_protocols.documents import FrozenModel
from sharing_protocols.perturbation import TableRef

Value = str | None  # one dimension's value of a cell, e.g. an area code, a category or a period
Key = tuple[Value, ...]  # a cell: one value per dimension
Margin = tuple[int, Value]  # (dimension index, value): the total of the cells with that value in that dimension
Source = Literal["default", "protocol", "combined"]
_SHORTLIST = 6  # partner cells tried along each line when building rectangles
_Ranked = tuple[int, int, Key]  # a cell's place in a line: (value or -value, position in the table, key)


def _check(min_cell_count: int, round_to: int) -> None:
    """ValueError unless the rule can be applied and never shows a count as 0."""
    if min_cell_count < 1 or round_to < 1:
        raise ValueError("min_cell_count and round_to must be at least 1")
    if 2 * min_cell_count < round_to:
        raise ValueError("min_cell_count must be at least half of round_to, or a shown count could round to 0")


_NHS_MIN_CELL_COUNT, _NHS_ROUND_TO = 8, 5  # the NHS rule, as DEFAULT_RULE states it


class DisclosureControl(FrozenModel):
    """A clause's own rule for counts (its `disclosure:` block).

    `method: threshold` (the default): suppress 1..min_cell_count-1, round to `round_to` (nearest multiple, halves
    up); zero is shown as zero. `method: cell_key`: perturb each cell by the perturbation table `table`
    (id@version, see `sharing_protocols.perturbation`); such a clause states no min_cell_count or round_to, and
    carries the NHS rule's (8, 5) for figures it cannot perturb or shares with threshold clauses (`rule_for`,
    `sharing_protocols.figure_rule.threshold_only`).
    """

    method: Literal["threshold", "cell_key"] = "threshold"
    min_cell_count: int = Field(ge=1, le=1_000)
    round_to: int = Field(default=1, ge=1, le=1_000)
    table: TableRef | None = None

    @model_validator(mode="before")
    @classmethod
    def _cell_key_fallback(cls, data: object) -> object:
        if not isinstance(data, Mapping) or data.get("method") != "cell_key":
            return data
        stated = [name for name in ("min_cell_count", "round_to") if name in data]
        if stated:
            raise ValueError(f"a cell_key clause states no {' or '.join(stated)} (its table sets the perturbation)")
        return {**data, "min_cell_count": _NHS_MIN_CELL_COUNT, "round_to": _NHS_ROUND_TO}

    @model_validator(mode="after")
    def _no_rounding_to_zero(self) -> DisclosureControl:
        _check(self.min_cell_count, self.round_to)
        if self.method == "cell_key" and self.table is None:
            raise ValueError("a cell_key clause names its perturbation table (table: id@version)")
        if self.method == "threshold" and self.table is not None:
            raise ValueError("a table is for method cell_key only")
        return self

    def __str__(self) -> str:
        if self.method == "cell_key":
            return f"cell key perturbation, table {self.table}"
        suppressed = f"1-{self.min_cell_count - 1} suppressed" if self.min_cell_count > 1 else "no suppression"
        rounding = f", rounded to {self.round_to}" if self.round_to > 1 else ""
        return suppressed + rounding


@dataclass(frozen=True)
class Rule:
    """A disclosure rule and where it came from.

    `method` "threshold": suppress 1..min_cell_count-1, round the rest to round_to. `method` "cell_key": perturb
    each cell by the perturbation table `table` (id@version); min_cell_count and round_to are then the NHS rule the
    clauses carry, not applied. `source` is "default" (the NHS rule), "protocol" (the clauses listed in `clauses`
    set it) or "combined" (the strictest of the NHS rule, for a clause without a rule of its own, and of the
    clauses listed).
    """

    min_cell_count: int
    round_to: int
    source: Source = "protocol"
    clauses: tuple[str, ...] = ()
    method: Literal["threshold", "cell_key"] = "threshold"
    table: TableRef | None = None

    def __post_init__(self) -> None:
        _check(self.min_cell_count, self.round_to)
        if (self.method == "cell_key") != (self.table is not None):
            raise ValueError("a cell_key rule names its table, and only a cell_key rule does")

    def describe(self) -> str:
        """One sentence saying what was done to the figures and under which rule."""
        clauses = f"protocol clause{'s' if len(self.clauses) > 1 else ''} {', '.join(self.clauses)}"
        if self.method == "cell_key":
            return (
                f"Rule of {clauses}: every count is perturbed by the cell key method with perturbation table "
                f"{self.table} (the same events always get the same figure), none is suppressed, and totals are "
                "the sums of the perturbed counts; 0 is shown as 0."
            )
        low = self.min_cell_count - 1
        parts = [f"counts of 1-{low} are suppressed" if low > 1 else "counts of 1 are suppressed" if low else ""]
        parts.append(f"the others are rounded to the nearest {self.round_to}" if self.round_to > 1 else "")
        what = ", ".join(p for p in parts if p) or "counts are shown exactly"
        if low:
            what += ", and more figures are suppressed where needed so that none can be worked out from the totals"
        origin = {
            "default": "The NHS rule (the default)",
            "protocol": f"Rule of {clauses}",
            "combined": f"Strictest of the NHS rule (the default) and of {clauses}",
        }[self.source]
        return f"{origin}: {what}; 0 is shown as 0."


DEFAULT_RULE = Rule(min_cell_count=8, round_to=5, source="default")


def rule_for(grants: Sequence[tuple[str, DisclosureControl | None]]) -> Rule:
    """The rule for a query answered under these (clause ref, clause's own rule) pairs: the strictest of them.

    A clause without a rule of its own contributes the NHS default. No clauses at all: the default. When every
    pair is a cell_key clause of one table, that method and table; otherwise (threshold clauses, or cell_key
    clauses of different tables, among them) a cell_key clause counts as the NHS rule it carries.
    """
    own = [(ref, control) for ref, control in grants if control is not None]
    tables = {control.table for _, control in own if control.method == "cell_key"}
    if own and len(own) == len(grants) and len(tables) == 1 and all(c.method == "cell_key" for _, c in own):
        table = tables.pop()
        refs = tuple(dict.fromkeys(ref for ref, _ in own))
        return Rule(_NHS_MIN_CELL_COUNT, _NHS_ROUND_TO, "protocol", refs, "cell_key", table)
    defaulted = not own or len(own) < len(grants)
    mins = [c.min_cell_count for _, c in own] + ([DEFAULT_RULE.min_cell_count] if defaulted else [])
    rounds = [c.round_to for _, c in own] + ([DEFAULT_RULE.round_to] if defaulted else [])
    min_cell_count, round_to = max(mins), max(rounds)
    setting = tuple(
        dict.fromkeys(ref for ref, c in own if c.min_cell_count == min_cell_count or c.round_to == round_to)
    )
    # The default is cited only for what no clause's own rule already requires.
    by_clauses_min = any(c.min_cell_count == min_cell_count for _, c in own)
    by_clauses_round = any(c.round_to == round_to for _, c in own)
    if not setting:
        return DEFAULT_RULE
    source: Source = "protocol" if by_clauses_min and by_clauses_round else "combined"
    return Rule(min_cell_count, round_to, source, setting)


def _round(count: int, round_to: int) -> int:
    return (count + round_to // 2) // round_to * round_to


def protect_value(count: int, rule: Rule) -> int | None:
    """A lone figure (published without margins) as it may be shown: 0, None (suppressed) or rounded."""
    if count < 0:
        raise ValueError("a count cannot be negative")
    if count == 0:
        return 0
    if count < rule.min_cell_count:
        return None
    return _round(count, rule.round_to)


def released_rate(released_count: int | None, denominator: float, per: float = 1000.0) -> float | None:
    """A rate per `per` of `denominator` computed from the released (rounded) count; None when it is suppressed.

    Never compute a rate from the true count: with a public denominator it would give the count back. None also
    when the denominator is 0.
    """
    if denominator < 0:
        raise ValueError("a denominator cannot be negative")
    if released_count is None or denominator == 0:
        return None
    return released_count / denominator * per


@dataclass(frozen=True)
class ProtectedTable:
    """A table as it may be released: None marks a suppressed figure (primary and secondary look the same).

    `cells` holds every cell given (absent cells are 0); `margins[i]` the total per value of dimension i; `total`
    the grand total. `primary` and `secondary` count suppressed figures (cells, margins and total) of each kind.
    """

    cells: Mapping[Key, int | None]
    margins: tuple[Mapping[Value, int | None], ...]
    total: int | None
    primary: int
    secondary: int
    rule: Rule


@dataclass(frozen=True)
class _Move:
    """A perturbation of cells (+1 on `plus`, -1 on `minus`) that changes no released figure once `margins` (and
    the grand total, if `total`) are suppressed along with its cells."""

    plus: tuple[Key, ...]
    minus: tuple[Key, ...]
    margins: frozenset[Margin]
    total: bool = False


def _value_order(value: Value) -> tuple[bool, str]:
    return (value is not None, value or "")


def _key_order(key: Key) -> tuple[tuple[bool, str], ...]:
    return tuple([(v is not None, v or "") for v in key])  # _value_order of each, inlined: tables sort it per cell


def _replace(key: Key, dim: int, value: Value) -> Key:
    return (*key[:dim], value, *key[dim + 1 :])


def _pair(plus: Key, minus: Key) -> _Move:
    differ = [j for j in range(len(plus)) if plus[j] != minus[j]]
    return _Move((plus,), (minus,), frozenset([(j, plus[j]) for j in differ] + [(j, minus[j]) for j in differ]))


def _single(cell: Key) -> _Move:
    return _Move((cell,), (), frozenset((j, v) for j, v in enumerate(cell)), total=True)


def _replayed(seen: list[_Move], pending: Iterator[_Move]) -> Iterator[_Move]:
    """`seen`, then the rest of `pending`, which is generated only as far as needed and added to `seen`."""
    yield from seen
    for move in pending:
        seen.append(move)
        yield move


class _Suppressor:
    """The suppression state of one table while secondary suppression runs."""

    def __init__(self, cells: Mapping[Key, int], minimum: int) -> None:
        self.cells = cells
        self.minimum = minimum
        self.dims = len(next(iter(cells))) if cells else 0
        self.slices: dict[Margin, list[Key]] = defaultdict(list)
        self.lines: dict[tuple[int, Key], list[Key]] = defaultdict(list)
        self.ordered = sorted(cells, key=_key_order)
        self.position = {key: i for i, key in enumerate(self.ordered)}
        for key in self.ordered:
            for j, value in enumerate(key):
                self.slices[(j, value)].append(key)
                self.lines[(j, key[:j] + key[j + 1 :])].append(key)
        self.margins = {margin: sum(cells[k] for k in keys) for margin, keys in self.slices.items()}
        self.total = sum(cells.values())
        self.cells_out: set[Key] = set()
        self.margins_out = {m for m, v in self.margins.items() if v < minimum}
        self.total_out = 0 < self.total < minimum
        # Each line's cells in the order `partners` takes them, kept as cells are suppressed: suppressed ones of
        # more than 1 (most first), released ones (least first), suppressed ones of 1; ties in table order.
        self.ranked: dict[tuple[int, Key], tuple[list[_Ranked], list[_Ranked], list[_Ranked]]] = {
            line: ([], sorted((cells[k], self.position[k], k) for k in keys), []) for line, keys in self.lines.items()
        }
        self.suppress(k for k in self.ordered if cells[k] < minimum)

    def suppress(self, keys: Iterable[Key]) -> None:
        """Suppress the cells `keys` (moving each to its place among the suppressed cells of its lines)."""
        for key in keys:
            if key in self.cells_out:
                continue
            self.cells_out.add(key)
            value, position = self.cells[key], self.position[key]
            for j in range(self.dims):
                big, released, ones = self.ranked[(j, key[:j] + key[j + 1 :])]
                entry = (value, position, key)
                del released[bisect.bisect_left(released, entry)]
                if value > 1:
                    bisect.insort(big, (-value, position, key))
                else:
                    bisect.insort(ones, entry)

    def line(self, cell: Key, dim: int) -> Iterator[Key]:
        """The other cells that agree with `cell` outside dimension `dim`, in table order (made as they are asked
        for: a caller that stops early does not pay for the rest of a long line)."""
        return (k for k in self.lines[(dim, cell[:dim] + cell[dim + 1 :])] if k != cell)

    def partners(self, cell: Key, dim: int) -> list[Key]:
        """The few cells along a line that are best to take from: suppressed ones with most slack, then the
        smallest released ones (a shortlist keeps large tables fast; any move found is safe)."""

        chosen: list[Key] = []
        for ranked in self.ranked[(dim, cell[:dim] + cell[dim + 1 :])]:
            for _, _, key in ranked:
                if key != cell:
                    chosen.append(key)
                    if len(chosen) == _SHORTLIST:
                        return chosen
        return chosen

    def cost(self, move: _Move) -> int:
        """What a move would newly suppress, weighted by value."""
        cells = sum(self.cells[k] for k in set(move.plus + move.minus) - self.cells_out)
        margins = sum(self.margins[m] for m in move.margins - self.margins_out)
        return cells + margins + (self.total if move.total and not self.total_out else 0)

    def apply(self, move: _Move) -> None:
        self.suppress(move.plus + move.minus)
        self.margins_out.update(move.margins)
        self.total_out = self.total_out or move.total

    def rectangles(self, cell: Key) -> Iterator[_Move]:
        for a in range(self.dims):
            for b in range(a + 1, self.dims):
                along_b = self.partners(cell, b)
                if not along_b:
                    continue
                for off_a in self.partners(cell, a):
                    for off_b in along_b:
                        diagonal = _replace(off_a, b, off_b[b])
                        if diagonal in self.cells:
                            yield _Move((cell, diagonal), (off_a, off_b), frozenset())

    def line_pairs(self, cell: Key, dims: Iterable[int]) -> Iterator[_Move]:
        return (_pair(cell, other) for j in dims for other in self.line(cell, j))

    def far_pairs(self, plus: Iterable[Key], allowed: Callable[[Key], bool]) -> Iterator[_Move]:
        """Pairs whose cells differ in two or more dimensions."""
        return (
            _pair(cell, other)
            for cell in plus
            for other in self.ordered
            if allowed(other) and sum(x != y for x, y in zip(cell, other, strict=True)) >= 2
        )

    def raise_figure(self, value: int, phases: Sequence[Callable[[], Iterable[_Move]]]) -> None:
        """Suppress moves, cheapest first, until together they can raise a figure of `value` to the minimum.

        Phases are tried in turn; within one, ties go to the earlier candidate. Each move's step is limited by the
        slack (value - 1) left in its minus cells, so the moves combined keep every cell at 1 or more.
        """
        need = self.minimum - value
        slack: dict[Key, int] = {}
        for phase in phases:
            pending, candidates = iter(phase()), list[_Move]()
            while need > 0:
                scored = []
                for move in _replayed(candidates, pending):
                    step = min((slack.get(k, self.cells[k] - 1) for k in move.minus), default=need)
                    if step > 0:
                        scored.append((move, min(step, need), self.cost(move)))
                        if scored[-1][1:] == (need, 0):  # free and enough: nothing can be better
                            scored = scored[-1:]
                            break
                if not scored:
                    break
                enough = [s for s in scored if s[1] >= need]
                if enough:
                    move, step, _ = min(enough, key=lambda s: s[2])
                else:
                    move, step, _ = min(scored, key=lambda s: (s[2] / s[1], s[2]))
                self.apply(move)
                candidates.remove(move)
                for k in move.minus:
                    slack[k] = slack.get(k, self.cells[k] - 1) - step
                need -= step
            if need <= 0:
                return
        raise AssertionError("a single cell with all its totals suppressed can always be raised")

    def cell_phases(self, cell: Key) -> list[Callable[[], Iterable[_Move]]]:
        """Candidate moves raising a cell: rectangles, pairs along a line, far pairs, the cell alone."""
        return [
            lambda: self.rectangles(cell),
            lambda: self.line_pairs(cell, range(self.dims)),
            lambda: self.far_pairs([cell], lambda _: True),
            lambda: [_single(cell)],
        ]

    def margin_phases(self, dim: int, value: Value) -> list[Callable[[], Iterable[_Move]]]:
        """Candidate moves raising a margin: a count moved from its slice to another value of `dim`, ..., alone."""
        inside = self.slices[(dim, value)]
        return [
            lambda: (move for cell in inside for move in self.line_pairs(cell, [dim])),
            lambda: self.far_pairs(inside, lambda k: k[dim] != value),
            lambda: (_single(k) for k in inside),
        ]

    def run(self) -> None:
        """Secondary suppression: protect each primarily suppressed cell, then each margin, then the total."""
        cells = sorted(self.cells_out, key=_key_order)
        margins = sorted(self.margins_out, key=lambda m: (m[0], _value_order(m[1])))
        total = self.total_out
        for cell in cells:
            self.raise_figure(self.cells[cell], self.cell_phases(cell))
        for dim, value in margins:
            self.raise_figure(self.margins[(dim, value)], self.margin_phases(dim, value))
        if total:
            self.raise_figure(self.total, [lambda: [_single(k) for k in self.ordered]])


def protect(cells: Mapping[Key, int], rule: Rule, dimensions: int | None = None) -> ProtectedTable:
    """The table of counts `cells` (absent = 0), its margins and grand total, disclosure-controlled under `rule`.

    Cells given as 0 are kept as 0. `dimensions` gives the number of dimensions when `cells` may be empty.
    """
    return _protect(cells, rule, dimensions, _Suppressor)


def _protect(
    cells: Mapping[Key, int],
    rule: Rule,
    dimensions: int | None,
    suppressor: Callable[[Mapping[Key, int], int], _Suppressor],
) -> ProtectedTable:
    """`protect`, secondary suppression run by `suppressor` (tests/support/protect_reference.py gives the one before
    its candidates were made lazily)."""
    if any(count < 0 for count in cells.values()):
        raise ValueError("a count cannot be negative")
    present = {key: count for key, count in cells.items() if count > 0}
    dims = {len(key) for key in cells} | ({dimensions} if dimensions is not None else set())
    if len(dims) > 1 or 0 in dims:
        raise ValueError("every cell needs one value per dimension, the same number of dimensions for all")
    state = suppressor(present, rule.min_cell_count)
    primary = len(state.cells_out) + len(state.margins_out) + state.total_out
    state.run()
    suppressed = len(state.cells_out) + len(state.margins_out) + state.total_out

    def shown(count: int, out: bool) -> int | None:
        return None if out else _round(count, rule.round_to)

    totals = dict.fromkeys(((j, v) for key in cells for j, v in enumerate(key)), 0) | state.margins
    margins: list[dict[Value, int | None]] = [{} for _ in range(dims.pop() if dims else 0)]
    for (dim, value), count in sorted(totals.items(), key=lambda m: (m[0][0], _value_order(m[0][1]))):
        margins[dim][value] = shown(count, (dim, value) in state.margins_out)
    return ProtectedTable(
        cells={k: shown(cells[k], k in state.cells_out) for k in sorted(cells, key=_key_order)},
        margins=tuple(margins),
        total=shown(state.total, state.total_out),
        primary=primary,
        secondary=suppressed - primary,
        rule=rule,
    )
