"""How far the warehouse loader is behind the topics (committed offsets against end offsets)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from broker_access.credentials import BrokerAccess
from deploy.settings import KafkaSettings, broker_access
from stream_processors.settings import loader_group


def consumer_lag(kafka: KafkaSettings, topics: Iterable[str], access: BrokerAccess | None = None) -> int:
    """Messages on `topics` not yet committed by the loader (all of them while it has committed nothing), asked as
    `access` (default: the operator's, broker_access("admin"))."""
    options = (access or broker_access("admin")).kafka_python()
    consumer = KafkaConsumer(**options, client_id="hub-lag")
    admin = KafkaAdminClient(**options, client_id="hub-lag")
    try:
        partitions = [
            TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        if not partitions:
            return 0
        ends = consumer.end_offsets(partitions)
        begins = consumer.beginning_offsets(partitions)
        group = loader_group(kafka.topic_prefix)
        committed = admin.list_group_offsets({group: partitions}).get(group, {})
        lag = 0
        for tp in partitions:
            meta = committed.get(tp)
            done = meta.offset if meta is not None and meta.offset >= 0 else begins[tp]
            lag += max(0, ends[tp] - done)
        return lag
    finally:
        consumer.close()
        admin.close()


def wait_for_loader(
    kafka: KafkaSettings,
    topics: Iterable[str],
    timeout: float,
    poll: float = 1.0,
    access: BrokerAccess | None = None,
) -> int:
    """Wait until the loader has committed everything on `topics`; returns the lag left (0 when caught up).

    Retriable broker errors (a new broker has no group coordinator for a moment) are waited out.
    """
    names, access = list(topics), access or broker_access("admin")
    deadline = time.monotonic() + timeout
    while True:
        try:
            lag = consumer_lag(kafka, names, access)
        except KafkaError as exc:
            if not exc.retriable or time.monotonic() >= deadline:
                raise
            lag = -1  # e.g. the group coordinator is not there yet on a new broker
        if lag == 0 or time.monotonic() >= deadline:
            return lag
        time.sleep(poll)
