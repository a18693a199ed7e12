"""The figures a linked table (repeats, cohorts) shows, as the release record keeps them: each row's shown parts
and total, and the totals over rows only where the rows' months do not overlap."""

from __future__ import annotations

from datetime import date

from api.linked_query import protect_parts
from api.released_figures import UNLOCATED, Linked, LinkedRow, Position, linked_figures
from sharing_protocols.disclosure import Rule
from sharing_protocols.release_record import ReleasedFigure
from warehouse.queries.aggregates import Level

EXACT = Rule(1, 1)
KINDS = ("repeat", "first", "without")
JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)


def _by(
    figures: list[tuple[Position, ReleasedFigure]],
) -> dict[tuple[frozenset[str], frozenset[str] | None, date, date], int | None]:
    return {(f.areas, f.categories, f.first, f.last): f.value for _, f in figures}


def test_each_shown_part_and_each_row_total_is_a_figure_of_the_measure_and_the_totals_sum_the_region() -> None:
    rows = [
        LinkedRow(frozenset({"A"}), None, JAN, JAN, "2024-01"),
        LinkedRow(frozenset({"B"}), None, FEB, FEB, "2024-02"),
    ]
    parts = protect_parts(
        [{"repeat": 3, "first": 10, "without": 2}, {"repeat": 1, "first": 4, "without": 0}], KINDS, EXACT
    )
    linked = Linked("police-records:repeats", ("repeat", "without"), True)
    figures = linked_figures(linked, Level.lad, rows, parts, EXACT, frozenset({UNLOCATED}))
    assert {f.dataset for _, f in figures} == {"police-records:repeats"}
    everything = frozenset(KINDS)
    region = frozenset({"A", "B", UNLOCATED})
    assert _by(figures) == {
        (frozenset({"A"}), frozenset({"repeat"}), JAN, JAN): 3,
        (frozenset({"A"}), frozenset({"without"}), JAN, JAN): 2,
        (frozenset({"A"}), everything, JAN, JAN): 15,
        (frozenset({"B"}), frozenset({"repeat"}), FEB, FEB): 1,
        (frozenset({"B"}), frozenset({"without"}), FEB, FEB): 0,
        (frozenset({"B"}), everything, FEB, FEB): 5,
        (region, frozenset({"repeat"}), JAN, FEB): 4,
        (region, frozenset({"without"}), JAN, FEB): 2,
        (region, everything, JAN, FEB): 20,
    }
    # each figure names where it is in the table: a part (row, kind), a row's total, a part's total, the total
    assert [p for p, _ in figures] == [
        (("0", "repeat"),),
        (("0", "without"),),
        (0, "0"),
        (("1", "repeat"),),
        (("1", "without"),),
        (0, "1"),
        (1, "repeat"),
        (1, "without"),
        (),
    ]


def test_parts_of_a_grouped_row_are_named_after_its_group() -> None:
    rows = [LinkedRow(frozenset({"A"}), "Edge One", JAN, JAN, "2024-01")]
    parts = protect_parts([{"repeat": 2, "first": 7, "without": 1}], KINDS, EXACT)
    figures = linked_figures(Linked("marac-cases:cases", ("repeat",), False), Level.lad, rows, parts, EXACT)
    assert {f.categories for _, f in figures} == {
        frozenset({"Edge One/repeat"}),
        frozenset({"Edge One/repeat", "Edge One/first", "Edge One/without"}),
    }


def test_no_totals_over_rows_whose_months_overlap() -> None:
    rolling = [
        LinkedRow(frozenset({"A"}), None, date(2023, 2, 1), JAN, "12 months to 2024-01"),
        LinkedRow(frozenset({"A"}), None, date(2023, 3, 1), FEB, "12 months to 2024-02"),
        LinkedRow(frozenset({"A"}), None, date(2023, 4, 1), MAR, "12 months to 2024-03"),
    ]
    parts = protect_parts([{"repeat": 1, "first": 9, "without": 0}] * 3, KINDS, EXACT)
    figures = linked_figures(Linked("m", ("repeat",), True), Level.lad, rolling, parts, EXACT)
    assert len(figures) == 6  # a part and a total per row; no total over the rows
    assert all(len(p) != 2 or p[0] == 0 for p, _ in figures)
    assert {(f.first, f.last, f.period) for _, f in figures} == {(r.first, r.last, r.period) for r in rolling}


def test_the_totals_of_one_row_sum_the_region_as_those_of_several_do() -> None:
    rows = [LinkedRow(frozenset({"A"}), None, JAN, JAN, "2024-01")]
    parts = protect_parts([{"repeat": 3, "first": 10, "without": 2}], KINDS, EXACT)
    figures = linked_figures(Linked("m", ("repeat",), True), Level.lad, rows, parts, EXACT, frozenset({UNLOCATED}))
    areas = {p: f.areas for p, f in figures}
    assert areas[(("0", "repeat"),)] == areas[(0, "0")] == frozenset({"A"})
    assert areas[(1, "repeat")] == areas[()] == frozenset({"A", UNLOCATED})
