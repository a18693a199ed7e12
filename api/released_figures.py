"""The figures of a protected count table as the release record keeps them: cells, margins and the grand total;
and `Recorder`, the one release hook of every endpoint that releases counts (/v1/counts, rates, trends, OGC items):
it records the figures an answer shows and, under threshold-and-round, withholds those the differencing guard
finds would give a suppressed count away together with what the organisation was shown before.

Each figure names the areas, categories (None: all) and months it sums, so that the differencing guard can tell
which figures are parts of which. A figure summing overlapping periods (a margin over rolling 12-month periods)
is not one span of months and is left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session

from api.aggregate_query import AggregateParams, Resolved, recipient
from api.caller import Caller
from api.schemas.common import DisclosureOut
from geography.settings import GeocoderSettings
from sharing_protocols.differencing import MAX_EARLIER, guard, lines
from sharing_protocols.disclosure import Key, ProtectedTable, Rule, Value
from sharing_protocols.periods import Period, PeriodType
from sharing_protocols.release_record import ReleasedFigure
from warehouse.queries.aggregates import Level
from warehouse.queries.areas import wards_making
from warehouse.queries.releases import categories_asked, earlier_figures

NO_CATEGORY = "(none)"  # events whose category was not released, as a category of the record
Position = tuple[Key] | tuple[int, Value] | tuple[()]  # a cell's key, a margin (dimension, value), the total


def _spans(
    params: AggregateParams, table: ProtectedTable
) -> Iterator[tuple[Position, tuple[set[Value], ...], int | None]]:
    """Each figure of `table`, where it is, and the values it sums in every dimension."""
    dims = len(params.dimensions)
    every: tuple[set[Value], ...] = tuple({key[i] for key in table.cells} for i in range(dims))
    for key, value in table.cells.items():
        yield (key,), tuple({v} for v in key), value
    for i, margin in enumerate(table.margins):
        for v, value in margin.items():
            yield (i, v), tuple({v} if j == i else every[j] for j in range(dims)), value
    if table.cells:
        yield (), every, table.total


def released_figures(
    params: AggregateParams, found: Sequence[Period], table: ProtectedTable, rule: Rule
) -> list[tuple[Position, ReleasedFigure]]:
    """The figures `table` released (or suppressed) for the query `params` over the periods `found`, each with
    where it is in the table."""
    dims = params.dimensions
    by_label = {p.label: p for p in found}
    combined = "+".join(sorted(params.datasets))
    figures = []
    for position, values, value in _spans(params, table):
        of = dict(zip(dims, values, strict=True))
        periods = [by_label[str(label)] for label in of["period"]]
        if len(periods) > 1 and params.period is PeriodType.rolling_12:
            continue
        first, last = min(p.first for p in periods), max(p.last for p in periods)
        label = periods[0].label if len(periods) == 1 else f"{first:%Y-%m} to {last:%Y-%m}"
        categories: frozenset[str] | None = frozenset(params.categories) or None
        if "category" in of and len(of["category"]) == 1:
            categories = frozenset(NO_CATEGORY if c is None else c for c in of["category"])
        datasets = of.get("dataset", set())
        dataset = str(next(iter(datasets))) if len(datasets) == 1 else combined
        figures.append(
            (
                position,
                ReleasedFigure(
                    dataset=dataset,
                    level=params.level.value,
                    areas=frozenset(str(a) for a in of["area"]),
                    categories=categories,
                    first=first,
                    last=last,
                    period=label,
                    value=value,
                    min_cell_count=rule.min_cell_count,
                    round_to=rule.round_to,
                    clauses=rule.clauses,
                ),
            )
        )
    return figures


def withhold(table: ProtectedTable, positions: Sequence[Position]) -> ProtectedTable:
    """`table` with the figures at `positions` suppressed too (counted as secondary suppression)."""
    cells = dict(table.cells)
    margins = [dict(m) for m in table.margins]
    total = table.total
    for position in positions:
        if len(position) == 1:
            cells[position[0]] = None
        elif len(position) == 2:
            margins[position[0]][position[1]] = None
        else:
            total = None
    extra = sum(v is None for v in cells.values()) - sum(v is None for v in table.cells.values())
    extra += sum(v is None for m in margins for v in m.values()) - sum(
        v is None for m in table.margins for v in m.values()
    )
    extra += total is None and table.total is not None
    return replace(table, cells=cells, margins=tuple(margins), total=total, secondary=table.secondary + extra)


def at_base(
    session: Session, geography: GeocoderSettings, level: Level, figures: Sequence[ReleasedFigure]
) -> list[ReleasedFigure]:
    """`figures` (all at `level`) with their base areas: the wards each area is made of (LSOAs: themselves), so that
    the guard can subtract a district's wards from the district. An area with no ward loaded stays itself."""
    if level is Level.lsoa:
        return [replace(f, base_level=Level.lsoa.value, base_areas=f.areas) for f in figures]
    codes = sorted({code for f in figures for code in f.areas})
    wards = wards_making(session, geography, level, codes)
    return [
        replace(
            f,
            base_level=Level.ward.value,
            base_areas=frozenset(ward for code in f.areas for ward in wards.get(code, {code})),
        )
        for f in figures
    ]


