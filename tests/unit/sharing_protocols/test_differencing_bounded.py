"""The bounded differencing guard withholds exactly what the guard before it did
(tests/support/differencing_reference.py), on random small histories; given only the earlier figures on the new
answer's lines, alike ones once (what the warehouse reads), it withholds the same again; beyond its bound it
withholds everything.

The histories are tables an analyst could be shown: true counts per month, area and category, and figures summing
them over spans of months, sets of areas and sets of categories, suppressed under the threshold and rounded, some
suppressed at random as secondary suppression would.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

import pytest

from sharing_protocols.differencing import MAX_EARLIER, Line, asked, guard, lines
from sharing_protocols.release_record import ReleasedFigure
from tests.support import differencing_reference as reference

MONTHS = [date(2024, m, 1) for m in range(1, 5)]
AREAS = ("E1", "E2", "E3")
CATEGORIES = ("a", "b", "c")


def _figure(rng: random.Random, truth: dict[tuple[date, str, str], int], rule: tuple[int, int]) -> ReleasedFigure:
    first = rng.randrange(len(MONTHS))
    last = rng.randrange(first, min(first + 4, len(MONTHS)))
    areas = frozenset(rng.sample(AREAS, rng.choice((1, 1, 2, 3))))
    categories = None if rng.random() < 0.4 else frozenset(rng.sample(CATEGORIES, rng.choice((1, 1, 2))))
    count = sum(
        truth[(m, a, c)]
        for m in MONTHS[first : last + 1]
        for a in areas
        for c in (CATEGORIES if categories is None else categories)
    )
    minimum, round_to = rule
    value: int | None = None if 0 < count < minimum or rng.random() < 0.1 else count
    if value and round_to > 1:
        value = round_to * ((value + round_to // 2) // round_to)
    return ReleasedFigure(
        dataset=rng.choice(("marac", "marac", "police")),
        level="lad",
        areas=areas,
        categories=categories,
        first=MONTHS[first],
        last=MONTHS[last],
        period=f"{MONTHS[first]:%Y-%m} to {MONTHS[last]:%Y-%m}",
        value=value,
        min_cell_count=minimum,
        round_to=round_to,
    )


def _history(seed: int) -> tuple[list[ReleasedFigure], list[ReleasedFigure]]:
    rng = random.Random(seed)
    truth = {(m, a, c): rng.choice((0, 0, 1, 2, 3, 5, 9)) for m in MONTHS for a in AREAS for c in CATEGORIES}
    rule = rng.choice(((3, 1), (8, 1), (8, 5)))
    earlier = [_figure(rng, truth, rule) for _ in range(rng.randrange(0, 60))]
    earlier += rng.sample(earlier, len(earlier) // 4)  # some asked again
    new = [_figure(rng, truth, rule) for _ in range(rng.randrange(1, 15))]
    return earlier, new


def _on(figure: ReleasedFigure, line: Line) -> bool:
    """Whether the release record would return `figure` for `line` (its columns compared as stored)."""
    months = (figure.first, figure.last)
    areas = tuple(sorted(figure.areas))
    categories = () if figure.categories is None else tuple(sorted(figure.categories))
    if (figure.dataset, figure.level) != (line.dataset, line.level):
        return False
    alike = [
        line.months is None or months == line.months,
        line.areas is None or areas == line.areas,
        line.categories is None or categories in line.categories,
    ]
    return all(alike)


def _read(earlier: list[ReleasedFigure], new: list[ReleasedFigure]) -> list[ReleasedFigure]:
    """What the warehouse hands the guard: the earlier figures on the new answer's lines, each alike one once."""
    wanted = lines(new, asked(earlier))
    return list(dict.fromkeys(f for f in earlier if any(_on(f, line) for line in wanted)))


SEEDS = range(400)


def test_the_histories_make_the_guard_withhold_often_and_search_again() -> None:
    withheld = [len(reference.guard(*_history(seed))[1]) for seed in SEEDS]
    assert sum(n > 0 for n in withheld) >= len(SEEDS) // 8, withheld
    assert sum(n > 1 for n in withheld) >= 10, withheld


@pytest.mark.parametrize("chunk", range(4))
def test_the_bounded_guard_withholds_exactly_what_the_reference_did(chunk: int) -> None:
    for seed in SEEDS[chunk::4]:
        earlier, new = _history(seed)
        expected_released, expected_withheld = reference.guard(earlier, new)
        released, withheld = guard(earlier, new)
        assert released == expected_released, seed
        assert [(w.figure, w.reason) for w in withheld] == [(w.figure, w.reason) for w in expected_withheld], seed


@pytest.mark.parametrize("chunk", range(4))
def test_given_only_the_figures_on_the_answers_lines_it_withholds_the_same(chunk: int) -> None:
    for seed in SEEDS[chunk::4]:
        earlier, new = _history(seed)
        expected = reference.guard(earlier, new)
        read = _read(earlier, new)
        released, withheld = guard(read, new, asked(earlier))
        assert released == expected[0], seed
        assert [(w.figure, w.reason) for w in withheld] == [(w.figure, w.reason) for w in expected[1]], seed


def test_the_lines_leave_out_figures_of_other_spans_areas_and_categories() -> None:
    earlier, new = _history(7)
    assert len(_read(earlier, new)) < len(set(earlier))


def test_beyond_its_bound_it_withholds_every_figure_rather_than_check_part() -> None:
    figure = _history(1)[1][0]
    shown = replace(figure, value=40)
    earlier = [replace(shown, areas=frozenset({f"W{i}"})) for i in range(MAX_EARLIER + 1)]
    released, withheld = guard(earlier, [shown, replace(shown, value=None)])
    assert [f.value for f in released] == [None, None]
    assert len(withheld) == 1 and str(MAX_EARLIER) in withheld[0].reason
    assert guard(earlier[:MAX_EARLIER], [shown])[0] == [shown]
