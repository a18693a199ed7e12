"""Record keys for the cell key method, on the real broker and database with the real worker.

Events of the Eastbourne fixture are published, then new versions of some of them (another category; another
month, which moves the event to another partition of `event`): every event keeps the record key it got when first
loaded, and the keys of all the events are spread evenly over 0..65535.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kafka import KafkaProducer

from producers.feed_registry import get_feed
from producers.publish import PublishSummary, SourceOptions, envelopes, unlinked
from producers.publisher import record
from sharing_protocols.envelope import EventEnvelope, OccurrencePeriod
from sharing_protocols.perturbation import RECORD_KEY_MODULUS
from tests.support.hub import HubEnv, Worker
from tests.support.open_data import EASTBOURNE_STREET

pytestmark = pytest.mark.integration

DATASET = "police-uk-street"
PARTNER = "police-uk"


def _envelopes(shared_data: Path) -> list[EventEnvelope]:
    feed = get_feed(DATASET)
    path = shared_data / EASTBOURNE_STREET
    return list(envelopes(feed, path, SourceOptions(PARTNER, unlinked), PublishSummary(str(path), DATASET)))


@pytest.fixture(scope="module")
def producer(hub_env: HubEnv) -> Iterator[KafkaProducer]:
    access = hub_env.partner(PARTNER, [DATASET])
    sender = KafkaProducer(**access.kafka_python(), acks="all", enable_idempotence=True)
    yield sender
    sender.close()


def _publish(hub_env: HubEnv, producer: KafkaProducer, events: list[EventEnvelope]) -> None:
    topic = hub_env.kafka.partner_topic(DATASET, PARTNER)
    for event in events:
        key, value, headers = record(event)
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush(timeout=60)


Stored = dict[object, tuple[int, object, object, object]]  # event id: record key, category, month, content hash


@dataclass(frozen=True)
class Loaded:
    """The events published, and what was stored after the first versions and after the later ones."""

    events: list[EventEnvelope]
    first: Stored
    second: Stored


def _keys(hub_env: HubEnv) -> Stored:
    rows = hub_env.query("SELECT event_id, record_key, category, period_month, content_hash FROM event")
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, worker: Worker, producer: KafkaProducer, shared_data: Path) -> Loaded:
    events = _envelopes(shared_data)
    _publish(hub_env, producer, events)
    worker.wait_until_loaded()
    first = _keys(hub_env)
    recategorised = [
        e.model_copy(update={"category": "burglary" if e.category != "burglary" else "robbery"}) for e in events[:40]
    ]
    moved = [e.model_copy(update={"occurred": OccurrencePeriod.month(2019, 2)}) for e in events[40:60]]
    _publish(hub_env, producer, recategorised + moved)
    worker.wait_until_loaded()
    return Loaded(events, first, _keys(hub_env))


def test_every_loaded_event_has_a_record_key_in_range(loaded: Loaded) -> None:
    first = loaded.first
    assert len(first) >= 300  # the fixture's located and unlocated events
    assert all(0 <= key < RECORD_KEY_MODULUS for key, *_ in first.values())


def test_a_later_version_of_an_event_keeps_its_record_key(loaded: Loaded) -> None:
    events, first, second = loaded.events, loaded.first, loaded.second
    changed = [e.event_id for e in events[:60] if e.event_id in first]
    assert len(changed) >= 50
    for event_id in changed:
        assert second[event_id][3] != first[event_id][3]  # the content really changed: a new version was stored
        assert second[event_id][0] == first[event_id][0]
    moved = [e.event_id for e in events[40:60] if e.event_id in first]
    assert {str(second[i][2]) for i in moved} == {"2019-02-01"}  # moved to another month's partition
    assert {i: first[i][0] for i in first} == {i: second[i][0] for i in second}  # no other key changed either


def test_record_keys_are_spread_evenly(loaded: Loaded) -> None:
    first = loaded.first
    keys = [key for key, *_ in first.values()]
    expected = len(keys) / 8
    bins = Counter(k * 8 // RECORD_KEY_MODULUS for k in keys)
    chi2 = sum((bins[b] - expected) ** 2 / expected for b in range(8))
    assert chi2 < 24.3  # the 0.999 quantile of chi-square with 7 degrees of freedom
    assert len(set(keys)) > 0.98 * len(keys)  # a few hundred draws of 65,536 values rarely repeat
