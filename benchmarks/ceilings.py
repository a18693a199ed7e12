"""The hub's payloads and a bare kafka-python send loop of them: the producer's ceiling (the consumers' ceilings:
benchmarks/faust_noop.py)."""

from __future__ import annotations

import time
from pathlib import Path

from kafka import KafkaProducer

from broker_access.credentials import BrokerAccess
from producers.feed_registry import get_feed
from producers.publish import PublishSummary, SourceOptions, envelopes, unlinked


def payloads(csv_path: Path, count: int) -> list[tuple[bytes, bytes]]:
    """(key, value) of the first `count` envelopes `hub publish` would send for the file."""
    feed = get_feed("police-uk-street")
    out = []
    options = SourceOptions(feed.default_partner, unlinked)
    for envelope in envelopes(feed, csv_path, options, PublishSummary(str(csv_path), feed.name)):
        out.append((str(envelope.event_id).encode(), envelope.to_bytes()))
        if len(out) == count:
            break
    return out


def kafka_python_send(access: BrokerAccess, topic: str, items: list[tuple[bytes, bytes]]) -> float:
    """Messages/s of a plain kafka-python loop (idempotent, acks=all, SASL_SSL as `access`), flushed."""
    producer = KafkaProducer(
        **access.kafka_python(), enable_idempotence=True, acks="all", linger_ms=20, batch_size=512 * 1024
    )
    started = time.perf_counter()
    for key, value in items:
        producer.send(topic, key=key, value=value)
    producer.flush()
    elapsed = time.perf_counter() - started
    producer.close()
    return len(items) / elapsed
