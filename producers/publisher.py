"""An idempotent Kafka publisher (kafka-python) for event envelopes."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache, partial
from types import TracebackType
from typing import Any, Protocol

from kafka import KafkaProducer
from kafka.errors import KafkaError, MessageSizeTooLargeError
from kafka.record.default_records import DefaultRecordBatchBuilder

from broker_access.credentials import BrokerAccess
from producers.settings import MAX_MESSAGE_BYTES
from sharing_protocols import id_scheme
from sharing_protocols.envelope import ENVELOPE_VERSION, EventEnvelope, Retraction


def record(
    item: EventEnvelope | Retraction, scheme: str | None = None
) -> tuple[bytes, bytes | None, list[tuple[str, bytes]]]:
    """The Kafka record of an event or a retraction: key (event id), value (JSON, or None) and headers; `scheme`
    (`sharing_protocols.id_scheme`) is how its event id was made (None: no `hub-id-scheme` header)."""
    value = item.to_bytes() if isinstance(item, EventEnvelope) else None
    return (
        str(item.event_id).encode(),
        value,
        list(_headers(item.dataset, item.partner, item.schema_version, value is not None, scheme)),
    )


@lru_cache(maxsize=1024)
def _headers(
    dataset: str, partner: str, schema_version: int, event: bool, scheme: str | None
) -> tuple[tuple[str, bytes], ...]:
    """The headers of a record (the same for every event of a dataset, partner, schema version and id scheme)."""
    headers = (
        ("dataset", dataset.encode()),
        ("partner", partner.encode()),
        ("schema_version", str(schema_version).encode()),
        ("envelope_version", str(ENVELOPE_VERSION).encode()),
        ("content_type", b"application/json") if event else ("retraction", b"1"),
    )
    return headers if scheme is None else (*headers, (id_scheme.HEADER, scheme.encode()))


@dataclass(frozen=True, slots=True)
class Message:
    """An event or a retraction with its Kafka record, serialised once: what `publish_file` hands to `send`."""

    item: EventEnvelope | Retraction
    key: bytes
    value: bytes | None
    headers: list[tuple[str, bytes]]

    @classmethod
    def of(cls, item: EventEnvelope | Retraction, scheme: str | None = None) -> Message:
        """`item`'s record, its id made under `scheme` (None: no scheme header)."""
        return cls(item, *record(item, scheme))

    def fits(self, limit: int) -> bool:
        """Whether `record_size` of this record is at most `limit`: worked out exactly only when a cheap upper
        bound of it (every length varint at its 5-byte maximum) is over the limit."""
        headers = self.headers
        payload = len(self.key) + len(self.value or b"") + sum(len(k.encode()) + len(v) for k, v in headers)
        if payload + _FIXED_OVERHEAD + _VARINT_MAX * (3 + 2 * len(headers)) <= limit:
            return True
        return record_size(self.key, self.value, headers) <= limit


class Outbound(Protocol):
    """What `Publisher.send` needs of a record: a Message, or one serialised by `producers.row_process`."""

    @property
    def key(self) -> bytes: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> list[tuple[str, bytes]]: ...


_FIXED_OVERHEAD = DefaultRecordBatchBuilder.HEADER_STRUCT.size + DefaultRecordBatchBuilder.MAX_RECORD_OVERHEAD
_VARINT_MAX = 5  # bytes of a varint length below 2**31


def record_size(key: bytes, value: bytes | None, headers: list[tuple[str, bytes]]) -> int:
    """The bytes of the record batch that carries this record alone (kafka-python's upper bound, which it checks
    against max_request_size as the broker checks the batch against message.max.bytes)."""
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


Refused = tuple[str, int | None, Outbound]  # topic, source row, message
SEND_TIMEOUT_S = 60  # for a record re-sent alone after the broker refused one as too large


class Publisher:
    """Sends envelopes keyed by event id, with dataset, partner and schema version in the headers, signed in as
    `access`'s principal (a partner may write only its own topics).

    Counts what the broker acknowledged (`delivered`); lists the source rows of records too large for the client's
    or the broker's maximum message size (`too_large`) and the error names of any other undelivered record
    (`failed`). When the broker refuses a record as too large, kafka-python's idempotent producer aborts every
    record after it: the publisher then starts a new producer and re-sends those records one by one, so that only
    the records the broker refuses on their own are reported as too large (a re-sent record the broker had
    written before the abort is then on the topic twice, under the same event id).
    """

    def __init__(
        self, access: BrokerAccess, client_id: str = "hub-publisher", max_message_bytes: int = MAX_MESSAGE_BYTES
    ) -> None:
        self._config: dict[str, Any] = {
            **access.kafka_python(),
            "client_id": client_id,
            "max_request_size": max_message_bytes,
            **PRODUCER_SETTINGS,
        }
        self._producer = KafkaProducer(**self._config)
        self._lock = threading.Lock()
        self._refused: list[Refused] = []  # refused as too large by the broker, to be re-sent alone
        self.delivered = 0
        self.failed: list[str] = []
        self.too_large: list[int | None] = []

    def _ok(self, _metadata: object) -> None:
        with self._lock:
            self.delivered += 1

    def _error(self, refused: Refused, exc: BaseException) -> None:
        with self._lock:
            if isinstance(exc, MessageSizeTooLargeError):
                self._refused.append(refused)
            else:
                self.failed.append(type(exc).__name__)

    def send(self, topic: str, message: Outbound, row: int | None = None) -> None:
        """An event (JSON value) or a retraction (null value: a tombstone), keyed by the event id, as serialised in
        `message`; `row` is the source row it came from, reported in `too_large` if the record is refused for its
        size."""
        if self._refused:
            self._recover()
        try:
            future = self._producer.send(topic, key=message.key, value=message.value, headers=message.headers)
        except MessageSizeTooLargeError:  # over max_request_size: refused by the client, the producer unharmed
            self.too_large.append(row)
            return
        future.add_callback(self._ok)
        future.add_errback(partial(self._error, (topic, row, message)))

    def _recover(self) -> None:
        """After the broker refused a record as too large: let the aborted producer finish, then re-send each
        refused record alone on a new producer (a new one again after each record the broker refuses)."""
        self._producer.flush()
        self._producer.close()
        with self._lock:
            refused, self._refused = self._refused, []
        self._producer = KafkaProducer(**self._config)
        for topic, row, message in refused:
            try:
                self._producer.send(topic, key=message.key, value=message.value, headers=message.headers).get(
                    timeout=SEND_TIMEOUT_S
                )
            except MessageSizeTooLargeError:
                self.too_large.append(row)
                self._producer.close()
                self._producer = KafkaProducer(**self._config)
            except KafkaError as exc:
                self.failed.append(type(exc).__name__)
            else:
                self.delivered += 1

    def flush(self) -> None:
        self._producer.flush()
        while self._refused:
            self._recover()

    def close(self) -> None:
        self.flush()
        self._producer.close()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
