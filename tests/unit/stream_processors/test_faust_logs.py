"""faust's idle-partition error is demoted to DEBUG; its other slow-processing errors are kept."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from stream_processors.faust_logs import FAUST_CONSUMER_LOGGER, quieten_faust

# As faust's AIOKafkaConsumerThread logs them (mode prefixes the service's label).
IDLE = "[^--AIOKafkaConsumerThread]: Aiokafka has not sent fetch request for %r since start (started %s)"
NO_RECENT = "[^--AIOKafkaConsumerThread]: Aiokafka has not sent fetch request for %r since %s"
STREAM_IDLE = "[^--AIOKafkaConsumerThread]: Stream has not started processing %r (started %s)."


@pytest.fixture
def faust_logger(caplog: pytest.LogCaptureFixture) -> Iterator[logging.Logger]:
    logger = logging.getLogger(FAUST_CONSUMER_LOGGER)
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