def named(figure: ReleasedFigure) -> str:
    """A released figure as the caller would name it."""
    areas = ", ".join(sorted(figure.areas))
    categories = "all categories" if figure.categories is None else ", ".join(sorted(figure.categories))
    return f"{figure.dataset} in {areas}, {categories}, {figure.period}"


@dataclass
class Recorder:
    """The release hook of an answer's count table (`api.services.counts.Release`): called with the protected
    table, it returns the table as released and keeps the figures released (for the release record) and why any
    were withheld (for `disclosure.withheld`).

    Perturbed (cell key) figures are recorded, not guarded: a difference of two is noise. Threshold-and-round
    figures go through the differencing guard against the figures of the same datasets released to the
    organisation before, whichever endpoint and level released them, compared over their base areas (`at_base`:
    a district as its wards), on a line of the answer's figures (all the guard needs).
    `margins` False: the endpoint shows the table's cells only (rates, trends, OGC items), so only they are
    released, recorded and guarded. `periods`: the table's periods when they are not the query's (trends add the
    periods they compare with).
    """

    session: Session
    geography: GeocoderSettings
    caller: Caller
    params: AggregateParams
    margins: bool = True
    periods: Sequence[Period] | None = None
    released: list[ReleasedFigure] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def __call__(self, resolved: Resolved, table: ProtectedTable) -> ProtectedTable:
        found = resolved.periods if self.periods is None else self.periods
        placed = [
            (position, figure)
            for position, figure in released_figures(self.params, found, table, resolved.rule)
            if self.margins or len(position) == 1
        ]
        if resolved.rule.method == "cell_key":
            self.released.extend(figure for _, figure in placed)
            return table
        org = recipient(self.caller)
        new = at_base(self.session, self.geography, self.params.level, [figure for _, figure in placed])
        compared = [figure.at_base() for figure in new]
        level = compared[0].level if compared else self.params.level.value
        asked = categories_asked(self.session, org, sorted({figure.dataset for figure in new}), level)
        earlier = earlier_figures(self.session, org, level, lines(compared, asked), MAX_EARLIER + 1)
        figures, withheld = guard(earlier, compared, asked)
        self.released.extend(replace(shown, value=after.value) for shown, after in zip(new, figures, strict=True))
        for w in withheld:
            shown = next(n for n, after in zip(new, figures, strict=True) if after is w.figure)
            self.reasons.append(f"{named(shown)}: {w.reason}")
        stopped = [
            position for (position, _), before, after in zip(placed, compared, figures, strict=True) if before != after
        ]
        return withhold(table, stopped) if stopped else table

    def disclosed(self, disclosure: DisclosureOut) -> DisclosureOut:
        """The answer's disclosure member, saying which figures the guard withheld and why."""
        return disclosure.model_copy(update={"withheld": self.reasons}) if self.reasons else disclosure
