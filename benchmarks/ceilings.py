"""The libraries' own ceilings on the hub's payloads: a bare kafka-python send loop and a no-op faust agent."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

from kafka import KafkaProducer

from broker_access.credentials import BrokerAccess
from deploy.broker_principals import BrokerAdmin
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


def faust_noop_consume(topic: str, count: int) -> float:
    """Events/s of a faust agent that does nothing but count (a subprocess: faust owns its event loop; it signs in
    as the operator, from HUB_KAFKA_* or the embedded hub's home)."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.faust_noop", topic, str(count)],
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )
    rates = re.findall(r"^(\d+)$", result.stdout, flags=re.MULTILINE)
    return float(rates[-1])


def run(access: BrokerAccess, csv_path: Path, count: int, partitions: int) -> tuple[float, float]:
    """The two ceilings on a new topic (the broker creates no topic by itself), as the operator `access`."""
    topic = f"ceiling-{uuid.uuid4().hex[:8]}"
    with BrokerAdmin(access, client_id="bench-ceilings") as admin:
        admin.create_topics([topic], partitions)
    items = payloads(csv_path, count)
    send = kafka_python_send(access, topic, items)
    return send, faust_noop_consume(topic, count)
