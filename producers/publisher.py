"""An idempotent Kafka publisher (kafka-python) for event envelopes."""

from __future__ import annotations

import threading
from functools import partial
from types import TracebackType
from typing import Any

from kafka import KafkaProducer
from kafka.errors import MessageSizeTooLargeError
from kafka.record.default_records import DefaultRecordBatchBuilder

from broker_access.credentials import BrokerAccess
from producers.settings import MAX_MESSAGE_BYTES
from sharing_protocols.envelope import ENVELOPE_VERSION, EventEnvelope, Retraction


def record(item: EventEnvelope | Retraction) -> tuple[bytes, bytes | None, list[tuple[str, bytes]]]:
    """The Kafka record of an event or a retraction: key (event id), value (JSON, or None) and headers."""
    headers = [
        ("dataset", item.dataset.encode()),
        ("partner", item.partner.encode()),
        ("schema_version", str(item.schema_version).encode()),
        ("envelope_version", str(ENVELOPE_VERSION).encode()),
    ]
    value = item.to_bytes() if isinstance(item, EventEnvelope) else None
    headers.append(("content_type", b"application/json") if value is not None else ("retraction", b"1"))
    return str(item.event_id).encode(), value, headers


def record_size(item: EventEnvelope | Retraction) -> int:
    """The bytes of the record batch that carries `item` alone (kafka-python's upper bound, which it checks
    against max_request_size as the broker checks the batch against message.max.bytes)."""
    key, value, headers = record(item)
    return int(DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers))


# Idempotent, fully acknowledged, batched sends that retry until delivered (the order within a partition is kept).
PRODUCER_SETTINGS: dict[str, Any] = {
    "enable_idempotence": True,
    "acks": "all",
    "linger_ms": 20,
    "batch_size": 512 * 1024,
    "max_in_flight_requests_per_connection": 5,
    "retries": 2**31 - 1,
}


class Publisher:
    """Sends envelopes keyed by event id, with dataset, partner and schema version in the headers, signed in as
    `access`'s principal (a partner may write only its own topics).

    Counts what the broker acknowledged (`delivered`); lists the source rows of records too large for the client's
    or the broker's maximum message size (`too_large`) and the error names of any other undelivered record
    (`failed`).
    """

    def __init__(
        self, access: BrokerAccess, client_id: str = "hub-publisher", max_message_bytes: int = MAX_MESSAGE_BYTES
    ) -> None:
        self._producer = KafkaProducer(
            **access.kafka_python(),
            client_id=client_id,
            max_request_size=max_message_bytes,
            **PRODUCER_SETTINGS,
        )
        self._lock = threading.Lock()
        self.delivered = 0
        self.failed: list[str] = []
        self.too_large: list[int | None] = []

    def _ok(self, _metadata: object) -> None:
        with self._lock:
            self.delivered += 1

    def _error(self, row: int | None, exc: BaseException) -> None:
        with self._lock:
            if isinstance(exc, MessageSizeTooLargeError):
                self.too_large.append(row)
            else:
                self.failed.append(type(exc).__name__)

    def send(self, topic: str, item: EventEnvelope | Retraction, row: int | None = None) -> None:
        """An event (JSON value) or a retraction (null value: a tombstone), keyed by the event id; `row` is the
        source row it came from, reported in `too_large` if the record is refused for its size."""
        key, value, headers = record(item)
        try:
            future = self._producer.send(topic, key=key, value=value, headers=headers)
        except MessageSizeTooLargeError as exc:
            self._error(row, exc)
            return
        future.add_callback(self._ok)
        future.add_errback(partial(self._error, row))

    def flush(self) -> None:
        self._producer.flush()

    def close(self) -> None:
        self._producer.flush()
        self._producer.close()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
