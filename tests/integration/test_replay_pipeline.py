"""A replay's batches through the loader's two stages (stream_processors.replay, .pipeline), on the real broker: they
reach the warehouse in the topic's order, and once one cannot be written the replay stops with that batch's own error
and no later batch is written.

The messages are real records on a real topic; the sink is the stand-in of tests/unit/stream_processors/
test_batch_pipeline.py (it records the offsets of each write and fails the writes it is told to).
"""

from __future__ import annotations

import psycopg
import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from sharing_protocols.topics import partner_topic
from stream_processors.loader import Loader
from stream_processors.replay import extents, replay
from tests.support.hub import HubEnv
from tests.unit.stream_processors.test_batch import REGISTER, WARDS, _message
from tests.unit.stream_processors.test_batch_pipeline import GatedSink

MESSAGES = 230
BATCH = 50


@pytest.fixture(scope="module")
def topic(hub_env: HubEnv) -> str:
    """A partner topic of this hub holding MESSAGES events of partner "p" (offsets 0 to MESSAGES - 1)."""
    name = partner_topic(hub_env.prefix, "police-uk-street", "p")
    admin = KafkaAdminClient(**hub_env.admin.kafka_python())
    try:
        admin.create_topics([NewTopic(name, 1, 1)])
    finally:
        admin.close()
    producer = KafkaProducer(**hub_env.admin.kafka_python(), acks="all", enable_idempotence=True)
    for offset in range(MESSAGES):
        message = _message(offset, None, on=name)
        producer.send(name, key=message.key, value=message.value)
    producer.flush()
    producer.close()
    return name


def _replayed(hub_env: HubEnv, topic: str, sink: GatedSink) -> None:
    loader = Loader(hub_env.prefix, WARDS, sink, 0.1, REGISTER)
    replay(hub_env.admin, extents(hub_env.admin, [topic]), loader, BATCH)


def test_every_batch_is_written_once_in_the_topic_s_order(hub_env: HubEnv, topic: str) -> None:
    sink = GatedSink()
    _replayed(hub_env, topic, sink)
    written = [offset for offsets in sink.committed for offset in offsets]
    assert written == list(range(MESSAGES))
    assert all(len(offsets) <= BATCH for offsets in sink.committed)
    assert len(sink.committed) >= MESSAGES // BATCH


def test_a_batch_that_cannot_be_written_stops_the_replay_and_nothing_later_is_written(
    hub_env: HubEnv, topic: str
) -> None:
    sink = GatedSink(fail={120})
    with pytest.raises(psycopg.errors.UndefinedTable):  # the failing batch's own error, not a later batch's
        _replayed(hub_env, topic, sink)
    committed = [offset for offsets in sink.committed for offset in offsets]
    assert committed == list(range(committed[-1] + 1)) and committed[-1] < 120  # every batch before it, in order
    assert max(offset for offsets in sink.attempts for offset in offsets) < 120 + BATCH  # none after it tried
