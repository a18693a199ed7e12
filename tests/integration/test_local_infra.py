"""The local services `hub up` manages: Kafka and PostGIS are up, reachable and usable.

The services are left running at the end: other integration tests share them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

from deploy.local import create_database, drop_database, ensure_up, status
from deploy.settings import DatabaseSettings, broker_access
from warehouse.schema.db import libpq_url

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def services() -> None:
    ensure_up()


@pytest.fixture
def throwaway_database() -> Iterator[str]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    url = create_database(name, DatabaseSettings().url)
    try:
        yield url
    finally:
        drop_database(name, DatabaseSettings().url)


def test_status_shows_kafka_and_postgres_running() -> None:
    states = status()
    assert set(states) >= {"kafka", "postgres", "worker", "api"}
    for service in ("kafka", "postgres"):
        assert states[service].startswith(("running", "external")), states


def test_throwaway_database_has_postgis(throwaway_database: str) -> None:
    with psycopg.connect(libpq_url(throwaway_database), connect_timeout=10) as conn:
        row = conn.execute("SELECT postgis_version()").fetchone()
    assert row is not None and row[0].startswith("3.")


def test_dropped_database_is_gone() -> None:
    name = f"test_{uuid.uuid4().hex[:12]}"
    base = DatabaseSettings().url  # None: the embedded server, as its superuser
    create_database(name, base)
    drop_database(name, base)
    with psycopg.connect(libpq_url(DatabaseSettings().resolved_url), dbname="postgres", connect_timeout=10) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None


def test_kafka_topic_produce_consume() -> None:
    options = broker_access("admin").kafka_python()  # the operator, over SASL_SSL
    topic = f"test.local-infra.{uuid.uuid4().hex}"
    payload = uuid.uuid4().bytes
    admin = KafkaAdminClient(**options, client_id="test-local-infra")
    try:
        admin.create_topics([NewTopic(name=topic, num_partitions=1, replication_factor=1)])
        producer = KafkaProducer(**options)
        try:
            producer.send(topic, key=b"k", value=payload).get(timeout=30)
        finally:
            producer.close()
        consumer = KafkaConsumer(
            topic,
            **options,
            group_id=None,
            auto_offset_reset="earliest",
            consumer_timeout_ms=30_000,
        )
        try:
            received = next(iter(consumer), None)  # StopIteration after 30 s without a message
        finally:
            consumer.close()
        assert received is not None, f"no message consumed from {topic}"
        assert (received.key, received.value) == (b"k", payload)
    finally:
        admin.delete_topics([topic])
        admin.close()
