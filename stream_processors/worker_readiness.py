"""Whether the worker is ready, and whether it has stalled: pure decisions on what its signals last saw."""

from __future__ import annotations

from dataclasses import dataclass

LAG_FRESH_SECONDS = 30.0  # a lag read older than this says nothing about now
STALL_SECONDS = 120.0  # lag, and no batch committed for this long: the loader has stalled


@dataclass(frozen=True)
class WorkerReadiness:
    """Ready, or the checks that failed (fixed words, no host, driver or topic text)."""

    failures: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return not self.failures


def worker_readiness(database_answers: bool, lag: int | None, lag_age: float | None, max_lag: int) -> WorkerReadiness:
    """Ready when the database answers as the worker's role, the loader's lag was read within the last
    LAG_FRESH_SECONDS (`lag_age`, None: never read) and is at most `max_lag` messages."""
    failures: list[str] = []
    if not database_answers:
        failures.append("database: the warehouse does not answer as the worker's role")
    if lag is None or lag_age is None or lag_age > LAG_FRESH_SECONDS:
        failures.append(f"lag: not read from the broker in the last {LAG_FRESH_SECONDS:g} s")
    elif lag > max_lag:
        failures.append(f"lag: {lag} messages behind, over the {max_lag} allowed")
    return WorkerReadiness(tuple(failures))


def stalled(lag: int | None, since_last_batch: float) -> bool:
    """The loader has stalled: messages are waiting and no batch was committed for STALL_SECONDS (counting from the
    start when none was)."""
    return lag is not None and lag > 0 and since_last_batch >= STALL_SECONDS
