"""Events are bound to the partner whose topic carries them: on the real broker and database, with the real worker.

Partner A publishes an event; partner B then sends, on B's own topic, an envelope naming A, a tombstone for A's event
and an event of its own carrying A's event id. Each of B's messages is dead-lettered with its reason, and A's event
is left exactly as it was; A's own tombstone then removes it. A partner topic created after the worker started is
consumed too, a worker started before there is any partner topic waits for the first, and `hub publish` stops at
once, naming the topic, when its topic cannot be created.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from deploy.broker_principals import BrokerAdmin, ensure_worker
from deploy.home_secrets import new_password
from deploy.settings import KafkaSettings
from deploy.topics import partner_topics
from producers.feed_registry import get_feed
from producers.publish import PublishSummary, SourceOptions, envelopes, unlinked
from producers.publisher import record
from sharing_protocols.envelope import EventEnvelope
from tests.support.hub import HubEnv, Worker, client_env
from tests.support.open_data import EASTBOURNE_STREET

pytestmark = pytest.mark.integration

DATASET = "police-uk-street"
A = "police-uk"  # both are data owners of the dataset in the packaged protocols
B = "sussex-police"
C = "no-grant-partner"  # no protocol grants its events: each is withheld
LATE = "late-partner"  # no topic until after the worker has started


@dataclass(frozen=True)
class Sent:
    """Where a message was written: topic, partition, offset."""

    topic: str
    partition: int
    offset: int


def _envelopes(shared_data: Path, partner: str, count: int) -> list[EventEnvelope]:
    """The first `count` events of the Eastbourne fixture as `partner` would publish them."""
    feed = get_feed(DATASET)
    path = shared_data / EASTBOURNE_STREET
    found = envelopes(feed, path, SourceOptions(partner, unlinked), PublishSummary(str(path), DATASET))
    return [next(found) for _ in range(count)]


class Producer:
    """kafka-python as each partner's own client: signed in as the partner's principal (made on first use, as
    `hub partners add` does), which may write only its own topic; each send waits for the broker's acknowledgement."""

    def __init__(self, hub: HubEnv) -> None:
        self.hub = hub
        self._producers: dict[str, KafkaProducer] = {}

    def _as(self, partner: str) -> KafkaProducer:
        if partner not in self._producers:
            access = self.hub.partner(partner, [DATASET])
            self._producers[partner] = KafkaProducer(**access.kafka_python(), acks="all", enable_idempotence=True)
        return self._producers[partner]

    def send(self, partner: str, key: bytes, value: bytes | None, headers: list[tuple[str, bytes]]) -> Sent:
        topic = self.hub.kafka.partner_topic(DATASET, partner)
        meta = self._as(partner).send(topic, key=key, value=value, headers=headers).get(timeout=30)
        return Sent(topic, meta.partition, meta.offset)

    def event(self, partner: str, envelope: EventEnvelope) -> Sent:
        return self.send(partner, *record(envelope))

    def tombstone(self, partner: str, event_id: uuid.UUID) -> Sent:
        return self.send(partner, str(event_id).encode(), None, [("retraction", b"1")])

    def close(self) -> None:
        for producer in self._producers.values():
            producer.close()


@dataclass(frozen=True)
class Binding:
    """A's event, what B sent against it, and the event's warehouse row before and after B's messages."""

    event: EventEnvelope
    forged: Sent
    foreign_tombstone: Sent
    conflict: Sent
    withheld_conflict: Sent
    before: tuple[Any, ...]
    after: list[tuple[Any, ...]]


_ROW = "SELECT partner, dataset, category, content_hash, source_topic, source_offset FROM event WHERE event_id = :e"


@pytest.fixture(scope="module")
def producer(hub_env: HubEnv) -> Iterator[Producer]:
    sender = Producer(hub_env)
    yield sender
    sender.close()


@pytest.fixture(scope="module")
def binding(hub_env: HubEnv, worker: Worker, producer: Producer, shared_data: Path) -> Binding:
    event, other = _envelopes(shared_data, A, 2)
    producer.event(A, event)
    worker.wait_until_loaded()
    [before] = hub_env.query(_ROW, e=event.event_id)
    # B's messages, on B's own topic, once A's event is stored.
    forged = producer.event(B, other)  # an envelope naming partner A
    foreign_tombstone = producer.tombstone(B, event.event_id)
    own = event.model_copy(update={"partner": B, "category": "burglary"})  # B's event with A's event id
    conflict = producer.event(B, own)
    # C's event with A's id would be withheld: withholding it must not withdraw A's event either.
    withheld_conflict = producer.event(C, event.model_copy(update={"partner": C}))
    worker.wait_until_loaded()
    after = hub_env.query(_ROW, e=event.event_id)
    return Binding(event, forged, foreign_tombstone, conflict, withheld_conflict, before, after)


