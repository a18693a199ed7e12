"""The worker's Prometheus metrics: events by dataset and outcome (counted once a batch is committed and its dead
letters acknowledged), how long batches take, and the loader's lag by topic. Labels are bounded: datasets of the
catalogue (`other` for any other, `none` where a dead letter has none), fixed outcomes, the hub's own topics."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from sharing_protocols.catalogue import CATALOGUE
from stream_processors.batch import BatchResult

OUTCOMES = ("loaded", "withheld", "retracted", "dead_lettered")


def dataset_label(dataset: str | None) -> str:
    """A dataset of the catalogue as it is; `none` for no dataset, `other` for a name the catalogue does not have."""
    if dataset is None:
        return "none"
    return dataset if dataset in CATALOGUE else "other"


class WorkerMetrics:
    """The worker's metrics in a registry of their own, and when the last batch was committed."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.registry = CollectorRegistry()
        self._clock = clock
        self.events = Counter(
            "hub_worker_events",
            "Events the worker has committed, by dataset and outcome",
            ["dataset", "outcome"],
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "hub_worker_batch_seconds",
            "Time from handing a batch to the loader until it is committed and its dead letters acknowledged",
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
            registry=self.registry,
        )
        self.lag = Gauge(
            "hub_worker_lag_messages",
            "Messages on a partner topic not yet committed by the loader's group (as last read)",
            ["topic"],
            registry=self.registry,
        )
        self._lock = threading.Lock()
        self.started = clock()
        self.last_batch: float | None = None  # clock time of the last committed batch
        self._lag_topics: set[str] = set()

    def batch_committed(self, result: BatchResult, seconds: float) -> None:
        """Count a committed batch's events by dataset and outcome, and its duration."""
        counts: dict[tuple[str, str], int] = {}

        def add(dataset: str | None, outcome: str) -> None:
            key = (dataset_label(dataset), outcome)
            counts[key] = counts.get(key, 0) + 1

        for row in result.events:
            add(row.dataset, "loaded")
        for decision in result.decisions:
            if decision.outcome == "withheld":
                add(decision.dataset, "withheld")
        for retraction in result.retractions:
            add(retraction.dataset, "retracted")
        for letter in result.dead_letters:
            add(letter.dataset, "dead_lettered")
        for (dataset, outcome), n in counts.items():
            self.events.labels(dataset, outcome).inc(n)
        self.batch_seconds.observe(seconds)
        with self._lock:
            self.last_batch = self._clock()

    def lag_read(self, by_topic: Mapping[str, int]) -> None:
        """Set the lag of each topic (topics no longer there are dropped)."""
        with self._lock:
            for gone in self._lag_topics - set(by_topic):
                self.lag.remove(gone)
            for topic, lag in by_topic.items():
                self.lag.labels(topic).set(lag)
            self._lag_topics = set(by_topic)
