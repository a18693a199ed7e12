"""How far the warehouse loader is behind the partner topics (committed offsets against end offsets)."""

from __future__ import annotations

import time

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from broker_access.credentials import BrokerAccess
from deploy.settings import KafkaSettings, broker_access
from sharing_protocols.topics import topic_source
from stream_processors.settings import loader_group


def lag_by_topic(kafka: KafkaSettings, access: BrokerAccess | None = None) -> dict[str, int]:
    """Messages on each of the deployment's partner topics (all there are now) not yet committed by the loader,
    asked as `access` (default: the operator's, broker_access("admin"); the worker's principal may ask too).

    A partition the loader has committed nothing on counts from its beginning, so a topic created since the loader
    last looked counts in full until the loader subscribes to it and catches up.
    """
    options = (access or broker_access("admin")).kafka_python()
    consumer = KafkaConsumer(**options, client_id="hub-lag")
    admin = KafkaAdminClient(**options, client_id="hub-lag")
    try:
        topics = sorted(name for name in consumer.topics() if topic_source(kafka.topic_prefix, name) is not None)
        partitions = [
            TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        lag = dict.fromkeys(topics, 0)
        if not partitions:
            return lag
        ends = consumer.end_offsets(partitions)
        begins = consumer.beginning_offsets(partitions)
        group = loader_group(kafka.topic_prefix)
        committed = admin.list_group_offsets({group: partitions}).get(group, {})
        for tp in partitions:
            meta = committed.get(tp)
            done = meta.offset if meta is not None and meta.offset >= 0 else begins[tp]
            lag[tp.topic] += max(0, ends[tp] - done)
        return lag
    finally:
        consumer.close()
        admin.close()


def consumer_lag(kafka: KafkaSettings, access: BrokerAccess | None = None) -> int:
    """Messages on the deployment's partner topics not yet committed by the loader, in all (`lag_by_topic`)."""
    return sum(lag_by_topic(kafka, access).values())


def wait_for_loader(kafka: KafkaSettings, timeout: float, poll: float = 1.0, access: BrokerAccess | None = None) -> int:
    """Wait until the loader has committed everything on the partner topics; returns the lag left (0 when caught up).

    Retriable broker errors (a new broker has no group coordinator for a moment) are waited out.
    """
    access = access or broker_access("admin")
    deadline = time.monotonic() + timeout
    while True:
        try:
            lag = consumer_lag(kafka, access)
        except KafkaError as exc:
            if not exc.retriable or time.monotonic() >= deadline:
                raise
            lag = -1  # e.g. the group coordinator is not there yet on a new broker
        if lag == 0 or time.monotonic() >= deadline:
            return lag
        time.sleep(poll)
