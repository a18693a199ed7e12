"""faust's log, made to say what matters: its "has not sent fetch request ... since start" ERROR, logged every few
seconds for each partition that simply has nothing to fetch (the hub's batch fetcher reads the consumer itself),
is demoted to DEBUG; faust's other slow-processing errors are kept as they are."""

from __future__ import annotations

import logging

FAUST_CONSUMER_LOGGER = "faust.transport.drivers.aiokafka"  # where faust's consumer thread logs (mode prefixes it)
IDLE_PARTITION = "has not sent fetch request for"
SINCE_START = "since start"


class IdlePartitionFilter(logging.Filter):
    """Demotes faust's idle-partition error to DEBUG, and lets it through only where DEBUG is logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg if isinstance(record.msg, str) else ""
        if IDLE_PARTITION not in message or SINCE_START not in message:
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def quieten_faust() -> None:
    """Install the filter on faust's consumer logger (once; the logger keeps it when faust sets up logging)."""
    logger = logging.getLogger(FAUST_CONSUMER_LOGGER)
    if not any(isinstance(f, IdlePartitionFilter) for f in logger.filters):
        logger.addFilter(IdlePartitionFilter())
