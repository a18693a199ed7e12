"""The differencing guard's time per request, against the guard before its work was bounded, on synthetic histories.

Pure (no services). A history is an analyst's tables: ward x category counts over spans of months (cumulative
spans, tails, rolling windows of one to three months), each with its ward margins (every category), category
margins (every ward of the district) and total, for one of four districts of ten wards, twelve categories, two
datasets and 24 months; true counts drawn small (many under the threshold), released under 8 / 1 (suppressed
under 8, exact above, a few more suppressed as secondary suppression would). N earlier figures: 1k, 10k, 100k.
Each new request is another such table of the first district and dataset.

Three ways per request, each checked to withhold exactly the same figures:

- baseline: the guard before (tests/support/differencing_reference.py) given the whole history, as the warehouse
  used to read it; its time split into building what the caller knows (`_known`, the history) and searching
  (`_disclosure`), with how many times it started again;
- bounded, whole history: `sharing_protocols.differencing.guard` given the whole history (it keeps only what is
  on the answer's lines itself);
- bounded, as read: the same given what the warehouse now reads (the figures on the answer's lines, alike ones
  once; worked out in memory here by tests/support/guard_history.py, not timed: the database does it by index).

Then each request asked again, its answer as released now in the history: the bounded guard's search as read
again ("again: search") against the shortcut that releases an answer every figure of which was shown alike
(`nothing_new`, over the set of figures shown; the database looks them up by index, not timed), both checked to
withhold nothing.

    .venv/bin/python -m benchmarks.differencing_guard [--sizes 1000 10000 100000] [--requests 5]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from sharing_protocols.differencing import alike, asked, guard, nothing_new
from sharing_protocols.release_record import ReleasedFigure
from tests.support import differencing_reference as reference
from tests.support.guard_history import read

DISTRICTS, WARDS, CATEGORIES, MONTHS = 4, 10, 12, 24
DATASETS = ("police-records", "marac-cases")
RULE = (8, 1)  # min_cell_count, round_to


def _month(index: int) -> date:
    return date(2024 + index // 12, index % 12 + 1, 1)


@dataclass
class World:
    """True counts per dataset, district, ward, category and month."""

    rng: random.Random
    truth: dict[tuple[str, int, int, int, int], int]

    @classmethod
    def make(cls, seed: int) -> World:
        rng = random.Random(seed)
        truth = {
            (d, district, w, c, m): rng.choice((0, 0, 1, 1, 2, 3, 4, 6, 9, 14))
            for d in DATASETS
            for district in range(DISTRICTS)
            for w in range(WARDS)
            for c in range(CATEGORIES)
            for m in range(MONTHS)
        }
        return cls(rng, truth)

    def table(self, dataset: str, district: int, first: int, last: int) -> list[ReleasedFigure]:
        """A ward x category table over months first..last with its margins and total, as released."""
        wards, categories = range(WARDS), range(CATEGORIES)

        def figure(ws: range | list[int], cs: range | list[int], every: bool) -> ReleasedFigure:
            count = sum(
                self.truth[(dataset, district, w, c, m)] for w in ws for c in cs for m in range(first, last + 1)
            )
            shown = (count == 0 or count >= RULE[0]) and self.rng.random() > 0.05
            return ReleasedFigure(
                dataset=dataset,
                level="ward",
                areas=frozenset(f"D{district}W{w:02d}" for w in ws),
                categories=None if every else frozenset(f"c{c:02d}" for c in cs),
                first=_month(first),
                last=_month(last),
                period=f"{_month(first):%Y-%m} to {_month(last):%Y-%m}",
                value=count if shown else None,
                min_cell_count=RULE[0],
                round_to=RULE[1],
            )

        out = [figure([w], [c], False) for w in wards for c in categories]
        out += [figure([w], categories, True) for w in wards]
        out += [figure(wards, [c], False) for c in categories]
        out.append(figure(wards, categories, True))
        return out

    def span(self) -> tuple[int, int]:
        """A span an analyst asks for: cumulative, a tail, or a rolling window of one to three months."""
        kind = self.rng.randrange(4)
        start = 12 * self.rng.randrange(2)
        if kind == 0:
            return start, start + self.rng.randrange(12)
        if kind == 1:
            return start + self.rng.randrange(12), start + 11
        first = self.rng.randrange(MONTHS - 2)
        return first, first + self.rng.randrange(3)

    def history(self, size: int) -> list[ReleasedFigure]:
        figures: list[ReleasedFigure] = []
        while len(figures) < size:
            figures += self.table(self.rng.choice(DATASETS), self.rng.randrange(DISTRICTS), *self.span())
        return figures[:size]

    def requests(self, count: int) -> Iterator[list[ReleasedFigure]]:
        for _ in range(count):
            yield self.table(DATASETS[0], 0, *self.span())


class Timer:
    """Time spent in functions of a module, patched in place."""

    def __init__(self, module: Any, names: tuple[str, ...]) -> None:
        self.spent = dict.fromkeys(names, 0.0)
        self.calls = dict.fromkeys(names, 0)
        for name in names:
            setattr(module, name, self._wrap(name, getattr(module, name)))

    def _wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args)
            finally:
                self.spent[name] += time.perf_counter() - start
                self.calls[name] += 1

        return timed


def _clock(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    timer = Timer(reference, ("_known", "_disclosure"))
    print(
        f"{'N earlier':>10} {'read':>7} {'withheld':>8} {'baseline':>10} {'(history':>9} {'search)':>8} "
        f"{'restarts':>8} {'bounded':>9} {'ratio':>7} {'as read':>9} {'ratio':>7} {'again: search':>13} "
        f"{'shortcut':>9}"
    )
    for size in args.sizes:
        world = World.make(args.seed)
        earlier = world.history(size)
        categories = asked(earlier)
        old = new = narrow = search = shortcut = 0.0
        shown = {alike(f) for f in earlier}
        spent = dict.fromkeys(timer.spent, 0.0)
        restarts = withheld = considered = 0
        for answer in world.requests(args.requests):
            before = dict(timer.spent), timer.calls["_known"]
            took, expected = _clock(partial(reference.guard, earlier, answer))
            old += took
            for name in spent:
                spent[name] += timer.spent[name] - before[0][name]
            restarts += timer.calls["_known"] - before[1] - 1
            took, got = _clock(partial(guard, earlier, answer))
            new += took
            history = read(earlier, answer)
            considered += len(history)
            took, narrowed = _clock(partial(guard, history, answer, categories))
            narrow += took
            for result in (got, narrowed):
                assert result[0] == expected[0]
                assert result[1] == expected[1]
            withheld += len(expected[1])
            history = [*earlier, *got[0]]
            seen = read(history, got[0])
            took, again = _clock(partial(guard, seen, got[0], asked(history)))
            search += took
            assert again[1] == []
            known = shown | {alike(f) for f in got[0]}
            took, same = _clock(partial(nothing_new, got[0], known))
            shortcut += took
            assert same
        n = args.requests
        print(
            f"{size:>10} {considered // n:>7} {withheld / n:>8.1f} {1000 * old / n:>8.0f}ms "
            f"{1000 * spent['_known'] / n:>7.0f}ms {1000 * spent['_disclosure'] / n:>6.0f}ms {restarts / n:>8.1f} "
            f"{1000 * new / n:>7.1f}ms {old / new:>6.1f}x {1000 * narrow / n:>7.1f}ms {old / narrow:>6.1f}x "
            f"{1000 * search / n:>11.1f}ms {1000 * shortcut / n:>7.3f}ms"
        )


if __name__ == "__main__":
    main()
