"""Whether the API is ready for traffic: the warehouse answers within a time limit, asked at most once a second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, text
from starlette.concurrency import run_in_threadpool


@dataclass(frozen=True)
class Readiness:
    """A readiness answer: ready, or the check that failed and a reason in fixed words (no host or driver text)."""

    ready: bool
    check: str = ""
    reason: str = ""


def ask_warehouse(engine: Engine) -> None:
    """One trivial question to the warehouse through the API's pool (raises when it does not answer)."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


class WarehouseReadiness:
    """Asks the warehouse (`ask`, in a worker thread) at most once per `interval` seconds and waits at most
    `timeout`; in between, the last answer stands. While a question is still out, no second one is asked."""

    def __init__(
        self,
        ask: Callable[[], None],
        timeout: float,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ask = ask
        self._timeout = timeout
        self._interval = interval
        self._clock = clock
        self._last: Readiness | None = None
        self._asked_at = float("-inf")
        self._pending: asyncio.Future[None] | None = None
        self._lock = asyncio.Lock()

    async def check(self) -> Readiness:
        async with self._lock:
            if self._last is not None and self._clock() - self._asked_at < self._interval:
                return self._last
            self._asked_at = self._clock()
            self._last = await self._question()
            return self._last

    async def _question(self) -> Readiness:
        if self._pending is None or self._pending.done():
            self._pending = asyncio.ensure_future(run_in_threadpool(self._ask))
            self._pending.add_done_callback(_retrieve)
        try:
            await asyncio.wait_for(asyncio.shield(self._pending), self._timeout)
        except TimeoutError:
            return Readiness(False, "warehouse", f"the warehouse did not answer within {self._timeout:g} s")
        except Exception:
            return Readiness(False, "warehouse", "the warehouse could not be reached")
        return Readiness(True)


def _retrieve(future: asyncio.Future[None]) -> None:
    """Take a question's failure, so one answered after its timeout is not reported as never retrieved."""
    if not future.cancelled():
        future.exception()
