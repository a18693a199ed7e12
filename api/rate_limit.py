"""Per-caller rate limits: a token bucket per caller (an API key id, or a keyless caller's address), held in the
memory of one API process.

A caller's bucket holds at most `per_minute` requests and refills at `per_minute` a minute; a request takes one.
Memory is bounded: a bucket that has refilled completely is the same as a new one, so idle callers are forgotten
(from the one seen longest ago, on every request); past `max_callers` tracked callers the one seen longest ago is
forgotten even if not idle (it starts again with a full bucket). Pure logic: the clock is injected.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    per_minute: int
    tokens: float
    at: float  # when `tokens` was counted (the clock's seconds)

    def refilled(self, now: float) -> float:
        """The requests available at `now`."""
        return min(float(self.per_minute), self.tokens + max(0.0, now - self.at) * self.per_minute / 60.0)


class RateLimiter:
    """Token buckets by caller; `take` answers None (go on) or the seconds to wait before the caller may ask again."""

    def __init__(self, max_callers: int, clock: Callable[[], float]) -> None:
        if max_callers < 1:
            raise ValueError("max_callers must be at least 1")
        self.max_callers = max_callers
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()  # least recently seen first

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, caller: str, per_minute: int) -> int | None:
        """Spend one of `caller`'s requests (at most `per_minute` a minute): None when allowed, else the whole
        seconds until one is available again (at least 1)."""
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        now = self._clock()
        bucket = self._buckets.pop(caller, None) or _Bucket(per_minute, float(per_minute), now)
        self._forget_idle(now)
        bucket.per_minute = per_minute
        bucket.tokens, bucket.at = bucket.refilled(now), now
        self._buckets[caller] = bucket  # now the most recently seen
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - bucket.tokens) * 60.0 / per_minute))

    def _forget_idle(self, now: float) -> None:
        """Forget the callers seen longest ago while their buckets are full again, then any while there is no room
        for one more."""
        while self._buckets:
            oldest = next(iter(self._buckets.values()))
            if oldest.refilled(now) < oldest.per_minute:
                break
            self._buckets.popitem(last=False)
        while len(self._buckets) >= self.max_callers:
            self._buckets.popitem(last=False)
