"""The per-caller token buckets, on a clock the test moves: the limit, the refill, the wait it states, and the
bounded memory."""

from __future__ import annotations

import pytest

from api.rate_limit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_caller_gets_its_limit_then_a_wait_until_the_next_request() -> None:
    clock = Clock()
    limiter = RateLimiter(max_callers=10, clock=clock)
    assert [limiter.take("k", 6) for _ in range(6)] == [None] * 6
    assert limiter.take("k", 6) == 10  # 6 a minute: one every 10 s
    clock.now += 9.5
    assert limiter.take("k", 6) == 1  # half a second to go, stated as a whole second
    clock.now += 0.5
    assert limiter.take("k", 6) is None
    assert limiter.take("k", 6) == 10


def test_refused_requests_do_not_spend_and_the_bucket_refills_only_to_its_limit() -> None:
    clock = Clock()
    limiter = RateLimiter(max_callers=10, clock=clock)
    for _ in range(3):
        limiter.take("k", 3)
    assert [limiter.take("k", 3) for _ in range(5)] == [20] * 5
    clock.now += 3600
    assert [limiter.take("k", 3) for _ in range(4)] == [None, None, None, 20]


def test_callers_have_buckets_of_their_own() -> None:
    limiter = RateLimiter(max_callers=10, clock=Clock())
    assert limiter.take("a", 1) is None
    assert limiter.take("a", 1) == 60
    assert limiter.take("b", 1) is None
    assert limiter.take("c", 2) is None and limiter.take("c", 2) is None and limiter.take("c", 2) == 30


def test_idle_callers_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(max_callers=100, clock=clock)
    for caller in ("a", "b", "c"):
        limiter.take(caller, 60)
    assert len(limiter) == 3
    clock.now += 1.0  # a request a second at 60 a minute: full again
    limiter.take("d", 60)
    assert len(limiter) == 1


def test_past_the_cap_the_caller_seen_longest_ago_is_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(max_callers=3, clock=clock)
    for caller in ("a", "b", "c"):
        assert limiter.take(caller, 1) is None
    assert limiter.take("a", 1) == 60  # "a" is now the most recently seen
    assert limiter.take("d", 1) is None
    assert len(limiter) == 3
    assert limiter.take("b", 1) is None  # "b" was forgotten: a full bucket again
    assert limiter.take("a", 1) == 60  # "a" was kept


@pytest.mark.parametrize("bad", [0, -1])
def test_limits_must_be_positive(bad: int) -> None:
    with pytest.raises(ValueError):
        RateLimiter(max_callers=bad, clock=Clock())
    with pytest.raises(ValueError):
        RateLimiter(max_callers=1, clock=Clock()).take("a", bad)
