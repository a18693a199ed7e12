"""The figures of a protected count table as the release record keeps them: cells, margins and the grand total.

Each figure names the areas, categories (None: all) and months it sums, so that the differencing guard can tell
which figures are parts of which. A figure summing overlapping periods (a margin over rolling 12-month periods)
is not one span of months and is left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from api.aggregate_query import AggregateParams
from sharing_protocols.disclosure import ProtectedTable, Rule, Value
from sharing_protocols.periods import Period, PeriodType
from sharing_protocols.release_record import ReleasedFigure

NO_CATEGORY = "(none)"  # events whose category was not released, as a category of the record


def _spans(params: AggregateParams, table: ProtectedTable) -> Iterator[tuple[tuple[set[Value], ...], int | None]]:
    """Each figure of `table` as the values it sums in every dimension (a dimension's every value: all of them)."""
    dims = len(params.dimensions)
    every: tuple[set[Value], ...] = tuple({key[i] for key in table.cells} for i in range(dims))
    for key, value in table.cells.items():
        yield tuple({v} for v in key), value
    for i, margin in enumerate(table.margins):
        for v, value in margin.items():
            yield tuple({v} if j == i else every[j] for j in range(dims)), value
    if table.cells:
        yield every, table.total


def released_figures(
    params: AggregateParams, found: Sequence[Period], table: ProtectedTable, rule: Rule
) -> list[ReleasedFigure]:
    """The figures `table` released (or suppressed) for the query `params` over the periods `found`."""
    dims = params.dimensions
    by_label = {p.label: p for p in found}
    combined = "+".join(sorted(params.datasets))
    figures = []
    for values, value in _spans(params, table):
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
            )
        )
    return figures
