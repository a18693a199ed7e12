"""Creates the hub's topics (named by sharing_protocols.topics) on the configured cluster."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from broker_access.credentials import BrokerAccess
from deploy.settings import KafkaSettings, broker_access
from sharing_protocols.topics import dataset_topics


def hub_topics(kafka: KafkaSettings) -> list[str]:
    """Every dataset topic, plus the dead-letter topic."""
    return [*dataset_topics(kafka.topic_prefix), kafka.dead_letter_topic]


def ensure_topics(
    kafka: KafkaSettings, topics: Iterable[str] | None = None, access: BrokerAccess | None = None
) -> None:
    """Create any of `topics` (default: all the hub's) that the cluster does not have yet, signed in as `access`
    (default: the operator's, broker_access("admin")); only a principal allowed to create topics may."""
    names = list(topics) if topics is not None else hub_topics(kafka)
    admin = KafkaAdminClient(**(access or broker_access("admin")).kafka_python(), client_id="hub-admin")
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(name, num_partitions=kafka.partitions, replication_factor=1)
            for name in names
            if name not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(wanted)
    finally:
        admin.close()
