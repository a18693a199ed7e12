"""Helpers for generators of aggregate returns: the request's months and quarters, counts, sampled grids."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import TypeVar

from producers.generators.base import GenerateRequest

T = TypeVar("T")


def months(request: GenerateRequest) -> list[str]:
    """The request's months as YYYY-MM."""
    first = request.start.year * 12 + request.start.month - 1
    return [f"{index // 12}-{index % 12 + 1:02d}" for index in range(first, first + request.months)]


def quarters(request: GenerateRequest) -> list[str]:
    """The calendar quarters (YYYY-Qn) that the request's months fall in, in order."""
    return list(dict.fromkeys(f"{m[:4]}-Q{(int(m[5:]) - 1) // 3 + 1}" for m in months(request)))


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson-distributed count (normal approximation above a mean of 50)."""
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def sample_grid(rng: random.Random, cells: Sequence[T], rows: int) -> list[T]:
    """At most `rows` of `cells`, in their original order (a return covers some cells, never one twice)."""
    if rows >= len(cells):
        return list(cells)
    chosen = set(rng.sample(range(len(cells)), rows))
    return [cell for index, cell in enumerate(cells) if index in chosen]
