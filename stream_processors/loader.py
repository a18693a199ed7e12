"""The loader behind the faust agent: a batch in, committed to the warehouse (retrying) before it returns."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import psycopg

from geography.geocoder import Geocoder
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.topics import dataset_topics
from stream_processors.batch import BatchResult, RawMessage, process
from warehouse.sink import WarehouseSink

log = logging.getLogger(__name__)


class Loader:
    """Processes batches and writes them; database outages are retried, never skipped."""

    def __init__(
        self,
        topic_prefix: str,
        geocoder: Geocoder,
        sink: WarehouseSink,
        retry_max: float,
        register: ProtocolRegister,
    ) -> None:
        self.topic_datasets = dataset_topics(topic_prefix)
        self._geocoder = geocoder
        self._register = register
        self._sink = sink
        self._retry_max = retry_max

    def handle(self, messages: Sequence[RawMessage]) -> BatchResult:
        """Process `messages` and commit them; returns once the database has them."""
        result = process(messages, self._geocoder, self.topic_datasets, self._register, datetime.now(UTC))
        delay = 0.5
        while True:
            try:
                self._sink.write(
                    result.events, result.dead_letters, result.decisions, result.withdrawn, result.retractions
                )
                break
            except psycopg.OperationalError as exc:
                log.warning("warehouse unavailable (%s); retrying in %.1fs", type(exc).__name__, delay)
                time.sleep(delay)
                delay = min(delay * 2, self._retry_max)
        located = sum(1 for row in result.events if row.ward_code)
        log.info(
            "batch of %d: %d loaded (%d with a ward), %d withheld by protocol, %d retracted, %d dead-lettered",
            len(messages),
            len(result.events),
            located,
            result.withheld,
            len(result.retractions),
            len(result.dead_letters),
        )
        return result
