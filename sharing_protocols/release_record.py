"""What the hub has released to an organisation: one figure of an answer, as the caller saw it.

A figure is a count of one dataset (or datasets summed, joined by "+") at one level over a set of areas, a set of
categories (None: all) and a contiguous span of months; `value` is what was released (None: suppressed) under the
rule `min_cell_count` / `round_to`. Cells, margins and totals of a table are all figures: the caller can add and
subtract every one of them (`sharing_protocols.differencing`), across levels too: a district is the sum of its
wards, so the guard compares figures over their base areas (`at_base`). An answer's figures have a digest
(`ReleasedAnswer`): one the organisation was given before in every field reveals nothing new.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ReleasedFigure:
    """One released (or suppressed) figure of an answer."""

    dataset: str
    level: str
    areas: frozenset[str]
    categories: frozenset[str] | None  # None: every category
    first: date  # first month of the span
    last: date  # last month of the span
    period: str  # the period's label as the caller saw it
    value: int | None  # None: suppressed
    min_cell_count: int
    round_to: int
    clauses: tuple[str, ...] = ()
    # The same areas as the smallest areas they are made of (wards for wards, districts, CSPs, counties and forces;
    # LSOAs for LSOAs): figures of different levels are compared in these (None: `level` and `areas` themselves).
    base_level: str | None = None
    base_areas: frozenset[str] | None = None

    def at_base(self) -> ReleasedFigure:
        """The figure as the differencing guard compares it: at its base level, over its base areas."""
        level, areas = self.base_level or self.level, self.base_areas or self.areas
        if level == self.level and areas is self.areas:
            return self  # already at its base (a ward, an LSOA)
        return self._made(level, areas, self.base_level, self.base_areas)

    def based(self, level: str, areas: frozenset[str]) -> ReleasedFigure:
        """The figure with its base level and areas set (`base_level`, `base_areas`)."""
        return self._made(self.level, self.areas, level, areas)

    def _made(
        self, level: str, areas: frozenset[str], base_level: str | None, base_areas: frozenset[str] | None
    ) -> ReleasedFigure:
        # The constructor, not `dataclasses.replace`: an answer has thousands of figures and replace costs 2-3x more.
        return ReleasedFigure(
            self.dataset,
            level,
            areas,
            self.categories,
            self.first,
            self.last,
            self.period,
            self.value,
            self.min_cell_count,
            self.round_to,
            self.clauses,
            base_level,
            base_areas,
        )

    @property
    def suppressed(self) -> bool:
        return self.value is None

    def bounds(self) -> tuple[int, int] | None:
        """The true counts consistent with the released value (rounding halves up), or None when suppressed."""
        if self.value is None:
            return None
        if self.value == 0 or self.round_to == 1:
            return self.value, self.value
        low = max(self.value - self.round_to // 2, self.min_cell_count)
        return low, self.value + (self.round_to - 1) // 2


FigureRow = list[object]  # a figure as its answer's digest takes it (`canonical`)

# The names of a `canonical` row's fields, in its order (the release record's columns take them by name).
FIELDS = (
    "dataset",
    "level",
    "areas",
    "categories",
    "first",
    "last",
    "period",
    "value",
    "min_cell_count",
    "round_to",
    "clauses",
    "base_level",
    "base_areas",
)


def canonical(figure: ReleasedFigure) -> FigureRow:
    """A figure as an answer's digest takes it: every field the release record keeps of it, in a fixed order (areas,
    categories and base areas sorted; base level and areas as recorded: the figure's own when it has none)."""
    return [
        figure.dataset,
        figure.level,
        sorted(figure.areas),
        None if figure.categories is None else sorted(figure.categories),
        figure.first.isoformat(),
        figure.last.isoformat(),
        figure.period,
        figure.value,
        figure.min_cell_count,
        figure.round_to,
        list(figure.clauses),
        figure.base_level or figure.level,
        sorted(figure.base_areas or figure.areas),
    ]


def digest(rows: Sequence[FigureRow]) -> bytes:
    """The SHA-256 of an answer's figures (their `canonical` rows, in order, as one JSON array): equal only for the
    same figures in the same order, each alike in every field the release record keeps."""
    return hashlib.sha256(json.dumps(rows, separators=(",", ":")).encode()).digest()


@dataclass(frozen=True)
class ReleasedAnswer:
    """The figures one answer released, in the order shown, their `canonical` rows and their `digest`: the release
    record keeps an answer whose digest the organisation was given before as "the figures of that access again"."""

    figures: tuple[ReleasedFigure, ...]
    rows: tuple[FigureRow, ...]  # each figure's `canonical` row, in the same order
    digest: bytes

    @classmethod
    def of(cls, figures: Iterable[ReleasedFigure]) -> ReleasedAnswer:
        shown = tuple(figures)
        rows = tuple(canonical(f) for f in shown)
        return cls(shown, rows, digest(rows))
