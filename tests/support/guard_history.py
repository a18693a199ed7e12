"""Random small histories for the differencing guard, and what the warehouse hands it, worked out in memory (as
`warehouse.queries.releases` reads it from the release record): the earlier figures on a line of the new answer,
each alike one once, in the order first released. For the property test, the benchmark and the check of the
warehouse's read."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date

from sharing_protocols.differencing import Line, asked, lines
from sharing_protocols.release_record import ReleasedFigure


def on_line(figure: ReleasedFigure, line: Line) -> bool:
    """Whether the release record returns `figure` for `line` (its columns compared as stored: sorted arrays, every
    category as {})."""
    months = (figure.first, figure.last)
    areas = tuple(sorted(figure.areas))
    categories = () if figure.categories is None else tuple(sorted(figure.categories))
    return (
        (figure.dataset, figure.level) == (line.dataset, line.level)
        and (line.months is None or months == line.months)
        and (line.areas is None or areas == line.areas)
        and (line.categories is None or categories in line.categories)
    )


def read(earlier: Sequence[ReleasedFigure], new: Sequence[ReleasedFigure]) -> list[ReleasedFigure]:
    """The earlier figures on the `new` answer's lines, alike ones once, in the order first released."""
    wanted = lines(new, asked(earlier))
    by_line: dict[tuple[object, ...], list[Line]] = {}
    for line in wanted:
        by_line.setdefault((line.dataset, line.level), []).append(line)
    return list(
        dict.fromkeys(f for f in earlier if any(on_line(f, line) for line in by_line.get((f.dataset, f.level), [])))
    )


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


def random_history(seed: int) -> tuple[list[ReleasedFigure], list[ReleasedFigure]]:
    """A small history an analyst could have been shown, and a new answer: tables of true counts per month, area
    and category summed over spans, sets of areas and of categories, under one rule, some suppressed at random as
    secondary suppression would, some asked again."""
    rng = random.Random(seed)
    truth = {(m, a, c): rng.choice((0, 0, 1, 2, 3, 5, 9)) for m in MONTHS for a in AREAS for c in CATEGORIES}
    rule = rng.choice(((3, 1), (8, 1), (8, 5)))
    earlier = [_figure(rng, truth, rule) for _ in range(rng.randrange(0, 60))]
    earlier += rng.sample(earlier, len(earlier) // 4)  # some asked again
    new = [_figure(rng, truth, rule) for _ in range(rng.randrange(1, 15))]
    return earlier, new
