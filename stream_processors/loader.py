"""The loader behind the faust agent: a batch in, committed to the warehouse (retrying) before it returns."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import psycopg

from geography.geocoder import Geocoder
from sharing_protocols.decision import ProtocolRegister
from stream_processors.batch import BatchResult, RawMessage, memo_for, process
from stream_processors.decision_memo import WarehouseDecisions
from stream_processors.reason_kinds import count_kinds, summary
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
        self.topic_prefix = topic_prefix
        self._geocoder = geocoder
        self._register = register
        self._sink = sink
        self._retry_max = retry_max
        self._decisions: WarehouseDecisions | None = None  # kept across batches of one register and day

    def handle(self, messages: Sequence[RawMessage]) -> BatchResult:
        """Process `messages` and commit them; returns once the database has them.

        The result's dead letters include those the sink made (a claim on another partner's event id).
        """
        at = datetime.now(UTC)
        self._decisions = memo_for(self._register, at, self._decisions)
        result = process(messages, self._geocoder, self.topic_prefix, self._register, at, self._decisions)
        delay = 0.5
        while True:
            try:
                refused = self._sink.write(
                    result.events,
                    result.dead_letters,
                    result.decisions,
                    result.withdrawn,
                    result.retractions,
                    result.claims,
                )
                break
            except psycopg.OperationalError as exc:
                log.warning("warehouse unavailable (%s); retrying in %.1fs", type(exc).__name__, delay)
                time.sleep(delay)
                delay = min(delay * 2, self._retry_max)
        if refused:  # the sink's refusals: leave them out of what the batch says it loaded
            gone = {(letter.source_topic, letter.source_partition, letter.source_offset) for letter in refused}
            keys = {(letter.event_key, letter.dataset, letter.partner) for letter in refused}
            result = replace(
                result,
                events=[e for e in result.events if (e.source_topic, e.source_partition, e.source_offset) not in gone],
                decisions=[d for d in result.decisions if (str(d.event_id), d.dataset, d.partner) not in keys],
                retractions=[
                    r for r in result.retractions if (r.source_topic, r.source_partition, r.source_offset) not in gone
                ],
                dead_letters=[*result.dead_letters, *refused],
            )
        located = sum(1 for row in result.events if row.ward_code)
        log.info(
            "batch of %d: %d loaded (%d with a ward), %d withheld by protocol (%s), %d retracted, "
            "%d dead-lettered (%s)",
            len(messages),
            len(result.events),
            located,
            result.withheld,
            summary(Counter(d.code or "unknown" for d in result.decisions if d.outcome == "withheld")),
            len(result.retractions),
            len(result.dead_letters),
            summary(count_kinds(result.dead_letters)),
        )
        return result