def _dead_letter(hub_env: HubEnv, sent: Sent) -> tuple[Any, ...]:
    [row] = hub_env.query(
        "SELECT reason, dataset, partner, event_key FROM dead_letter "
        "WHERE source_topic = :t AND source_partition = :p AND source_offset = :o",
        t=sent.topic,
        p=sent.partition,
        o=sent.offset,
    )
    return row


def test_partner_as_event_is_loaded_from_its_own_topic(binding: Binding, hub_env: HubEnv) -> None:
    assert binding.before[:2] == (A, DATASET)
    assert binding.before[4] == hub_env.kafka.partner_topic(DATASET, A)


def test_an_envelope_naming_another_partner_is_dead_lettered_as_partner_mismatch(
    binding: Binding, hub_env: HubEnv
) -> None:
    reason, dataset, partner, _ = _dead_letter(hub_env, binding.forged)
    assert reason == f"partner_mismatch: the envelope names partner {A!r} on a topic of partner {B!r}"
    assert (dataset, partner) == (DATASET, B)  # put down to the partner whose topic carried it


def test_a_tombstone_on_another_partners_topic_leaves_the_event_in_the_warehouse(binding: Binding) -> None:
    assert binding.after == [binding.before]


def test_the_foreign_tombstone_is_dead_lettered_and_not_recorded_as_a_retraction(
    binding: Binding, hub_env: HubEnv
) -> None:
    reason, dataset, partner, key = _dead_letter(hub_env, binding.foreign_tombstone)
    assert reason.startswith(f"retraction_not_publisher: partner {B!r}")
    assert (dataset, partner, key) == (DATASET, B, str(binding.event.event_id))
    assert hub_env.query("SELECT count(*) FROM retraction WHERE event_id = :e", e=binding.event.event_id) == [(0,)]


def test_another_partners_event_with_the_same_id_is_dead_lettered_and_changes_nothing(
    binding: Binding, hub_env: HubEnv
) -> None:
    reason, _, partner, key = _dead_letter(hub_env, binding.conflict)
    assert reason.startswith(f"event_id_conflict: the event id belongs to partner {A!r}")
    assert (partner, key) == (B, str(binding.event.event_id))
    decided = hub_env.query("SELECT DISTINCT partner FROM decision WHERE event_id = :e", e=binding.event.event_id)
    assert decided == [(A,)]  # neither B's nor C's version was decided on


def test_another_partners_withheld_event_with_the_same_id_does_not_withdraw_it(
    binding: Binding, hub_env: HubEnv
) -> None:
    reason, _, partner, _ = _dead_letter(hub_env, binding.withheld_conflict)
    assert reason.startswith(f"event_id_conflict: the event id belongs to partner {A!r}")
    assert partner == C
    assert binding.after == [binding.before]


def test_dead_letters_reach_the_dead_letter_topic_with_their_reason(binding: Binding, hub_env: HubEnv) -> None:
    consumer = KafkaConsumer(
        hub_env.kafka.dead_letter_topic,
        **hub_env.admin.kafka_python(),
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
    )
    reasons = {
        dict(m.headers)["dlq.source"].decode(): dict(m.headers)["dlq.reason"].decode().split(":")[0] for m in consumer
    }
    consumer.close()
    expected = {
        binding.forged: "partner_mismatch",
        binding.foreign_tombstone: "retraction_not_publisher",
        binding.conflict: "event_id_conflict",
        binding.withheld_conflict: "event_id_conflict",
    }
    for sent, reason in expected.items():
        assert reasons[f"{sent.topic}/{sent.partition}/{sent.offset}"] == reason


@pytest.fixture(scope="module")
def own_retraction(binding: Binding, hub_env: HubEnv, worker: Worker, producer: Producer) -> Sent:
    sent = producer.tombstone(A, binding.event.event_id)
    worker.wait_until_loaded()
    return sent


def test_the_publishers_own_tombstone_removes_the_event(
    own_retraction: Sent, binding: Binding, hub_env: HubEnv
) -> None:
    assert hub_env.query(_ROW, e=binding.event.event_id) == []
    retractions = hub_env.query(
        "SELECT partner, dataset, removed, source_offset FROM retraction WHERE event_id = :e", e=binding.event.event_id
    )
    assert retractions == [(A, DATASET, True, own_retraction.offset)]


