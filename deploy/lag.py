"""How far the warehouse loader is behind the partner topics (committed offsets against end offsets)."""

from __future__ import annotations

import time

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from broker_access.credentials import BrokerAccess
from deploy.settings import KafkaSettings, broker_access
from sharing_protocols.topics import topic_source
from stream_processors.settings import loader_group


class LagReader:
    """Reads the loader's lag again and again on one pair of broker clients (made at the first read, made anew after
    a broker error), so a watch that asks every few seconds does not sign in twice per read."""

    def __init__(self, kafka: KafkaSettings, access: BrokerAccess | None = None) -> None:
        self._kafka = kafka
        self._options = (access or broker_access("admin")).kafka_python()
        self._clients: tuple[KafkaConsumer, KafkaAdminClient] | None = None

    def read(self) -> dict[str, int]:
        """Messages on each of the deployment's partner topics (all there are now) not yet committed by the loader.

        A partition the loader has committed nothing on counts from its beginning, so a topic created since the
        loader last looked counts in full until the loader subscribes to it and catches up.
        """
        if self._clients is None:
            consumer = KafkaConsumer(**self._options, client_id="hub-lag")
            try:
                self._clients = consumer, KafkaAdminClient(**self._options, client_id="hub-lag")
            except BaseException:
                consumer.close()
                raise
        try:
            return self._read(*self._clients)
        except BaseException:
            self.close()
            raise

    def total(self, patience: float = 0.0, pause: float = 0.2) -> int:
        """All the partner topics' lag in one figure (`read`); a retriable broker error (a new broker has no group
        coordinator for a moment) is read again every `pause` seconds for up to `patience` seconds."""
        deadline = time.monotonic() + patience
        while True:
            try:
                return sum(self.read().values())
            except KafkaError as exc:
                if not exc.retriable or time.monotonic() >= deadline:
                    raise
                time.sleep(pause)

    def _read(self, consumer: KafkaConsumer, admin: KafkaAdminClient) -> dict[str, int]:
        topics = sorted(name for name in consumer.topics() if topic_source(self._kafka.topic_prefix, name) is not None)
        partitions = [
            TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        lag = dict.fromkeys(topics, 0)
        if not partitions:
            return lag
        ends = consumer.end_offsets(partitions)
        begins = consumer.beginning_offsets(partitions)
        group = loader_group(self._kafka.topic_prefix)
        committed = admin.list_group_offsets({group: partitions}).get(group, {})
        for tp in partitions:
            meta = committed.get(tp)
            done = meta.offset if meta is not None and meta.offset >= 0 else begins[tp]
            lag[tp.topic] += max(0, ends[tp] - done)
        return lag

    def close(self) -> None:
        """Close the clients (the next read makes new ones)."""
        if self._clients is not None:
            consumer, admin = self._clients
            self._clients = None
            consumer.close()
            admin.close()


def lag_by_topic(kafka: KafkaSettings, access: BrokerAccess | None = None) -> dict[str, int]:
    """One read of `LagReader` (as `access`, default the operator's: the worker's principal may ask too), its
    clients closed after."""
    reader = LagReader(kafka, access)
    try:
        return reader.read()
    finally:
        reader.close()


def wait_for_loader(kafka: KafkaSettings, timeout: float, poll: float = 1.0, access: BrokerAccess | None = None) -> int:
    """Wait until the loader has committed everything on the partner topics; returns the lag left (0 when caught up).

    Retriable broker errors (a new broker has no group coordinator for a moment) are waited out.
    """
    reader = LagReader(kafka, access)
    deadline = time.monotonic() + timeout
    try:
        while True:
            lag = reader.total(patience=max(0.0, deadline - time.monotonic()), pause=poll)
            if lag == 0 or time.monotonic() >= deadline:
                return lag
            time.sleep(poll)
    finally:
        reader.close()
