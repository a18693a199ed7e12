"""The figures a protected count table releases, as the release record keeps them (api.released_figures)."""

from __future__ import annotations

from datetime import date

from api.aggregate_query import Grouping, make_params
from api.released_figures import released_figures
from sharing_protocols.disclosure import Key, Rule, protect
from sharing_protocols.periods import PeriodType, periods
from sharing_protocols.release_record import ReleasedFigure
from warehouse.queries.aggregates import Level

RULE = Rule(3, 1, "protocol", ("p#c",))


def _figures(period: PeriodType, cells: dict[Key, int], by: list[Grouping]) -> list[ReleasedFigure]:
    params = make_params(["marac-cases"], "2024-01", "2024-02", Level.lad, period, by, None, None, None, None, "json")
    found = periods(period, params.start, params.end)
    return [f for _, f in released_figures(params, found, protect(cells, RULE, len(params.dimensions)), RULE)]


def test_cells_margins_and_total_each_name_what_they_sum() -> None:
    cells: dict[Key, int] = {("A", "2024-01"): 10, ("A", "2024-02"): 2, ("B", "2024-01"): 20, ("B", "2024-02"): 30}
    figures = {(tuple(sorted(f.areas)), f.first, f.last): f.value for f in _figures(PeriodType.month, cells, [])}
    jan, feb = date(2024, 1, 1), date(2024, 2, 1)
    assert len(figures) == 4 + 2 + 2 + 1
    assert figures[(("A",), feb, feb)] is None  # 2 < 3
    assert figures[(("B",), jan, feb)] == 50  # the area margin spans both months
    assert figures[(("A", "B"), jan, jan)] == 30  # the period margin spans both areas
    assert all(
        f.categories is None and f.dataset == "marac-cases" and f.level == "lad"
        for f in _figures(PeriodType.month, cells, [])
    )


def test_a_category_cell_names_its_category_and_a_margin_over_categories_all_of_them() -> None:
    cells: dict[Key, int] = {("A", "referral", "2024-01"): 9, ("A", "information-only", "2024-01"): 4}
    figures = _figures(PeriodType.month, cells, ["category"])
    by_categories = {f.categories: f.value for f in figures if f.areas == {"A"}}
    assert by_categories[frozenset({"referral"})] == 9
    assert by_categories[frozenset({"information-only"})] == 4
    assert by_categories[None] == 13


def test_margins_over_overlapping_rolling_periods_are_left_out() -> None:
    params_cells: dict[Key, int] = {("A", "12 months to 2024-01"): 10, ("A", "12 months to 2024-02"): 11}
    figures = _figures(PeriodType.rolling_12, params_cells, [])
    spans = [(date(2023, 2, 1), date(2024, 1, 1)), (date(2023, 3, 1), date(2024, 2, 1))]
    assert sorted((f.first, f.last) for f in figures) == sorted(spans * 2)  # cells, and the margins of one area
