"""faust's idle-partition error is demoted to DEBUG; its other slow-processing errors are kept."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from faust.transport.drivers.aiokafka import (
    SLOW_PROCESSING_NO_FETCH_SINCE_START,
    SLOW_PROCESSING_NO_RECENT_FETCH,
    SLOW_PROCESSING_STREAM_IDLE_SINCE_START,
    AIOKafkaConsumerThread,
)

from stream_processors.faust_logs import FAUST_CONSUMER_LOGGER, quieten_faust

# faust's own messages, as its AIOKafkaConsumerThread logs them (mode prefixes the service's label).
IDLE = f"[^--AIOKafkaConsumerThread]: {SLOW_PROCESSING_NO_FETCH_SINCE_START}"
NO_RECENT = f"[^--AIOKafkaConsumerThread]: {SLOW_PROCESSING_NO_RECENT_FETCH}"
STREAM_IDLE = f"[^--AIOKafkaConsumerThread]: {SLOW_PROCESSING_STREAM_IDLE_SINCE_START}"


@pytest.fixture
def faust_logger(caplog: pytest.LogCaptureFixture) -> Iterator[logging.Logger]:
    logger = AIOKafkaConsumerThread.logger  # where faust's consumer thread logs
    assert logger is logging.getLogger(FAUST_CONSUMER_LOGGER)
    saved = list(logger.filters)
    quieten_faust()
    quieten_faust()  # installed once, however often asked
    yield logger
    logger.filters[:] = saved


def test_the_idle_partition_error_is_not_logged_at_info(
    faust_logger: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    faust_logger.error(IDLE, "TP(topic='t', partition=0)", "3 seconds ago")
    assert caplog.records == []
    assert sum(1 for f in faust_logger.filters if type(f).__name__ == "IdlePartitionFilter") == 1


def test_the_idle_partition_error_is_a_debug_line_where_debug_is_logged(
    faust_logger: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=FAUST_CONSUMER_LOGGER)
    faust_logger.error(IDLE, "TP(topic='t', partition=0)", "3 seconds ago")
    assert [(r.levelname, r.levelno) for r in caplog.records] == [("DEBUG", logging.DEBUG)]


@pytest.mark.parametrize("message", [NO_RECENT, STREAM_IDLE])
def test_other_slow_processing_errors_stay_errors(
    faust_logger: logging.Logger, caplog: pytest.LogCaptureFixture, message: str
) -> None:
    caplog.set_level(logging.INFO)
    faust_logger.error(message, "TP(topic='t', partition=0)", "3 seconds ago")
    assert [r.levelname for r in caplog.records] == ["ERROR"]