@dataclass(frozen=True)
class Late:
    """A partner topic made after the worker started, and what became of its events."""

    existed_before: bool
    published: int
    decided: int
    log: str


@pytest.fixture(scope="module")
def late(
    own_retraction: Sent, hub_env: HubEnv, worker: Worker, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Late:
    topic = hub_env.kafka.partner_topic(DATASET, LATE)
    existed = topic in partner_topics(hub_env.kafka, hub_env.admin)
    lines = (shared_data / EASTBOURNE_STREET).read_text(encoding="utf-8").splitlines()[:6]
    path = tmp_path_factory.mktemp("late") / "late.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    access = hub_env.partner(LATE, [DATASET])  # a partner added while the worker runs, publishing as itself
    done = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "publish", DATASET, str(path), "--partner", LATE],
        env={**os.environ, **hub_env.env, **client_env(access)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    worker.wait_until_loaded()
    [(decided,)] = hub_env.query("SELECT count(*) FROM decision WHERE partner = :p", p=LATE)
    return Late(existed, len(lines) - 1, decided, worker.log.read_text(encoding="utf-8"))


def test_a_topic_created_after_the_worker_started_is_consumed(late: Late) -> None:
    assert not late.existed_before
    assert late.decided == late.published  # every event of the new topic reached a decision (here: withheld)


def test_the_worker_says_when_it_subscribes_to_a_new_topic(late: Late, hub_env: HubEnv) -> None:
    assert f"new partner topic(s): {hub_env.kafka.partner_topic(DATASET, LATE)}" in late.log


def test_publish_stops_at_once_naming_a_topic_that_cannot_be_created(hub_env: HubEnv, tmp_path: Path) -> None:
    prefix = "x" * 230  # the broker refuses topic names longer than 249 characters
    path = tmp_path / "one.csv"
    path.write_text("Crime ID,Month\n", encoding="utf-8")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "publish", DATASET, str(path)],
        env={**os.environ, **hub_env.env, "HUB_KAFKA_TOPIC_PREFIX": prefix},
        capture_output=True,
        text=True,
        timeout=120,
    )
    topic = f"{prefix}.events.{DATASET}.{get_feed(DATASET).default_partner}"
    assert done.returncode == 2, done.stderr
    assert time.monotonic() - started < 30
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"topic {topic} does not exist and could not be created (")
    assert line.endswith("the hub operator creates a partner's topics with `hub partners add`")


def test_a_worker_started_before_any_partner_topic_exists_waits_then_consumes_the_first(
    hub_env: HubEnv, shared_data: Path, tmp_path: Path
) -> None:
    prefix = f"{hub_env.prefix}w"  # a deployment of its own on the broker (the same warehouse), with no topics yet
    kafka = KafkaSettings(bootstrap=hub_env.kafka.bootstrap, topic_prefix=prefix)
    password = new_password()  # this deployment's own worker principal, as `hub up` makes one
    with BrokerAdmin(hub_env.admin, client_id="tests-worker") as admin:
        principal = ensure_worker(admin, prefix, password)
    fresh = replace(
        hub_env,
        prefix=prefix,
        kafka=kafka,
        env={**hub_env.env, "HUB_KAFKA_TOPIC_PREFIX": prefix},
        worker_env={"HUB_KAFKA_USERNAME": principal, "HUB_KAFKA_PASSWORD": password},
    )
    worker = Worker(fresh, tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 60
        while "no partner topics on the broker yet" not in worker.log.read_text(encoding="utf-8"):
            assert worker.process.poll() is None, worker.log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "the worker never said it was waiting"
            time.sleep(0.5)
        path = tmp_path / "first.csv"
        lines = (shared_data / EASTBOURNE_STREET).read_text(encoding="utf-8").splitlines()[:4]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "deploy.cli", "publish", DATASET, str(path), "--partner", "first-partner"],
            env={**os.environ, **fresh.env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        worker.wait_until_loaded()
        assert hub_env.query("SELECT count(*) FROM decision WHERE partner = 'first-partner'") == [(len(lines) - 1,)]
    finally:
        worker.stop()
        with BrokerAdmin(hub_env.admin, client_id="tests-worker") as principals:
            principals.seal_credential(principal)
            principals.revoke(principal)
        cleanup = KafkaAdminClient(**hub_env.admin.kafka_python(), client_id="hub-test-cleanup")
        cleanup.delete_topics([name for name in cleanup.list_topics() if name.startswith((f"{prefix}.", f"{prefix}-"))])
        cleanup.close()
