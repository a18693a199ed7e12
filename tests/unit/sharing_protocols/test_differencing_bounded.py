"""The bounded differencing guard withholds exactly what the guard before it did
(tests/support/differencing_reference.py), on random small histories; given only the earlier figures on the new
answer's lines, alike ones once (what the warehouse reads), it withholds the same again; beyond its bound it
withholds everything.

The histories are tables an analyst could be shown: true counts per month, area and category, and figures summing
them over spans of months, sets of areas and sets of categories, suppressed under the threshold and rounded, some
suppressed at random as secondary suppression would.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from sharing_protocols.differencing import MAX_EARLIER, asked, guard
from tests.support import differencing_reference as reference
from tests.support.guard_history import random_history, read

SEEDS = range(400)


def test_the_histories_make_the_guard_withhold_often_and_search_again() -> None:
    withheld = [len(reference.guard(*random_history(seed))[1]) for seed in SEEDS]
    assert sum(n > 0 for n in withheld) >= len(SEEDS) // 8, withheld
    assert sum(n > 1 for n in withheld) >= 10, withheld


@pytest.mark.parametrize("chunk", range(4))
def test_the_bounded_guard_withholds_exactly_what_the_reference_did(chunk: int) -> None:
    for seed in SEEDS[chunk::4]:
        earlier, new = random_history(seed)
        expected_released, expected_withheld = reference.guard(earlier, new)
        released, withheld = guard(earlier, new)
        assert released == expected_released, seed
        assert withheld == expected_withheld, seed


@pytest.mark.parametrize("chunk", range(4))
def test_given_only_the_figures_on_the_answers_lines_it_withholds_the_same(chunk: int) -> None:
    for seed in SEEDS[chunk::4]:
        earlier, new = random_history(seed)
        expected = reference.guard(earlier, new)
        history = read(earlier, new)
        released, withheld = guard(history, new, asked(earlier))
        assert released == expected[0], seed
        assert withheld == expected[1], seed


def test_the_lines_leave_out_figures_of_other_spans_areas_and_categories() -> None:
    earlier, new = random_history(7)
    assert len(read(earlier, new)) < len(set(earlier))


def test_beyond_its_bound_it_withholds_every_figure_rather_than_check_part() -> None:
    figure = random_history(1)[1][0]
    shown = replace(figure, value=40)
    earlier = [replace(shown, areas=frozenset({f"W{i}"})) for i in range(MAX_EARLIER + 1)]
    released, withheld = guard(earlier, [shown, replace(shown, value=None)])
    assert [f.value for f in released] == [None, None]
    assert len(withheld) == 1 and str(MAX_EARLIER) in withheld[0].reason
    assert guard(earlier[:MAX_EARLIER], [shown])[0] == [shown]
    # figures on none of the answer's lines (other periods), or alike ones, do not count towards the bound
    elsewhere = [replace(f, first=date(2020, 1, 1), last=date(2020, 1, 1)) for f in earlier]
    assert guard(elsewhere, [shown])[0] == [shown]
    assert guard(earlier[:10] * (MAX_EARLIER // 5), [shown])[0] == [shown]
