"""The differencing guard (sharing_protocols.differencing): each subtraction shape is caught, safe answers pass.

Figures are written out by hand with the counts an analyst would see; the expectations are the subtractions an
analyst would do, not the guard's code.
"""

from __future__ import annotations

from datetime import date

from sharing_protocols.differencing import guard
from sharing_protocols.release_record import ReleasedFigure

JAN, FEB, DEC = date(2024, 1, 1), date(2024, 2, 1), date(2024, 12, 1)


def _fig(
    value: int | None,
    first: date = JAN,
    last: date = DEC,
    areas: tuple[str, ...] = ("E1",),
    categories: tuple[str, ...] | None = None,
    minimum: int = 3,
    round_to: int = 1,
    dataset: str = "marac-cases",
) -> ReleasedFigure:
    return ReleasedFigure(
        dataset=dataset,
        level="lad",
        areas=frozenset(areas),
        categories=None if categories is None else frozenset(categories),
        first=first,
        last=last,
        period=f"{first:%Y-%m} to {last:%Y-%m}",
        value=value,
        min_cell_count=minimum,
        round_to=round_to,
    )


def test_a_span_minus_the_span_less_a_month_is_caught() -> None:
    earlier = [_fig(40)]  # Jan-Dec
    released, withheld = guard(earlier, [_fig(38, first=FEB)])  # Feb-Dec: Jan = 2, suppressed under 3
    assert [f.value for f in released] == [None]
    assert len(withheld) == 1 and "the month 2024-01 exactly" in withheld[0].reason


def test_a_span_minus_a_span_leaving_a_large_count_passes() -> None:
    released, withheld = guard([_fig(40)], [_fig(30, first=FEB)])  # Jan = 10: the rule shows it anyway
    assert [f.value for f in released] == [30] and withheld == []


def test_an_area_total_minus_its_other_areas_is_caught() -> None:
    earlier = [_fig(50, areas=("E1", "E2", "E3"))]
    new = [_fig(20, areas=("E1",)), _fig(29, areas=("E2",)), _fig(None, areas=("E3",))]  # E3 = 1
    released, withheld = guard(earlier, new)
    assert [f.value for f in released].count(None) >= 2
    assert any("E3" in w.reason for w in withheld)


def test_all_categories_minus_one_is_caught_when_the_aggregate_comes_last() -> None:
    earlier = [_fig(9, categories=("referral",)), _fig(None, categories=("information-only",))]
    released, withheld = guard(earlier, [_fig(11)])  # all categories: 11 - 9 = 2 information-only
    assert [f.value for f in released] == [None]
    assert "the categories information-only exactly" in withheld[0].reason


def test_an_exactly_recovered_suppressed_figure_is_caught_even_when_large() -> None:
    # the hub suppressed 9 (secondary suppression); all categories 20 minus referral 11 would give it exactly
    earlier = [_fig(None, categories=("information-only",)), _fig(11, categories=("referral",))]
    released, withheld = guard(earlier, [_fig(20)])
    assert [f.value for f in released] == [None] and withheld


def test_rounding_leaves_no_exact_or_small_value_and_passes() -> None:
    earlier = [_fig(400, minimum=8, round_to=5)]
    released, withheld = guard(earlier, [_fig(395, first=FEB, minimum=8, round_to=5)])  # Jan in 1..9, not pinned
    assert [f.value for f in released] == [395] and withheld == []


def test_other_datasets_and_figures_released_earlier_are_not_counted_against_the_answer() -> None:
    other = guard([_fig(40, dataset="police-records")], [_fig(38, first=FEB)])
    assert other[1] == []
    # the caller already holds both figures: the new answer repeats one and adds nothing
    repeated = guard([_fig(40), _fig(38, first=FEB)], [_fig(38, first=FEB)])
    assert repeated[1] == [] and [f.value for f in repeated[0]] == [38]


def test_a_single_answer_protected_on_its_own_passes() -> None:
    new = [_fig(10, areas=("E1",)), _fig(20, areas=("E2",)), _fig(30, areas=("E1", "E2"))]
    assert guard([], new) == (new, [])


def test_withholding_a_cell_also_withholds_what_would_give_it_back_within_the_answer() -> None:
    earlier = [_fig(40, areas=("E1",))]  # Jan-Dec for E1
    # this answer: E1 and E2 for Feb-Dec, and their total; E1 Feb-Dec would give Jan = 2
    new = [
        _fig(38, first=FEB, areas=("E1",)),
        _fig(20, first=FEB, areas=("E2",)),
        _fig(58, first=FEB, areas=("E1", "E2")),
    ]
    released, _ = guard(earlier, new)
    values = [f.value for f in released]
    assert values[0] is None
    assert values[2] is None  # else total minus E2 gives E1 back


def test_a_part_suppressed_before_and_shown_now_completes_the_subtraction() -> None:
    # one answer by category suppressed both categories and showed their total; referral asked alone is 30
    earlier = [_fig(None, categories=("information-only",)), _fig(None, categories=("referral",)), _fig(31)]
    released, withheld = guard(earlier, [_fig(30, categories=("referral",))])
    assert [f.value for f in released] == [None]
    assert "the categories information-only exactly" in withheld[0].reason


def test_a_figure_withheld_is_not_given_back_by_a_subtraction_searched_before_it() -> None:
    # the district's Feb-Dec (earlier) minus E2's Feb-Dec gives E1's 2: E2's Feb-Dec is withheld; then E2's Jan-Dec
    # minus E2's January, both in this answer, would give it back exactly
    earlier = [_fig(58, first=FEB, areas=("E1", "E2"))]
    new = [_fig(56, first=FEB, areas=("E2",)), _fig(60, areas=("E2",)), _fig(4, first=JAN, last=JAN, areas=("E2",))]
    released, withheld = guard(earlier, new)
    assert [f.value for f in released] == [None, None, 4]
    assert "the areas E1 exactly" in withheld[0].reason and "the months 2024-02 to 2024-12" in withheld[1].reason


def test_each_figure_withheld_says_where_it_is_in_the_answer() -> None:
    earlier = [_fig(58, first=FEB, areas=("E1", "E2"))]
    new = [_fig(4, first=JAN, last=JAN, areas=("E2",)), _fig(60, areas=("E2",)), _fig(56, first=FEB, areas=("E2",))]
    released, withheld = guard(earlier, new)
    assert [f.value for f in released] == [4, None, None]
    assert sorted(w.index for w in withheld) == [1, 2]
    for w in withheld:
        assert w.figure == released[w.index] and new[w.index].value is not None
