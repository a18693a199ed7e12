"""Secondary suppression with its candidates made as needed releases exactly the table it did before
(tests/support/protect_reference.py): on random tables of one to three dimensions, many counts under the threshold,
and on the police.uk LSOA counts of a month (the public answer that took half a minute)."""

from __future__ import annotations

import csv
import random
from collections import Counter
from pathlib import Path

import pytest

from sharing_protocols.disclosure import DEFAULT_RULE, Key, Rule, protect
from tests.support import protect_reference as reference
from tests.support.open_data import SUSSEX_STREET

SEEDS = range(300)
RULES = (DEFAULT_RULE, Rule(min_cell_count=3, round_to=1), Rule(min_cell_count=10, round_to=10))


def _table(seed: int) -> tuple[dict[Key, int], int]:
    rnd = random.Random(seed)
    dims = rnd.randint(1, 3)
    sizes = [rnd.randint(1, 9) for _ in range(dims)]
    values = [[f"v{d}-{i}" for i in range(n)] + ([None] if rnd.random() < 0.2 else []) for d, n in enumerate(sizes)]
    cells: dict[Key, int] = {}
    for _ in range(rnd.randint(0, 60)):
        key = tuple(rnd.choice(v) for v in values)
        cells[key] = rnd.choice((0, 1, 1, 2, 3, 4, 5, 6, 7, 9, 12, 20, 40))
    return cells, dims


@pytest.mark.parametrize("chunk", range(3))
def test_random_tables_are_released_exactly_as_before(chunk: int) -> None:
    suppressed = 0
    for seed in SEEDS[chunk::3]:
        cells, dims = _table(seed)
        rule = RULES[seed % len(RULES)]
        expected = reference.protect(cells, rule, dims)
        got = protect(cells, rule, dims)
        assert (got.cells, got.margins, got.total) == (expected.cells, expected.margins, expected.total), seed
        assert (got.primary, got.secondary) == (expected.primary, expected.secondary), seed
        suppressed += got.secondary
    assert suppressed > 100  # the tables make secondary suppression work, not only primary


def test_a_month_of_sussex_lsoa_counts_is_released_exactly_as_before(shared_data: Path) -> None:
    with (shared_data / SUSSEX_STREET).open(encoding="utf-8", newline="") as handle:
        counts = Counter(row["LSOA code"] for row in csv.DictReader(handle) if row["LSOA code"])
    cells: dict[Key, int] = {(lsoa, "2019-01"): n for lsoa, n in counts.items()}
    expected = reference.protect(cells, DEFAULT_RULE, 2)
    got = protect(cells, DEFAULT_RULE, 2)
    assert (got.cells, got.margins, got.total) == (expected.cells, expected.margins, expected.total)
    assert got.secondary == expected.secondary > 0
