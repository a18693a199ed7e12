"""A bounded, thread-safe, in-process memo of pure work an answer repeats (`Memo`), and the app's memos
(`AnswerMemos`, made in the app's lifespan, read through `api.dependencies.MemosDep`).

An analyst asking the same table again gets the same true cells, hence the same protected table
(`api.protection.protect_cells`), and the same figures, base areas, canonical rows and digest
(`api.released_figures.Recorder`): work of a few ms per ~700 cells. The memo keeps the results of the last answers,
keyed by everything the work depends on, compared in full (a key equal to the one stored, not a hash of it: no
collision can hand one table's figures to another). What is kept is never changed after (frozen figures and tables,
tuples): an answer uses it as made. Nothing of an organisation is kept: the release record's probe and the
differencing guard still run per caller on what the memo gives.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from api.protection import TableKey
from api.released_figures import FiguresKey, Worked
from sharing_protocols.disclosure import ProtectedTable

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MEMO_ENTRIES = 64  # answers kept (the latest used)
# Figures (or cells) kept over all answers: ~70 answers of ~700 cells. What is kept is ~7 objects a figure that the
# garbage collector's full passes walk (~370,000 objects at most: a full pass some tens of ms, rare as the heap grows).
MEMO_WEIGHT = 50_000


class Memo(Generic[K, V]):
    """At most `entries` results, weighing (`weigh`: e.g. their figures) at most `weight` in all; the least recently
    used go first. A result heavier than `weight` alone is not kept."""

    def __init__(self, weigh: Callable[[V], int], entries: int = MEMO_ENTRIES, weight: int = MEMO_WEIGHT) -> None:
        if entries < 1 or weight < 1:
            raise ValueError("a memo keeps at least one entry of some weight")
        self._weigh = weigh
        self._entries = entries
        self._weight = weight
        self._kept: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def held(self) -> int:
        """The weight of the results kept."""
        return self._held

    def get(self, key: K) -> V | None:
        """The result kept for `key` (now the most recently used), or None."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is None:
                return None
            self._kept.move_to_end(key)
            return kept[0]

    def put(self, key: K, value: V) -> None:
        """Keep `value` for `key`, making room by dropping the least recently used."""
        weight = self._weigh(value)
        if weight > self._weight:
            return
        with self._lock:
            old = self._kept.pop(key, None)
            if old is not None:
                self._held -= old[1]
            self._kept[key] = value, weight
            self._held += weight
            while len(self._kept) > self._entries or self._held > self._weight:
                _, (_, dropped) = self._kept.popitem(last=False)
                self._held -= dropped

    def made(self, key: K, make: Callable[[], V]) -> V:
        """The result for `key`: the one kept, else `make()`'s (kept). Made outside the lock: two threads asking
        at once may both make it (the same pure result)."""
        found = self.get(key)
        if found is None:
            found = make()
            self.put(key, found)
        return found


@dataclass
class AnswerMemos:
    """The app's memos: protected tables by their true cells and rule (`api.protection.protect_cells`), and an
    answer's figure work by its protected table and query (`api.released_figures.Recorder`); each keeps at most
    `entries` answers and `weight` cells (figures)."""

    entries: int = MEMO_ENTRIES
    weight: int = MEMO_WEIGHT
    tables: Memo[TableKey, ProtectedTable] = field(init=False)
    figures: Memo[FiguresKey, Worked] = field(init=False)

    def __post_init__(self) -> None:
        self.tables = Memo(lambda table: len(table.cells), self.entries, self.weight)
        self.figures = Memo(lambda worked: len(worked.placed), self.entries, self.weight)
