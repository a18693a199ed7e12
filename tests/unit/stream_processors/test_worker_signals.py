"""The worker's signals: the lag read sets the gauges; a broker outage is warned about once, and so is a stall;
/readyz asks the database at most once a second."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pytest

from stream_processors.worker_metrics import WorkerMetrics
from stream_processors.worker_readiness import STALL_SECONDS
from stream_processors.worker_signals import WorkerSignals


class Scene:
    """A clock, a broker whose lag (or failure) the test sets, and a database that answers or not."""

    def __init__(self) -> None:
        self.now = 0.0
        self.lag: Mapping[str, int] | Exception = {"hub.events.d.p": 0}
        self.database_up = True
        self.database_asked = 0
        self.metrics = WorkerMetrics(clock=lambda: self.now)
        self.signals = WorkerSignals(self.metrics, self.read_lag, self.ask_database, max_lag=10, clock=lambda: self.now)

    def read_lag(self) -> Mapping[str, int]:
        if isinstance(self.lag, Exception):
            raise self.lag
        return self.lag

    def ask_database(self) -> None:
        self.database_asked += 1
        if not self.database_up:
            raise OSError("refused")


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_broker_outage_is_warned_about_once(caplog: pytest.LogCaptureFixture) -> None:
    scene = Scene()
    caplog.set_level(logging.INFO)
    scene.lag = ConnectionError("no broker")
    for _ in range(5):
        scene.signals.read_lag_once()
    assert _warnings(caplog) == ["broker unreachable: the loader's lag cannot be read (ConnectionError)"]
    scene.lag = {"hub.events.d.p": 0}
    scene.signals.read_lag_once()
    assert "broker reachable again" in caplog.text
    scene.lag = ConnectionError("no broker")
    scene.signals.read_lag_once()
    assert len(_warnings(caplog)) == 2  # a second outage: a second warning


def test_a_stall_is_warned_about_once_and_its_end_said(caplog: pytest.LogCaptureFixture) -> None:
    scene = Scene()
    caplog.set_level(logging.INFO)
    scene.lag = {"hub.events.d.p": 5}
    scene.now = STALL_SECONDS - 1
    scene.signals.read_lag_once()
    assert _warnings(caplog) == []
    for step in range(3):
        scene.now = STALL_SECONDS + step
        scene.signals.read_lag_once()
    assert _warnings(caplog) == ["loader stalled: 5 messages waiting and no batch committed for 120 s"]
    scene.metrics.last_batch = scene.now  # a batch committed
    scene.signals.read_lag_once()
    assert "loader moving again" in caplog.text and len(_warnings(caplog)) == 1


def test_readiness_follows_the_database_and_the_lag_and_asks_at_most_once_a_second() -> None:
    scene = Scene()
    assert scene.signals.readiness().failures[0].startswith("lag: not read")
    scene.signals.read_lag_once()
    assert scene.signals.readiness().ready
    scene.database_up = False
    assert scene.signals.readiness().ready  # the answer of the last second stands
    scene.now = 1.0
    assert not scene.signals.readiness().ready
    assert scene.database_asked == 2
    scene.database_up = True
    scene.now = 2.0
    scene.lag = {"hub.events.d.p": 11}
    scene.signals.read_lag_once()
    assert scene.signals.readiness().failures == ("lag: 11 messages behind, over the 10 allowed",)


def test_the_lag_gauges_follow_the_topics() -> None:
    scene = Scene()
    scene.lag = {"a": 3, "b": 4}
    scene.signals.read_lag_once()
    assert scene.metrics.registry.get_sample_value("hub_worker_lag_messages", {"topic": "b"}) == 4
    scene.lag = {"a": 1}
    scene.signals.read_lag_once()
    assert scene.metrics.registry.get_sample_value("hub_worker_lag_messages", {"topic": "a"}) == 1
    assert scene.metrics.registry.get_sample_value("hub_worker_lag_messages", {"topic": "b"}) is None
