"""The batch fetcher's batches in flight: waiting for room never spins on a batch that has already finished."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

import pytest

from stream_processors.fetcher import InFlight


def _run_within(seconds: float, coroutine: Coroutine[Any, Any, None]) -> None:
    """Run `coroutine` on a loop of its own in a daemon thread; fail if it has not returned within `seconds` (a loop
    spinning without yielding would otherwise hang the test run)."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as exc:  # handed to the test's thread
            failures.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "waiting for room in flight did not return: it spins"
    if failures:
        raise failures[0]


def test_a_finished_batch_still_listed_makes_room_at_once() -> None:
    """The race the worker stalled on: the oldest batch has finished but was not yet forgotten."""

    async def scenario() -> None:
        in_flight = InFlight()
        finished = asyncio.ensure_future(asyncio.sleep(0))
        await finished
        in_flight.add(finished)
        in_flight.add(asyncio.ensure_future(asyncio.sleep(0.05)))
        await in_flight.wait_below(2)
        assert len(in_flight) == 1
        await in_flight.drain()
        assert len(in_flight) == 0

    _run_within(5, scenario())


def test_room_is_made_in_order_and_a_failed_batch_raises() -> None:
    async def scenario() -> None:
        in_flight = InFlight()
        order: list[str] = []

        async def batch(name: str, seconds: float, fail: bool = False) -> None:
            await asyncio.sleep(seconds)
            order.append(name)
            if fail:
                raise RuntimeError(name)

        in_flight.add(asyncio.ensure_future(batch("first", 0.05)))
        in_flight.add(asyncio.ensure_future(batch("second", 0.1, fail=True)))
        await in_flight.wait_below(2)
        assert order == ["first"] and len(in_flight) == 1
        assert in_flight.newest is not None and not in_flight.newest.done()
        with pytest.raises(RuntimeError, match="second"):
            await in_flight.drain()
        assert len(in_flight) == 0

    _run_within(5, scenario())
